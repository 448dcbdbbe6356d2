/**
 * Where the time goes: one event-path service alone, as its own process under `node --cpu-prof`,
 * draining N events of the fault suite's load; then the profile summarised by package and by
 * function (self time). PROFILE_SERVICE picks the service: ingest (default), correlation or
 * siem-forwarder. The .cpuprofile is kept (path printed) for Chrome DevTools / speedscope.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { topicNames, uuidV5 } from '@vigil/contracts';
import { createKafka, ensureTopics } from '@vigil/kafka';
import { createLogger, parseEnv } from '@vigil/runtime';
import { testBrokers, uniqueName } from '@vigil/testing';
import { validateBatch } from '@vigil/ingest/dist/domain/batch';
import { StandinsEnvSchema, startStandins } from '@vigil/tools/dist/standins';
import { Schedule } from '@vigil/tools/dist/faults/load';
import { ROOT, fmt, measureDrain, produceMany, stop, table } from './lib';
import { machineLoad } from './procstat';

const N = Number(process.env.PROFILE_EVENTS ?? 100_000);
const SERVICE = process.env.PROFILE_SERVICE ?? 'ingest';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Which package a frame belongs to: a dependency, a Vigil lib or app, Node itself, or V8. */
function packageOf(url: string, fn: string): string {
  if (!url) return fn.startsWith('(') ? fn : '(native: JSON, Buffer, ...)';
  const dep = /node_modules\/\.pnpm\/(@?[^@/]+(?:\+[^@/]+)?)@/.exec(url) ?? /node_modules\/(@[^/]+\/[^/]+|[^/]+)/.exec(url);
  if (dep) return dep[1]!.replace('+', '/');
  const vigil = /\/(libs|apps)\/([^/]+)\//.exec(url);
  if (vigil) return `vigil ${vigil[1]}/${vigil[2]}`;
  if (url.startsWith('node:')) return 'node internals';
  return url;
}

export function summarise(profile: CpuProfile): { total: number; byPackage: Map<string, number>; byFunction: Map<string, number> } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const byPackage = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    const n = byId.get(id);
    if (!n || n.callFrame.functionName === '(idle)') return;
    total += dt;
    const { functionName, url, lineNumber } = n.callFrame;
    const pkg = packageOf(url, functionName);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + dt);
    const short = url.replace(/^.*\/(node_modules\/\.pnpm\/[^/]+\/node_modules\/|libs\/|apps\/)/, '');
    const fn = `${functionName || '(anonymous)'} ${short ? `${short}:${lineNumber + 1}` : ''}`.trim();
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + dt);
  });
  return { total, byPackage, byFunction };
}

function top(m: Map<string, number>, total: number, n: number): Array<Record<string, string>> {
  return [...m.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([k, v]) => ({ 'self %': fmt((v / total) * 100, 1), where: k }));
}

export async function run(): Promise<void> {
  const rate = 10_000;
  const schedule = new Schedule({ runId: uuidV5(uniqueName('bench-profile')), rate, count: N, attackEvery: rate / 2, junkEvery: 1000 });
  const start = Date.now() - (N / rate) * 1000;
  const message = (i: number) => schedule.message(i, new Date(start + (i * 1000) / rate).toISOString());
  const ns = uniqueName('bench-prof');
  const logger = createLogger({ service: 'bench', level: 'warn' });
  await ensureTopics(
    createKafka({ brokers: testBrokers(), clientId: 'bench', partitions: 3, replication: 1, createTopics: true }, logger),
    logger,
    {
      namespace: ns,
      partitions: 3,
      replication: 1,
    },
  );
  const t = topicNames(ns);
  let input = t.eventsRaw;
  let total = N;
  if (SERVICE === 'ingest') await produceMany(t.eventsRaw, N, message);
  else {
    // The validated topic, as ingest would have filled it.
    const out = validateBatch(
      Array.from({ length: N }, (_, i) => ({ topic: t.eventsRaw, partition: 0, offset: String(i), value: Buffer.from(message(i).value) })),
      Date.now(),
      { limits: { maxBytes: 1 << 20, maxDepth: 32 }, futureToleranceMs: 300_000, integrity: 'off', keys: new Map() },
    ).filter((r) => r.ok);
    total = out.length;
    input = t.events;
    await produceMany(t.events, total, (i) => ({ key: out[i]!.key, value: out[i]!.value }));
  }
  const dir = mkdtempSync(join(tmpdir(), `vigil-profile-${SERVICE}-`));
  const standins = SERVICE === 'siem-forwarder' ? await startStandins(parseEnv(StandinsEnvSchema, { STANDINS_PORT_BASE: '29900' })) : null;
  const env: Record<string, string> = {
    VIGIL_TOPIC_NAMESPACE: ns,
    KAFKA_CREATE_TOPICS: 'false',
    HTTP_PORT: '0',
    HTTP_HOST: '127.0.0.1',
    REDIS_KEY_PREFIX: `${uniqueName('bench-prof')}:`,
    CORRELATION_RULES_WATCH: 'false',
    ...(standins ? { ...standins.env, SIEM_SINKS: 'splunk,elasticsearch,sentinel', SIEM_FORWARD_ALERTS: 'false' } : {}),
  };
  const forwarderGroup = `${ns}.vigil-siem-forwarder-${process.env.SIEM_READ_MODE === 'per-sink' ? 'elasticsearch' : 'shared'}`;
  const group = SERVICE === 'siem-forwarder' ? forwarderGroup : `${ns}.vigil-${SERVICE}`;
  console.log(`profiling ${SERVICE} alone on ${fmt(total)} events; load average ${machineLoad()}`);
  // --cpu-prof is refused in NODE_OPTIONS: it goes on the command line, before the script.
  const child = spawn(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${dir}`, `${ROOT}/apps/${SERVICE}/dist/main.js`], {
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  let rateSeen = 0;
  try {
    rateSeen = (await measureDrain(group, input, total)).rate;
  } finally {
    await stop(child);
    await standins?.close();
  }
  // One profile per thread: the main thread and, for ingest, its validation worker(s).
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  if (files.length === 0) throw new Error(`no profile written in ${dir}`);
  console.log(`${SERVICE}: ${fmt(rateSeen)} events/s while profiled; profiles in ${dir}`);
  for (const file of files) {
    const s = summarise(JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile);
    console.log(`\n${file}: ${fmt(s.total / 1e6, 1)} s of CPU on this thread. Self time by package:`);
    table(top(s.byPackage, s.total, 12));
    console.log('self time by function:');
    table(top(s.byFunction, s.total, Number(process.env.PROFILE_TOP ?? 25)));
  }
}
