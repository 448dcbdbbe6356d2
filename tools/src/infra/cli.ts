import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { createKafka, ensureTopics, kafkaEnvShape, kafkaSettings } from '@vigil/kafka';
import { createLogger, parseEnv } from '@vigil/runtime';
import { kafkaDown, kafkaReset, kafkaStatus, kafkaUp, type Started } from './kafka';
import { InfraError, say } from './proc';
import { CHROMIUM, NFTABLES, ensureDebianPackages } from './packages';
import { redisDown, redisStatus, redisUp } from './redis';
import { infraSettings, type InfraSettings } from './settings';

export interface InfraUp {
  kafka: Started;
  redis: Started;
  env: Record<string, string>;
}

/** Starts (or reuses) Kafka and Redis, writes .cache/infra/env, returns what to export. */
export async function infraUp(s: InfraSettings): Promise<InfraUp> {
  const kafka = await kafkaUp(s);
  let redis: Started;
  try {
    redis = await redisUp(s);
  } catch (err) {
    if (kafka.startedHere) await kafkaDown(s);
    throw err;
  }
  const env = { KAFKA_BROKERS: kafka.address, REDIS_URL: redis.address };
  mkdirSync(s.dir, { recursive: true });
  writeFileSync(
    join(s.dir, 'env'),
    Object.entries(env)
      .map(([k, v]) => `export ${k}=${v}\n`)
      .join(''),
  );
  return { kafka, redis, env };
}

export async function infraDown(s: InfraSettings, which: { kafka: boolean; redis: boolean } = { kafka: true, redis: true }): Promise<void> {
  if (which.redis) await redisDown(s);
  if (which.kafka) await kafkaDown(s);
}

/** A Kafka client for the infra script's admin steps: KAFKA_* settings from the environment, these brokers. */
function infraKafka(brokers: string) {
  const env = parseEnv(z.object(kafkaEnvShape), { ...process.env, KAFKA_BROKERS: brokers });
  const logger = createLogger({ service: 'infra', level: 'warn' });
  const settings = kafkaSettings(env, 'vigil-infra');
  return { kafka: createKafka(settings, logger), settings, logger };
}

/** The admin step: Vigil's topics with partitions and replication from KAFKA_TOPIC_* settings. */
async function createTopics(brokers: string): Promise<void> {
  const { kafka, settings, logger } = infraKafka(brokers);
  const created = await ensureTopics(kafka, logger, {
    namespace: settings.namespace,
    partitions: settings.partitions,
    replication: settings.replication,
  });
  say('kafka', created.length ? `created topics: ${created.join(', ')}` : 'all Vigil topics exist');
}

/** Topic names made by the tests' and benchmarks' uniqueName(): `<prefix>-<base36 ms>-<8 hex>.<topic>`. */
const TEST_TOPIC = /^[a-z][a-z0-9-]*?-([0-9a-z]{8,9})-[0-9a-f]{8}\./;
const STALE_TEST_TOPIC_MS = 3 * 3600_000;

/** The test topics among `names` made more than three hours before `nowMs`. */
export function staleTestTopics(names: readonly string[], nowMs: number): string[] {
  return names.filter((t) => {
    const m = TEST_TOPIC.exec(t);
    return m !== null && nowMs - parseInt(m[1]!, 36) > STALE_TEST_TOPIC_MS;
  });
}

/**
 * Every test creates topics in a namespace of its own and leaves them; on a development broker they
 * pile up (thousands of partitions make the broker slow to start). Before a run, the test topics
 * made more than three hours ago are deleted: no run lasts that long, so none still in use is touched.
 */
export async function pruneTestTopics(brokers: string, nowMs = Date.now()): Promise<number> {
  const admin = infraKafka(brokers).kafka.admin();
  await admin.connect();
  try {
    const stale = staleTestTopics(await admin.listTopics(), nowMs);
    for (let i = 0; i < stale.length; i += 200) await admin.deleteTopics({ topics: stale.slice(i, i + 200), timeout: 60_000 });
    return stale.length;
  } finally {
    await admin.disconnect();
  }
}

/** Runs a command with Kafka and Redis up, then stops whatever this call started. */
async function runWith(s: InfraSettings, argv: string[]): Promise<number> {
  if (argv.length === 0) throw new InfraError('usage: infra run -- <command> [args...]');
  const up = await infraUp(s);
  await pruneTestTopics(up.kafka.address).then(
    (n) => n > 0 && say('kafka', `deleted ${n} test topics older than 3 hours`),
    (err: unknown) => say('kafka', `could not prune old test topics (${err instanceof Error ? err.message : String(err)}); going on`),
  );
  const child = spawn(argv[0]!, argv.slice(1), { stdio: 'inherit', env: { ...process.env, ...up.env } });
  const forward = (sig: NodeJS.Signals) => child.kill(sig);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  const code = await new Promise<number>((r) => child.on('close', (c, sig) => r(c ?? (sig ? 130 : 1))));
  await infraDown(s, { kafka: up.kafka.startedHere, redis: up.redis.startedHere });
  return code;
}

const USAGE = `usage: infra <up|down|status|topics|reset|prereqs|run -- command...>
  up      start Kafka (jars from Maven Central, cached) and Redis, or reuse running ones
  down    stop what "up" started
  status  say what runs where
  topics  create Vigil's topics (partitions/replication from KAFKA_TOPIC_PARTITIONS/REPLICATION)
  reset   delete the broker's data (keeps the jar cache)
  prereqs install what the tests need besides Kafka and Redis (Debian chromium, nftables)
  run     up, run the command with KAFKA_BROKERS/REDIS_URL set, then stop what was started
settings: VIGIL_KAFKA_PORT (9092), VIGIL_REDIS_PORT (6379), VIGIL_REDIS_APPENDONLY (false), VIGIL_INFRA_DIR, VIGIL_KAFKA_VERSION, KAFKA_BROKERS, REDIS_URL`;

export async function infraMain(root: string, args: string[]): Promise<number> {
  const s = infraSettings(root);
  const [cmd, ...rest] = args;
  switch (cmd) {
    case 'up': {
      const up = await infraUp(s);
      await createTopics(up.kafka.address);
      say('infra', `ready. export KAFKA_BROKERS=${up.env.KAFKA_BROKERS} REDIS_URL=${up.env.REDIS_URL}  (also in ${join(s.dir, 'env')})`);
      return 0;
    }
    case 'down':
      await infraDown(s);
      return 0;
    case 'status':
      say('kafka', await kafkaStatus(s));
      say('redis', await redisStatus(s));
      return 0;
    case 'topics':
      await createTopics(s.externalBrokers ?? `127.0.0.1:${s.kafkaPort}`);
      return 0;
    case 'prereqs':
      // What the test suite needs beyond Kafka and Redis: a browser and nft.
      ensureDebianPackages([CHROMIUM, NFTABLES]);
      say('packages', 'test prerequisites present (chromium, nftables)');
      return 0;
    case 'reset':
      kafkaReset(s);
      return 0;
    case 'run':
      return runWith(s, rest[0] === '--' ? rest.slice(1) : rest);
    default:
      process.stderr.write(`${USAGE}\n`);
      return cmd === undefined || cmd === 'help' || cmd === '--help' ? 0 : 2;
  }
}
