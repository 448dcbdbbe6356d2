import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Kafka, logLevel } from 'kafkajs';
import type { InfraSettings } from './settings';
import { InfraError, portOpen, portOwner, readPid, say, sleep, spawnDaemon, stopGroup, tail, which } from './proc';

const C = 'kafka';

interface KafkaPaths {
  home: string;
  libs: string;
  marker: string;
  pom: string;
  data: string;
  props: string;
  log4j: string;
  log: string;
  pid: string;
}

export function kafkaPaths(s: InfraSettings): KafkaPaths {
  const home = join(s.dir, 'kafka');
  return {
    home,
    libs: join(home, `libs-${s.kafkaVersion}`),
    marker: join(home, `libs-${s.kafkaVersion}`, '.resolved'),
    pom: join(home, 'pom.xml'),
    data: join(home, 'data'),
    props: join(home, 'server.properties'),
    log4j: join(home, 'log4j2.yaml'),
    log: join(home, 'server.log'),
    pid: join(home, 'kafka.pid'),
  };
}

/** Java 17 or newer, or a clear message saying what to install. */
function checkJava(): void {
  if (!which('java'))
    throw new InfraError('Java is missing: Kafka 4 needs Java 17 or newer (Debian: apt-get install -y openjdk-17-jre-headless).');
  const r = spawnSync('java', ['-version'], { encoding: 'utf8' });
  const m = /version "(\d+)(?:\.(\d+))?/.exec(`${r.stderr}${r.stdout}`);
  const major = m ? (m[1] === '1' ? Number(m[2]) : Number(m[1])) : 0;
  if (major < 17) throw new InfraError(`Java ${major || '(unknown version)'} found; Kafka 4 needs Java 17 or newer.`);
}

function pomXml(version: string): string {
  // kafka_2.13 brings the broker and, through its POM, every runtime module; log4j-slf4j-impl
  // binds the broker's slf4j 1.7 logging to log4j2 so start-up problems reach server.log.
  return `<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dev.vigil</groupId>
  <artifactId>kafka-runtime</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>${version}</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>2.24.3</version></dependency>
  </dependencies>
</project>
`;
}

/** Resolves the broker's jars with Maven, once; later runs find the marker and need no network. */
export async function resolveKafkaJars(s: InfraSettings): Promise<string> {
  const p = kafkaPaths(s);
  if (existsSync(p.marker)) return p.libs;
  if (!which('mvn')) throw new InfraError('Maven is missing: it resolves Kafka from Maven Central (Debian: apt-get install -y maven).');
  mkdirSync(p.home, { recursive: true });
  rmSync(p.libs, { recursive: true, force: true });
  writeFileSync(p.pom, pomXml(s.kafkaVersion));
  say(C, `resolving Apache Kafka ${s.kafkaVersion} from Maven Central into ${p.libs} (first run only)`);
  const started = Date.now();
  const child = spawn('mvn', ['-B', '-f', p.pom, 'dependency:copy-dependencies', `-DoutputDirectory=${p.libs}`, '-DincludeScope=runtime'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lastLines: string[] = [];
  let downloads = 0;
  const onLine = (line: string) => {
    lastLines.push(line);
    if (lastLines.length > 40) lastLines.shift();
    if (/Downloaded from/.test(line)) {
      downloads++;
      if (downloads % 25 === 0) say(C, `  ${downloads} files downloaded (${Math.round((Date.now() - started) / 1000)} s)`);
    }
  };
  createInterface({ input: child.stdout }).on('line', onLine);
  createInterface({ input: child.stderr }).on('line', onLine);
  const code = await new Promise<number>((r) => child.on('close', (c) => r(c ?? 1)));
  if (code !== 0) {
    const errors = lastLines
      .filter((l) => l.includes('[ERROR]'))
      .slice(0, 8)
      .join('\n');
    throw new InfraError(
      `Maven could not resolve org.apache.kafka:kafka_2.13:${s.kafkaVersion} (exit ${code}). ` +
        `Check network access to Maven Central, a proxy or mirror in ~/.m2/settings.xml, or VIGIL_KAFKA_VERSION.\n${errors || lastLines.slice(-10).join('\n')}`,
    );
  }
  const jars = readdirSync(p.libs).filter((f) => f.endsWith('.jar'));
  if (!jars.some((j) => j.startsWith(`kafka_2.13-${s.kafkaVersion}`)))
    throw new InfraError(`Maven finished but ${p.libs} has no kafka_2.13 jar`);
  writeFileSync(p.marker, `${s.kafkaVersion}\n${jars.length} jars\n`);
  say(C, `resolved ${jars.length} jars in ${Math.round((Date.now() - started) / 1000)} s (${downloads} downloads)`);
  return p.libs;
}

function serverProperties(s: InfraSettings, data: string): string {
  return [
    '# Single-node KRaft broker for local runs and tests. Written by the Vigil infra script.',
    'process.roles=broker,controller',
    'node.id=1',
    `listeners=PLAINTEXT://127.0.0.1:${s.kafkaPort},CONTROLLER://127.0.0.1:${s.controllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${s.kafkaPort}`,
    'controller.listener.names=CONTROLLER',
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    `controller.quorum.bootstrap.servers=127.0.0.1:${s.controllerPort}`,
    `log.dirs=${data}`,
    // Vigil creates its topics itself (the admin step); a typo must not create a topic.
    'auto.create.topics.enable=false',
    'num.partitions=3',
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=10',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'share.coordinator.state.topic.replication.factor=1',
    'share.coordinator.state.topic.min.isr=1',
    // Tests join consumer groups often; no point waiting for more members on one node.
    'group.initial.rebalance.delay.ms=0',
    'log.retention.hours=24',
    '',
  ].join('\n');
}

function log4jYaml(logFile: string): string {
  return `Configuration:
  Appenders:
    File:
      name: file
      fileName: "${logFile}"
      PatternLayout:
        pattern: "[%d] %p %m (%c)%n"
  Loggers:
    Root:
      level: INFO
      AppenderRef:
        - ref: file
    Logger:
      - name: kafka.request.logger
        level: WARN
      - name: org.apache.kafka.controller
        level: WARN
`;
}

async function answersMetadata(brokers: string[], timeoutMs: number): Promise<boolean> {
  const admin = new Kafka({
    brokers,
    clientId: 'vigil-infra',
    logLevel: logLevel.NOTHING,
    connectionTimeout: 2000,
    retry: { retries: 0 },
  }).admin();
  const t = setTimeout(() => void admin.disconnect(), timeoutMs);
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    return cluster.brokers.length > 0;
  } catch {
    return false;
  } finally {
    clearTimeout(t);
    await admin.disconnect().catch(() => undefined);
  }
}

export interface Started {
  /** Broker list or Redis URL the services should use. */
  address: string;
  startedHere: boolean;
}

/** Starts (or reuses) the local broker and waits until it answers a metadata request. */
export async function kafkaUp(s: InfraSettings): Promise<Started> {
  if (s.externalBrokers) {
    const brokers = s.externalBrokers.split(',').map((b) => b.trim());
    if (!(await answersMetadata(brokers, 10_000)))
      throw new InfraError(`KAFKA_BROKERS=${s.externalBrokers} is set but no broker there answers a metadata request`);
    say(C, `using KAFKA_BROKERS=${s.externalBrokers}`);
    return { address: s.externalBrokers, startedHere: false };
  }
  const p = kafkaPaths(s);
  const brokers = `127.0.0.1:${s.kafkaPort}`;
  const running = readPid(p.pid, 'kafka.Kafka');
  if (running) {
    if (await answersMetadata([brokers], 10_000)) {
      say(C, `already running (pid ${running}) on ${brokers}`);
      return { address: brokers, startedHere: false };
    }
    throw new InfraError(
      `a broker started earlier (pid ${running}) is not answering on ${brokers}; run "./vigil infra down" and try again. Log: ${p.log}`,
    );
  }
  checkJava();
  for (const port of [s.kafkaPort, s.controllerPort]) {
    if (await portOpen(port)) {
      throw new InfraError(
        `port ${port} on 127.0.0.1 is taken by ${portOwner(port)}. Stop it, choose other ports with VIGIL_KAFKA_PORT, ` +
          `or point at an existing broker with KAFKA_BROKERS.`,
      );
    }
  }
  const libs = await resolveKafkaJars(s);
  mkdirSync(p.data, { recursive: true });
  writeFileSync(p.props, serverProperties(s, p.data));
  writeFileSync(p.log4j, log4jYaml(p.log));
  const classpath = `${libs}/*`;
  if (!existsSync(join(p.data, 'meta.properties'))) {
    const clusterId = randomBytes(16).toString('base64url');
    const r = spawnSync(
      'java',
      [
        '-cp',
        classpath,
        `-Dlog4j2.configurationFile=${p.log4j}`,
        'kafka.tools.StorageTool',
        'format',
        '--standalone',
        '-t',
        clusterId,
        '-c',
        p.props,
      ],
      {
        encoding: 'utf8',
      },
    );
    if (r.status !== 0) throw new InfraError(`formatting KRaft storage failed:\n${(r.stderr || r.stdout).slice(-2000)}`);
    say(C, `formatted KRaft storage in ${p.data} (cluster ${clusterId})`);
  }
  const jvm = [`-Xms256m`, `-Xmx${s.kafkaHeap}`, '-XX:+UseG1GC', '-Djava.awt.headless=true', `-Dlog4j2.configurationFile=${p.log4j}`];
  const pid = spawnDaemon('java', [...jvm, '-cp', classpath, 'kafka.Kafka', p.props], {
    logFile: join(p.home, 'stdout.log'),
    pidFile: p.pid,
  });
  say(C, `starting broker (pid ${pid}) on ${brokers}; log ${p.log}`);
  const until = Date.now() + s.kafkaStartTimeoutMs;
  while (Date.now() < until) {
    if (!readPid(p.pid, 'kafka.Kafka')) {
      throw new InfraError(
        `the broker exited during start-up. Last lines of ${p.log}:\n${tail(p.log)}\n${tail(join(p.home, 'stdout.log'), 10)}`,
      );
    }
    if (await answersMetadata([brokers], 3_000)) {
      say(C, `ready on ${brokers}`);
      return { address: brokers, startedHere: true };
    }
    await sleep(500);
  }
  await stopGroup(pid, 5_000);
  throw new InfraError(
    `the broker did not answer a metadata request within ${s.kafkaStartTimeoutMs / 1000} s. Last lines of ${p.log}:\n${tail(p.log)}`,
  );
}

export async function kafkaDown(s: InfraSettings): Promise<void> {
  const p = kafkaPaths(s);
  const pid = readPid(p.pid, 'kafka.Kafka');
  if (!pid) {
    say(C, 'not running');
    return;
  }
  say(C, `stopping broker (pid ${pid})`);
  const how = await stopGroup(pid, 30_000);
  rmSync(p.pid, { force: true });
  say(C, how === 'stopped' ? 'stopped' : 'did not stop in 30 s; killed');
}

export async function kafkaStatus(s: InfraSettings): Promise<string> {
  if (s.externalBrokers)
    return `external KAFKA_BROKERS=${s.externalBrokers} (${(await answersMetadata(s.externalBrokers.split(','), 5000)) ? 'answering' : 'NOT answering'})`;
  const p = kafkaPaths(s);
  const pid = readPid(p.pid, 'kafka.Kafka');
  const brokers = `127.0.0.1:${s.kafkaPort}`;
  if (!pid) return `not running (jars ${existsSync(p.marker) ? 'cached' : 'not yet resolved'})`;
  return `pid ${pid} on ${brokers} (${(await answersMetadata([brokers], 5000)) ? 'answering' : 'NOT answering'})`;
}

/** Removes the broker's data (topics and offsets), keeping the resolved jars. */
export function kafkaReset(s: InfraSettings): void {
  const p = kafkaPaths(s);
  if (readPid(p.pid, 'kafka.Kafka')) throw new InfraError('stop the broker first: ./vigil infra down');
  rmSync(p.data, { recursive: true, force: true });
  say(C, `removed ${p.data}`);
}

export function kafkaVersionOf(s: InfraSettings): string {
  const p = kafkaPaths(s);
  return existsSync(p.marker) ? (readFileSync(p.marker, 'utf8').split('\n')[0] ?? '') : '';
}
