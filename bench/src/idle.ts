/**
 * What the pipeline costs when nothing happens: the five services as processes with no traffic,
 * CPU of each (and of the local broker and Redis) over SECONDS after a settling pause, at two fetch
 * holds (`KAFKA_FETCH_MAX_WAIT_MS`): 100 ms, the value before the default became 500, and the
 * default. Then one event through the idle pipeline, produced → validated topic, at each, to show
 * that a longer hold costs no latency (a fetch returns as soon as a record arrives).
 */
import { randomUUID } from 'node:crypto';
import { topicNames } from '@vigil/contracts';
import { DEFAULT_FETCH_MAX_WAIT_MS } from '@vigil/kafka';
import { parseEnv } from '@vigil/runtime';
import { uniqueName } from '@vigil/testing';
import { type ServiceName } from '@vigil/tools/dist/demo/pipeline';
import { StandinsEnvSchema, startStandins } from '@vigil/tools/dist/standins';
import { benchPipeline, fmt, kafka, pct, table } from './lib';
import { CpuMeter, infraPids, machineLoad } from './procstat';

const SECONDS = Number(process.env.BENCH_IDLE_SECONDS ?? 30);
const SETTLE = Number(process.env.BENCH_IDLE_SETTLE_SECONDS ?? 10);
const PROBES = 20;
const SERVICES: ServiceName[] = ['ingest', 'correlation', 'siem-forwarder', 'alert-router', 'soar'];

interface IdleResult {
  waitMs: number;
  cpu: Record<string, number>;
  seconds: number;
  /** produced → on the validated topic, ms, one event at a time on the idle pipeline. */
  hops: number[];
  load: string;
}

async function idleAt(waitMs: number): Promise<IdleResult> {
  const standins = await startStandins(parseEnv(StandinsEnvSchema, { STANDINS_PORT_BASE: '29900' }));
  const ns = uniqueName('bench-idle');
  const env = { KAFKA_FETCH_MAX_WAIT_MS: String(waitMs) };
  const pipeline = await benchPipeline(ns, standins.env, 21_900, Object.fromEntries(SERVICES.map((s) => [s, env])));
  const topics = topicNames(ns);
  const producer = kafka().producer();
  const consumer = kafka().consumer({ groupId: uniqueName('bench-idle-probe'), maxWaitTimeInMs: 20 });
  try {
    await new Promise((r) => setTimeout(r, SETTLE * 1000));
    const cpu = new CpuMeter(() => ({ ...Object.fromEntries(SERVICES.map((s) => [s, pipeline.services.pid(s)])), ...infraPids() }));
    const t0 = Date.now();
    cpu.start();
    await new Promise((r) => setTimeout(r, SECONDS * 1000));
    const used = cpu.stop();
    const seconds = (Date.now() - t0) / 1000;

    // One event at a time through ingest, each after a pause longer than the hold.
    await producer.connect();
    await consumer.connect();
    await consumer.subscribe({ topic: topics.events, fromBeginning: false });
    const seen = new Map<string, number>();
    await consumer.run({
      eachMessage: async ({ message }) => {
        const id = (JSON.parse(message.value?.toString() ?? '{}') as { event_id?: string }).event_id;
        if (id) seen.set(id, Date.now());
      },
    });
    await new Promise((r) => setTimeout(r, 3_000)); // the probe's group settles
    const hops: number[] = [];
    for (let i = 0; i < PROBES; i++) {
      await new Promise((r) => setTimeout(r, waitMs + 150 + ((i * 37) % 200)));
      const id = randomUUID();
      const sent = Date.now();
      await producer.send({
        topic: topics.eventsRaw,
        messages: [
          {
            key: '203.0.113.9',
            value: JSON.stringify({
              event_id: id,
              timestamp: new Date().toISOString(),
              event_type: 'system_event',
              severity: 'info',
              source: { application: 'bench-idle', ip: '203.0.113.9' },
              action: 'probe',
              outcome: 'success',
            }),
          },
        ],
      });
      const until = Date.now() + 10_000;
      while (!seen.has(id) && Date.now() < until) await new Promise((r) => setTimeout(r, 2));
      if (!seen.has(id)) throw new Error(`probe ${i} did not reach the validated topic within 10 s`);
      hops.push(seen.get(id)! - sent);
    }
    return { waitMs, cpu: used, seconds, hops: hops.sort((a, b) => a - b), load: machineLoad() };
  } finally {
    await consumer.disconnect();
    await producer.disconnect();
    await pipeline.stop();
    await standins.close();
  }
}

export async function run(): Promise<void> {
  console.log(`idle pipeline: ${SETTLE} s settling, ${SECONDS} s measured per setting; load average at start ${machineLoad()}`);
  const results: IdleResult[] = [];
  for (const waitMs of [100, DEFAULT_FETCH_MAX_WAIT_MS]) results.push(await idleAt(waitMs));
  const names = [...SERVICES, 'kafka', 'redis'];
  const percent = (r: IdleResult, name: string) => ((r.cpu[name] ?? 0) / r.seconds) * 100;
  const total = (r: IdleResult) => names.reduce((sum, n) => sum + percent(r, n), 0);
  table(
    results.map((r) => ({
      'fetch hold ms': fmt(r.waitMs),
      ...Object.fromEntries(names.map((n) => [n, `${fmt(percent(r, n), 1)}%`])),
      'all, % of a core': fmt(total(r), 1),
      'one event raw → validated p50/p95/max ms': [50, 95, 100].map((p) => fmt(pct(r.hops, p))).join(' / '),
      'load avg after': r.load,
    })),
  );
  const [before, after] = results as [IdleResult, IdleResult];
  console.log(`ratio, idle CPU at ${fmt(after.waitMs)} ms / at ${fmt(before.waitMs)} ms: ${fmt(total(after) / total(before), 2)}`);
}
