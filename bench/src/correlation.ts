/**
 * Correlation throughput with the six shipped rules over 10 000 distinct source IPs:
 *   1. the pure evaluator alone (matching + window arithmetic in memory, no Redis), in process;
 *   2. the same engine with its Redis window store (one pipelined round trip per batch), in process;
 *   3. the real service as its own process draining a pre-filled validated topic (Kafka + Redis).
 * All three see the same events in the same run; Redis round trips per event come from (2) and
 * from the service's own metric. Next to each rate: CPU per event of the Node process, of Redis
 * (its INFO cpu) and, for the service, of the Kafka broker, and the machine's load average, because
 * on a shared 2-core machine the rate is what is left over, and the CPU per event is what it costs.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { createServer } from 'node:net';
import { topicNames, uuidV5, type SecurityEvent } from '@vigil/contracts';
import type { ConsumedMessage } from '@vigil/kafka';
import { Redis } from '@vigil/redis';
import { Metrics, silentLogger } from '@vigil/runtime';
import { committedTotal, freshTopics, testBrokers, testRedisUrl, uniqueName } from '@vigil/testing';
import { SHIPPED_RULES_DIR } from '@vigil/correlation/dist/config';
import { CorrelationEngine, MemoryStore, type WindowStore } from '@vigil/correlation/dist/engine';
import { CorrelationMetrics } from '@vigil/correlation/dist/metrics';
import { RedisWindowStore } from '@vigil/correlation/dist/redis/window-store';
import { loadRules } from '@vigil/correlation/dist/rules/loader';
import type { RuleSet } from '@vigil/correlation/dist/domain/compile';
import { ROOT, fmt, produceMany, startNode, stop, table } from './lib';

const N = Number(process.env.BENCH_CORRELATION_EVENTS ?? 100_000);
const IPS = 10_000;
const PARTITIONS = 6;
const BATCH = 500;
/** Event time starts an hour ago: a replay, and never beyond the service's future cap. */
const BASE = Math.floor((Date.now() - 3600_000) / 1000) * 1000;

/** A validated event (SecurityEvent v1) of a realistic mix: logins, authorizations, data reads, API calls. */
function benchEvent(i: number): SecurityEvent {
  const ip = `10.0.${(i % IPS) >> 8}.${(i % IPS) & 255}`; // exactly IPS distinct addresses
  const at = new Date(BASE + i * 2).toISOString(); // 500 events/s of event time
  const kind = i % 20;
  const common = {
    schema_version: 1 as const,
    event_id: uuidV5(`bench-corr-${i}`),
    timestamp: at,
    received_at: at,
    severity: 'medium' as const,
    source: { application: 'billing-api', environment: 'production', ip, hostname: `web-${i % 20}` },
    actor: { type: 'user' as const, user_id: `user-${(i * 7) % 5000}`, session_id: `sess-${i % 9000}` },
    tags: ['bench'],
  };
  if (kind < 11) {
    return {
      ...common,
      event_type: 'authentication',
      action: 'login',
      outcome: kind < 9 ? 'failure' : 'success',
      details: { method: 'password', mfa: false },
    };
  }
  if (kind < 13) {
    return {
      ...common,
      event_type: 'authorization',
      action: 'access',
      outcome: 'denied',
      target: { resource: i % 2 ? '/admin/users' : '/reports' },
      details: {},
    };
  }
  if (kind < 16) {
    return {
      ...common,
      event_type: 'data_access',
      action: 'read',
      outcome: 'success',
      target: { resource: 'customers' },
      details: { records: 10 },
    };
  }
  return {
    ...common,
    event_type: 'network_event',
    action: 'GET /api/orders',
    outcome: 'failure',
    details: { response_code: [200, 401, 403, 429][i % 4] },
  };
}

function partitionOf(e: SecurityEvent): number {
  let h = 0;
  for (const c of e.source.ip ?? '') h = (h * 31 + c.charCodeAt(0)) | 0;
  return Math.abs(h) % PARTITIONS;
}

/** The events as consumed batches, per partition (as the consumer would hand them over). */
function batches(): ConsumedMessage[][][] {
  const parts: ConsumedMessage[][] = Array.from({ length: PARTITIONS }, () => []);
  const topic = topicNames('bench').events;
  for (let i = 0; i < N; i++) {
    const e = benchEvent(i);
    const p = partitionOf(e);
    parts[p]!.push({
      topic,
      partition: p,
      offset: String(parts[p]!.length),
      key: Buffer.from(e.source.ip!),
      value: Buffer.from(JSON.stringify(e)),
      timestamp: '0',
      headers: {},
    });
  }
  return parts.map((msgs) => {
    const out: ConsumedMessage[][] = [];
    for (let i = 0; i < msgs.length; i += BATCH) out.push(msgs.slice(i, i + BATCH));
    return out;
  });
}

/** CPU seconds used so far by a process (user + system), from /proc (Linux). */
function processCpu(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // clock ticks, 100 per second
}

/**
 * The pid of the local Kafka broker the bench talks to: a java process running kafka.Kafka whose
 * properties file (its last argument) listens on the first KAFKA_BROKERS port. Null when there is
 * none (a remote broker): its CPU is then not reported.
 */
function brokerPid(): number | null {
  const port = testBrokers()[0]?.split(':').pop();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const args = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0').filter(Boolean);
      if (!args.includes('kafka.Kafka')) continue;
      const props = readFileSync(args[args.length - 1]!, 'utf8');
      if (new RegExp(`^listeners=.*PLAINTEXT://[^,]*:${port}(,|$)`, 'm').test(props)) return Number(d);
    } catch {
      // gone meanwhile, or not readable: not ours
    }
  }
  return null;
}

/** CPU seconds of a process that may have exited meanwhile (then NaN, printed as n/a). */
function cpuOrNaN(pid: number | null): number {
  try {
    return pid === null ? NaN : processCpu(pid);
  } catch {
    return NaN;
  }
}

/** Redis's own CPU seconds (INFO cpu), which is all that Redis spends on everyone's commands. */
async function redisCpu(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  const num = (k: string) => Number(new RegExp(`${k}:([\\d.]+)`).exec(info)?.[1] ?? 0);
  return num('used_cpu_user') + num('used_cpu_sys');
}

function load(): string {
  return loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');
}

const usPerEvent = (seconds: number, events = N) => fmt((seconds * 1e6) / events, 0);

interface CpuSample {
  svc: number;
  redis: number;
  broker: number;
}

/**
 * Like lib's measureDrain (committed offsets polled every 100 ms, rate from the first commit to the
 * last), and samples the CPU of the service, Redis and the broker at those same two instants, so
 * the CPU per event covers exactly the events counted (not the service's start-up).
 */
async function drainWithCpu(
  groupId: string,
  topic: string,
  sample: () => Promise<CpuSample>,
  timeoutMs = 300_000,
): Promise<{ rate: number; counted: number; cpu: CpuSample }> {
  const until = Date.now() + timeoutMs;
  let first: { at: number; n: number; cpu: CpuSample } | null = null;
  for (;;) {
    const n = await committedTotal(groupId, topic);
    const at = performance.now();
    if (n > 0 && first === null) first = { at, n, cpu: await sample() };
    if (first && n >= N) {
      const cpu = await sample();
      const counted = n - first.n;
      return {
        rate: counted / ((at - first.at) / 1000),
        counted,
        cpu: { svc: cpu.svc - first.cpu.svc, redis: cpu.redis - first.cpu.redis, broker: cpu.broker - first.cpu.broker },
      };
    }
    if (Date.now() > until) throw new Error(`group ${groupId} committed only ${n}/${N} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Runs every partition's batches through an engine, two partitions at a time (as the service does). */
async function drive(
  rules: RuleSet,
  store: WindowStore,
  parts: ConsumedMessage[][][],
): Promise<{ rate: number; alerts: number; trips: number; cpu: number }> {
  const engine = new CorrelationEngine(
    () => rules,
    store,
    { topics: topicNames('bench'), time: { latenessMs: 60_000, maxFutureMs: 300_000 }, decode: { maxBytes: 1 << 20, maxDepth: 32 } },
    new CorrelationMetrics(new Metrics('correlation', { defaultMetrics: false })),
    silentLogger(),
  );
  const before = store.roundTrips;
  let alerts = 0;
  const queue = parts.map((_, i) => i);
  const cpu0 = process.cpuUsage();
  const started = performance.now();
  const worker = async () => {
    for (let p = queue.shift(); p !== undefined; p = queue.shift()) {
      for (const b of parts[p]!) {
        const now = Date.parse(JSON.parse(b[b.length - 1]!.value!.toString()).timestamp);
        const out = await engine.process(b, now);
        await store.markPublished(out.published, now);
        alerts += out.alerts.length;
      }
    }
  };
  await Promise.all([worker(), worker()]);
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { rate: N / seconds, alerts, trips: store.roundTrips - before, cpu: (cpu.user + cpu.system) / 1e6 };
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      srv.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

function metric(text: string, name: string): number {
  return text
    .split('\n')
    .filter((l) => l.startsWith(name))
    .reduce((n, l) => n + Number(l.split(' ').pop()), 0);
}

export async function run(): Promise<void> {
  const loaded = await loadRules(SHIPPED_RULES_DIR);
  if (!loaded.ok) throw new Error('shipped rules are invalid');
  const rules = loaded.ruleSet;
  const parts = batches();
  console.log(
    `events: ${fmt(N)} over ${fmt(IPS)} source IPs, ${rules.rules.length} rules, batches of ${BATCH}, ${PARTITIONS} partitions (2 at a time)`,
  );

  // Warm-up (JIT) on a throwaway store, then the measured runs.
  await drive(rules, new MemoryStore(), [parts[0]!.slice(0, 10)]);
  const loads: string[] = [`start ${load()}`];
  const pure = await drive(rules, new MemoryStore(), parts);
  loads.push(`after pure ${load()}`);

  const redis = new Redis(testRedisUrl());
  const prefix = `${uniqueName('bench-corr')}:`;
  const store = new RedisWindowStore(redis, prefix);
  const redis0 = await redisCpu(redis);
  const withRedis = await drive(rules, store, parts);
  const withRedisRedisCpu = (await redisCpu(redis)) - redis0;
  loads.push(`after engine+Redis ${load()}`);
  let keys = 0;
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    keys += found.length;
  } while (cursor !== '0');

  // The service as its own process, Kafka in and out.
  const t = await freshTopics(PARTITIONS, ['events', 'alerts', 'alertsDlq']);
  await produceMany(t.topics.events, N, (i) => {
    const e = benchEvent(i);
    return { key: e.source.ip!, value: JSON.stringify(e) };
  });
  const group = uniqueName('correlation');
  const port = await freePort();
  const svcPrefix = `${uniqueName('bench-svc')}:`;
  const svc = startNode(`${ROOT}/apps/correlation/dist/main.js`, {
    VIGIL_TOPIC_NAMESPACE: t.namespace,
    CORRELATION_GROUP_ID: group,
    KAFKA_CREATE_TOPICS: 'false',
    HTTP_PORT: String(port),
    HTTP_HOST: '127.0.0.1',
    REDIS_KEY_PREFIX: svcPrefix,
    CORRELATION_RULES_WATCH: 'false',
  });
  let service;
  let metricsText = '';
  const broker = brokerPid();
  try {
    service = await drainWithCpu(group, t.topics.events, async () => ({
      svc: cpuOrNaN(svc.pid ?? null),
      redis: await redisCpu(redis),
      broker: cpuOrNaN(broker),
    }));
    metricsText = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  } finally {
    await stop(svc);
  }
  loads.push(`after service ${load()}`);
  for (const p of [prefix, svcPrefix]) {
    let c = '0';
    do {
      const [next, found] = await redis.scan(c, 'MATCH', `${p}*`, 'COUNT', 1000);
      c = next;
      if (found.length) await redis.del(...found);
    } while (c !== '0');
  }
  redis.disconnect();
  const svcTrips = metric(metricsText, 'vigil_correlation_redis_round_trips_total');
  const svcConsumed = metric(metricsText, 'vigil_messages_consumed_total');
  const svcAlerts = metric(metricsText, 'vigil_correlation_alerts_total{rule');
  const svcNew = metricsText
    .split('\n')
    .filter((l) => l.startsWith('vigil_correlation_alerts_total') && l.includes('delivery="new"'))
    .reduce((n, l) => n + Number(l.split(' ').pop()), 0);
  const late = metricsText
    .split('\n')
    .filter((l) => l.startsWith('vigil_correlation_window_updates_total') && l.includes('outcome="late"'))
    .reduce((n, l) => n + Number(l.split(' ').pop()), 0);

  table([
    {
      stage: 'pure evaluator alone (no Redis, in process)',
      'events/s': fmt(pure.rate),
      'round trips/event': '0',
      'Node µs/event': usPerEvent(pure.cpu),
      'Redis µs/event': '0',
      'broker µs/event': '-',
      alerts: fmt(pure.alerts),
    },
    {
      stage: 'engine + Redis window store (in process)',
      'events/s': fmt(withRedis.rate),
      'round trips/event': fmt(withRedis.trips / N, 4),
      'Node µs/event': usPerEvent(withRedis.cpu),
      'Redis µs/event': usPerEvent(withRedisRedisCpu),
      'broker µs/event': '-',
      alerts: fmt(withRedis.alerts),
    },
    {
      stage: 'correlation service (Kafka in/out + Redis)',
      'events/s': fmt(service.rate),
      'round trips/event': svcConsumed ? fmt(svcTrips / svcConsumed, 4) : 'n/a',
      'Node µs/event': usPerEvent(service.cpu.svc, service.counted),
      'Redis µs/event': usPerEvent(service.cpu.redis, service.counted),
      'broker µs/event': Number.isNaN(service.cpu.broker) ? 'n/a' : usPerEvent(service.cpu.broker, service.counted),
      alerts: `${fmt(svcNew)} new, ${fmt(svcAlerts - svcNew)} republished`,
    },
  ]);
  console.log(`load average (1, 5, 15 min): ${loads.join('; ')}`);
  console.log(
    'CPU per event: Node = the process running the stage; Redis = INFO cpu (every client of this Redis); broker = the local Kafka JVM',
  );
  console.log(`service: late window updates ${fmt(late)} (the in-process runs feed each partition in order)`);
  console.log(`Redis keys written (in-process run): ${fmt(keys)}`);
  console.log(`ratio engine+Redis / pure evaluator: ${fmt(withRedis.rate / pure.rate, 2)}`);
  console.log(`ratio service / pure evaluator: ${fmt(service.rate / pure.rate, 2)} (target: service ≥ 20,000 events/s)`);
}
