/**
 * Whole-pipeline throughput, in one run on this machine, next to a plain kafkajs pass-through:
 *   1. the pass-through (consume → produce, no work) over N raw events: the baseline;
 *   2. each event-path service alone, as its own process, draining the same N events:
 *      ingest (raw → validated), correlation (validated → alerts, Redis windows), siem-forwarder
 *      (validated → Splunk, Elasticsearch and Sentinel stand-ins);
 *   3. all five services together (tools' startPipeline, the demo/e2e launcher), draining N raw
 *      events until correlation and every forwarder lane have committed them.
 * The forwarder stages run once per read mode in BENCH_FORWARDER_READ (default both: per-sink, one
 * consumer group per sink; shared, one group for all, with anything spilled read back too).
 * BENCH_PIPELINE_STAGES picks stages (default all: passthrough, ingest, correlation, forwarder, whole):
 * correlation and the forwarder read what ingest wrote, so either also runs ingest; ratios need the
 * pass-through.
 * The events are the fault suite's load (tools/src/faults/load.ts): background traffic, attacks with
 * known alerts, a trickle of malformed messages. Rates come from broker-side facts (committed
 * offsets, first commit to last, start-up excluded); CPU per process from /proc.
 */
import { topicNames, uuidV5, type TopicNames } from '@vigil/contracts';
import { createKafka, ensureTopics } from '@vigil/kafka';
import { createLogger, parseEnv } from '@vigil/runtime';
import { testBrokers, uniqueName } from '@vigil/testing';
import { StandinsEnvSchema, startStandins, type RunningStandins } from '@vigil/tools/dist/standins';
import { Schedule } from '@vigil/tools/dist/faults/load';
import { passthroughs, startPassthrough } from './kafkajs-published';
import { ROOT, benchPipeline, fmt, kafka, measureDrain, produceMany, startNode, stop, table } from './lib';
import { CpuMeter, committed, infraPids, machineLoad } from './procstat';

const N = Number(process.env.BENCH_PIPELINE_EVENTS ?? 100_000);
const PARTITIONS = 3;
const SINKS = ['splunk', 'elasticsearch', 'sentinel'] as const;
type ReadMode = 'per-sink' | 'shared';
const READS = (process.env.BENCH_FORWARDER_READ ?? 'per-sink,shared').split(',').map((m) => {
  if (m !== 'per-sink' && m !== 'shared') throw new Error(`BENCH_FORWARDER_READ: "${m}" is neither per-sink nor shared`);
  return m as ReadMode;
});

const STAGE_NAMES = ['passthrough', 'ingest', 'correlation', 'forwarder', 'whole'] as const;
const STAGES = new Set(
  (process.env.BENCH_PIPELINE_STAGES ?? STAGE_NAMES.join(',')).split(',').map((s) => {
    if (!(STAGE_NAMES as readonly string[]).includes(s))
      throw new Error(`BENCH_PIPELINE_STAGES: "${s}" is not one of ${STAGE_NAMES.join(', ')}`);
    return s as (typeof STAGE_NAMES)[number];
  }),
);
if (STAGES.has('correlation') || STAGES.has('forwarder')) STAGES.add('ingest');

/** The load, as a plan with 10 000 events/s of event time ending now. */
function load(): { schedule: Schedule; message: (i: number) => { key: string; value: string }; valid: number; alerts: number } {
  const rate = 10_000;
  const schedule = new Schedule({ runId: uuidV5(uniqueName('bench-pipeline')), rate, count: N, attackEvery: rate / 2, junkEvery: 1000 });
  const start = Date.now() - (N / rate) * 1000;
  const expected = schedule.expected();
  return {
    schedule,
    message: (i) => schedule.message(i, new Date(start + (i * 1000) / rate).toISOString()),
    valid: expected.eventIds.length,
    alerts: expected.alerts.length,
  };
}

async function createTopics(namespace: string): Promise<TopicNames> {
  const logger = createLogger({ service: 'bench', level: 'warn' });
  const client = createKafka(
    { brokers: testBrokers(), clientId: 'bench', partitions: PARTITIONS, replication: 1, createTopics: true },
    logger,
  );
  await ensureTopics(client, logger, { namespace, partitions: PARTITIONS, replication: 1 });
  return topicNames(namespace);
}

/** Waits until every group has committed `total` on `topic`; returns the time each finished. */
async function untilCommitted(groups: string[], topic: string, total: number, timeoutMs = 900_000): Promise<Map<string, number>> {
  const admin = kafka().admin();
  await admin.connect();
  const done = new Map<string, number>();
  try {
    const until = Date.now() + timeoutMs;
    while (done.size < groups.length) {
      for (const g of groups) if (!done.has(g) && (await committed(admin, g, topic)) >= total) done.set(g, performance.now());
      if (Date.now() > until) throw new Error(`not committed within ${timeoutMs} ms: ${groups.filter((g) => !done.has(g)).join(', ')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await admin.disconnect();
  }
  return done;
}

/**
 * Waits until the forwarder with group prefix `prefix` has delivered `total` events of `topics.events`
 * to every sink: per sink, each sink's group committed them; shared, the shared group committed them
 * and each sink's spill group committed whatever was spilled. Returns when, and how many were spilled.
 */
async function untilForwarded(prefix: string, read: ReadMode, topics: TopicNames, total: number): Promise<{ at: number; spilled: number }> {
  if (read === 'per-sink') {
    const done = await untilCommitted(
      SINKS.map((s) => `${prefix}-${s}`),
      topics.events,
      total,
    );
    return { at: Math.max(...done.values()), spilled: 0 };
  }
  const shared = (await untilCommitted([`${prefix}-shared`], topics.events, total)).get(`${prefix}-shared`)!;
  const admin = kafka().admin();
  await admin.connect();
  let spilled: number;
  try {
    spilled = (await admin.fetchTopicOffsets(topics.forwardSpill)).reduce((n, p) => n + Number(p.high), 0);
  } finally {
    await admin.disconnect();
  }
  if (spilled === 0) return { at: shared, spilled };
  const done = await untilCommitted(
    SINKS.map((s) => `${prefix}-${s}-spill`),
    topics.forwardSpill,
    spilled,
  );
  return { at: Math.max(...done.values()), spilled };
}

async function firstCommit(group: string, topic: string): Promise<number> {
  const admin = kafka().admin();
  await admin.connect();
  try {
    for (;;) {
      if ((await committed(admin, group, topic)) > 0) return performance.now();
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    await admin.disconnect();
  }
}

interface Row {
  stage: string;
  rate: number;
  cpu?: Record<string, number>;
  load: string;
  note?: string;
}

/**
 * Each event-path service alone, chained over the same topics: ingest fills the validated topic
 * that correlation and the forwarder (in each read mode) then drain, each as its own process.
 */
async function alone(l: ReturnType<typeof load>, rows: Row[], broker: Record<string, number>): Promise<void> {
  const standins: RunningStandins = await startStandins(parseEnv(StandinsEnvSchema, { STANDINS_PORT_BASE: '29700' }));
  try {
    const ns = uniqueName('bench-alone');
    const t = await createTopics(ns);
    await produceMany(t.eventsRaw, N, l.message);
    const common = { VIGIL_TOPIC_NAMESPACE: ns, KAFKA_CREATE_TOPICS: 'false', HTTP_PORT: '0', HTTP_HOST: '127.0.0.1' };

    const ingest = startNode(`${ROOT}/apps/ingest/dist/main.js`, common);
    let cpu = new CpuMeter(() => ({ ingest: ingest.pid, ...broker }));
    cpu.start();
    try {
      const d = await measureDrain(`${ns}.vigil-ingest`, t.eventsRaw, N);
      rows.push({ stage: 'ingest alone (raw → validated)', rate: d.rate, cpu: cpu.stop(), load: machineLoad() });
    } finally {
      await stop(ingest);
    }

    if (STAGES.has('correlation')) {
      const correlation = startNode(`${ROOT}/apps/correlation/dist/main.js`, {
        ...common,
        REDIS_KEY_PREFIX: `${uniqueName('bench-corr')}:`,
        CORRELATION_RULES_WATCH: 'false',
      });
      cpu = new CpuMeter(() => ({ correlation: correlation.pid, ...broker }));
      cpu.start();
      try {
        const d = await measureDrain(`${ns}.vigil-correlation`, t.events, l.valid);
        rows.push({ stage: 'correlation alone (validated → alerts, Redis)', rate: d.rate, cpu: cpu.stop(), load: machineLoad() });
      } finally {
        await stop(correlation);
      }
    }

    for (const read of STAGES.has('forwarder') ? READS : []) {
      // Each mode reads the validated topic from its start under a group prefix of its own.
      const prefix = uniqueName('bench-fwd');
      const forwarder = startNode(`${ROOT}/apps/siem-forwarder/dist/main.js`, {
        ...common,
        ...standins.env,
        SIEM_SINKS: SINKS.join(','),
        SIEM_FORWARD_ALERTS: 'false',
        SIEM_FLUSH_INTERVAL_MS: '500',
        SIEM_GROUP_ID_PREFIX: prefix,
        SIEM_READ_MODE: read,
      });
      cpu = new CpuMeter(() => ({ 'siem-forwarder': forwarder.pid, ...broker }));
      cpu.start();
      try {
        const started = await firstCommit(read === 'shared' ? `${prefix}-shared` : `${prefix}-splunk`, t.events);
        const done = await untilForwarded(prefix, read, t, l.valid);
        rows.push({
          stage: `siem-forwarder alone (validated → 3 SIEM stand-ins), reading ${read}`,
          rate: l.valid / ((done.at - started) / 1000),
          cpu: cpu.stop(),
          load: machineLoad(),
          note: `stand-ins in the bench process${read === 'shared' ? `; ${fmt(done.spilled)} items spilled` : ''}`,
        });
      } finally {
        await stop(forwarder);
      }
    }
  } finally {
    await standins.close();
  }
}

export async function run(): Promise<void> {
  const l = load();
  const sample = l.message(5).value;
  console.log(
    `events: ${fmt(N)} (~${sample.length} bytes; ${fmt(N - l.valid)} malformed; ${fmt(l.alerts)} alerts expected), ${PARTITIONS} partitions; load average at start ${machineLoad()}`,
  );
  const rows: Row[] = [];
  const broker = infraPids();

  // 1. Baseline: a kafkajs pass-through on kafkajs as published; then on the copy Vigil runs
  //    (patched), for comparison.
  for (const { stage, kafkajsDir } of STAGES.has('passthrough') ? passthroughs() : []) {
    const ns = uniqueName('bench-pt');
    const t = await createTopics(ns);
    await produceMany(t.eventsRaw, N, l.message);
    const group = uniqueName('passthrough');
    const pt = startPassthrough(t.eventsRaw, t.events, group, kafkajsDir);
    const cpu = new CpuMeter(() => ({ 'pass-through': pt.pid, ...broker }));
    cpu.start();
    try {
      const d = await measureDrain(group, t.eventsRaw, N);
      rows.push({ stage, rate: d.rate, cpu: cpu.stop(), load: machineLoad() });
    } finally {
      await stop(pt);
    }
  }

  // 2. Each event-path service alone.
  if (STAGES.has('ingest')) await alone(l, rows, broker);

  // 3. The whole pipeline: a raw backlog through all five services; then the same with the
  //    forwarder deployed as one process per sink (the lanes are consumer groups of their own
  //    either way, so only the processes differ).
  const wholes: Array<{ read: ReadMode; perSink: boolean }> = [
    ...READS.map((read) => ({ read, perSink: false })),
    ...(READS.includes('per-sink') ? [{ read: 'per-sink' as const, perSink: true }] : []),
  ];
  for (const { read, perSink } of STAGES.has('whole') ? wholes : []) {
    const standins2 = await startStandins(parseEnv(StandinsEnvSchema, { STANDINS_PORT_BASE: '29700' }));
    const ns = uniqueName('bench-pipe');
    const t = await createTopics(ns);
    await produceMany(t.eventsRaw, N, l.message);
    // The extra forwarders start first: their lanes are ready by the time ingest writes.
    const extra = perSink
      ? SINKS.slice(1).map((sink, i) => ({
          sink,
          child: startNode(`${ROOT}/apps/siem-forwarder/dist/main.js`, {
            ...standins2.env,
            KAFKA_BROKERS: testBrokers().join(','),
            VIGIL_TOPIC_NAMESPACE: ns,
            KAFKA_CREATE_TOPICS: 'false',
            HTTP_HOST: '127.0.0.1',
            HTTP_PORT: String(21_790 + i),
            SIEM_SINKS: sink,
            SIEM_READ_MODE: 'per-sink',
            SIEM_FORWARD_ALERTS: 'true',
            SIEM_FLUSH_INTERVAL_MS: '500',
          }),
        }))
      : [];
    const pipeline = await benchPipeline(ns, standins2.env, 21_700, {
      'siem-forwarder': perSink ? { SIEM_SINKS: SINKS[0], SIEM_READ_MODE: read } : { SIEM_READ_MODE: read },
    });
    const pids = () => ({
      ...Object.fromEntries(
        (['ingest', 'correlation', 'siem-forwarder', 'alert-router', 'soar'] as const).map((s) => [
          perSink && s === 'siem-forwarder' ? `siem-forwarder (${SINKS[0]})` : s,
          pipeline.services.pid(s),
        ]),
      ),
      ...Object.fromEntries(extra.map((e) => [`siem-forwarder (${e.sink})`, e.child.pid])),
      ...broker,
    });
    const cpu = new CpuMeter(pids);
    cpu.start();
    try {
      const started = await firstCommit(`${ns}.vigil-ingest`, t.eventsRaw);
      const [correlated, forwarded] = await Promise.all([
        untilCommitted([`${ns}.vigil-correlation`], t.events, l.valid),
        untilForwarded(`${ns}.vigil-siem-forwarder`, read, t, l.valid),
      ]);
      const correlatedAt = correlated.get(`${ns}.vigil-correlation`)!;
      const end = Math.max(correlatedAt, forwarded.at);
      const secs = (at: number) => `${((at - started) / 1000).toFixed(1)} s`;
      const stages = `correlation ${secs(correlatedAt)}, forwarder ${secs(forwarded.at)}${read === 'shared' ? ` (${fmt(forwarded.spilled)} items spilled)` : ''}`;
      rows.push({
        stage: perSink
          ? 'whole pipeline, one forwarder process per sink'
          : `whole pipeline (5 services, raw → alerts + 3 SIEMs), forwarder reading ${read}`,
        rate: N / ((end - started) / 1000),
        cpu: cpu.stop(),
        load: machineLoad(),
        note: stages,
      });
    } finally {
      for (const e of extra) await stop(e.child);
      await pipeline.stop();
      await standins2.close();
    }
  }

  // Ratios are to the first pass-through (kafkajs as published), when it ran.
  const base = STAGES.has('passthrough') ? rows[0]!.rate : NaN;
  table(
    rows.map((r) => ({
      stage: r.stage,
      'events/s': fmt(r.rate),
      'ratio to pass-through': Number.isNaN(base) ? '-' : fmt(r.rate / base, 2),
      'CPU s per 10k events (by process)': Object.entries(r.cpu ?? {})
        .map(([k, v]) => `${k} ${fmt((v / N) * 10_000, 2)}`)
        .join(', '),
      'load avg after': r.load,
    })),
  );
  for (const r of rows) if (r.note) console.log(`${r.stage}: ${r.note}`);
  console.log('target: whole pipeline ≥ 20,000 events/s sustained');
}
