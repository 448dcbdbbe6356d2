/**
 * End-to-end latency at fixed rates: event produced → alert on the alerts topic, and → notification
 * delivered at the (signed) webhook stand-in, p50/p95/p99, with the five services as processes and
 * the load generator in its own process (tools/src/faults/generator.ts: background traffic plus five
 * attacks a second whose alerts are known).
 *
 * "Produced" is the event's own timestamp: the generator stamps each event with its scheduled time
 * and sends it at most one tick (10 ms) plus one send later, so the figures include the producer's
 * batching. "Alert on topic" is the alert record's broker timestamp (set by correlation's producer);
 * the alert's last_event_at is the triggering event's timestamp. Next to it, "from the send": from
 * the moment the generator handed the triggering event (the alert's sample stamped last_event_at)
 * to its producer, which it reports for every attack step, so that a generator that fell behind
 * its schedule (a busy machine) is told apart from the pipeline. Those alerts are also split where
 * the time goes: send → ingest (the triggering event's received_at, which ingest stamps as it takes
 * a batch in), ingest → the event's record on the validated topic (its create time; the bench
 * reads the attack steps' records, keyed by the attackers' 100.64.0.0/10 addresses), and that
 * record → the alert on topic (correlation's hop). Routes: one webhook receiver,
 * group_wait 0 (the router ticks as soon as it has recorded new alerts; its poll is 250 ms).
 *
 * Each rate first runs WARMUP seconds (default 10) on freshly started services, then SECONDS
 * measured ones, in one generator run: the table reports the alerts triggered in the measured part
 * (steady state) and, on its own line, those of the warm-up (cold start: JIT compilation, first
 * connections, consumer groups settling). CPU is measured over the measured part only.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AlertSchema, uuidV5 } from '@vigil/contracts';
import { parseEnv } from '@vigil/runtime';
import { testBrokers, uniqueName } from '@vigil/testing';
import { type ServiceName } from '@vigil/tools/dist/demo/pipeline';
import { StandinsEnvSchema, startStandins } from '@vigil/tools/dist/standins';
import { LoadProcess } from '@vigil/tools/dist/faults/load-process';
import { Schedule } from '@vigil/tools/dist/faults/load';
import { benchPipeline, fmt, kafka, pct, table } from './lib';
import { CpuMeter, infraPids, machineLoad } from './procstat';

const RATES = (process.env.BENCH_LATENCY_RATES ?? '1000,5000,10000').split(',').map(Number);
const SECONDS = Number(process.env.BENCH_LATENCY_SECONDS ?? 30);
const WARMUP = Number(process.env.BENCH_LATENCY_WARMUP_SECONDS ?? 10);
const ALL_SERVICES: ServiceName[] = ['ingest', 'correlation', 'siem-forwarder', 'alert-router', 'soar'];
/**
 * BENCH_LATENCY_SERVICES: which services run (comma-separated; default all five). The alert path
 * needs ingest and correlation; without the alert router there are no notifications to time. Lets
 * a run show what the alert path does when the forwarder and SOAR have cores of their own.
 */
const SERVICES = servicesToRun(process.env.BENCH_LATENCY_SERVICES);
const NOTIFY = SERVICES.includes('alert-router');

function servicesToRun(text: string | undefined): ServiceName[] {
  if (text === undefined || text.trim() === '') return ALL_SERVICES;
  const names = text.split(',').map((s) => s.trim());
  const unknown = names.filter((n) => !(ALL_SERVICES as string[]).includes(n));
  if (unknown.length > 0) throw new Error(`BENCH_LATENCY_SERVICES: unknown ${unknown.join(', ')}; one of ${ALL_SERVICES.join(', ')}`);
  for (const needed of ['ingest', 'correlation'] as const)
    if (!names.includes(needed)) throw new Error(`BENCH_LATENCY_SERVICES must include ${needed}: the alert path runs through it`);
  return ALL_SERVICES.filter((n) => names.includes(n));
}

const ROUTES = `route:
  receiver: hook
  group_by: [rule, group.*]
  group_wait: 0s
  group_interval: 1m
  repeat_interval: 4h
receivers:
  - name: hook
    webhook:
      url: \${ROUTER_WEBHOOK_URL}
      secret: \${ROUTER_WEBHOOK_SECRET}
`;

const ms = (n: number) => (Number.isFinite(n) ? `${fmt(n)}` : 'n/a');

interface RateResult {
  rate: number;
  alertsExpected: number;
  alerts: number[];
  /** The same alerts, measured from the moment the triggering event was handed to the producer. */
  alertsFromSend: number[];
  /** The same alerts split at ingest's receipt of the triggering event (its received_at). */
  sendToIngest: number[];
  ingestToAlert: number[];
  /** ingestToAlert split again at the triggering event's record on the validated topic. */
  ingestToValidated: number[];
  validatedToAlert: number[];
  notifications: number[];
  /** Alerts triggered during the warm-up: latencies to the topic and to the webhook. */
  warmAlerts: number[];
  warmNotifications: number[];
  maxLagMs: number;
  cpu: Record<string, number>;
  seconds: number;
  load: string;
}

async function atRate(rate: number): Promise<RateResult> {
  const standins = await startStandins(parseEnv(StandinsEnvSchema, { STANDINS_PORT_BASE: '29800' }));
  const dir = mkdtempSync(join(tmpdir(), 'bench-latency-'));
  writeFileSync(join(dir, 'routes.yaml'), ROUTES);
  const ns = uniqueName('bench-lat');
  const pipeline = await benchPipeline(
    ns,
    standins.env,
    21_800,
    { 'alert-router': { ROUTER_ROUTES_FILE: join(dir, 'routes.yaml') } },
    SERVICES,
  );
  // The bench reads times from the records (their create time), not from when it reads them, so
  // its consumers can wait long on an empty fetch: a 20 ms hold cost the broker 50 idle fetches a
  // second on the mostly idle alerts topic, on the same two cores as the pipeline measured.
  const consumer = kafka().consumer({ groupId: uniqueName('bench-alerts'), maxWaitTimeInMs: 500 });
  // The attack steps' records on the validated topic (keyed by the attacker's 100.64.0.0/10
  // address; the background traffic uses other addresses), by event id: their create time.
  const validatedConsumer = kafka().consumer({ groupId: uniqueName('bench-validated'), maxWaitTimeInMs: 500 });
  const validatedAt = new Map<string, number>();
  const onTopic = new Map<string, { at: number; trigger: number; triggerId: string | undefined; received: number | undefined }>();
  try {
    await consumer.connect();
    await consumer.subscribe({ topic: pipeline.topics.alerts, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const a = AlertSchema.safeParse(JSON.parse(message.value?.toString() ?? 'null'));
        if (!a.success || a.data.rule.id.startsWith('soar:') || onTopic.has(a.data.alert_id)) return;
        const trigger = Date.parse(a.data.last_event_at);
        // The triggering event is the sample stamped last_event_at (samples are the newest events).
        const sample = a.data.sample_events.find((e) => Date.parse(e.timestamp) === trigger);
        const received = sample ? Date.parse(sample.received_at) : undefined;
        onTopic.set(a.data.alert_id, { at: Number(message.timestamp), trigger, triggerId: sample?.event_id, received });
      },
    });
    await validatedConsumer.connect();
    await validatedConsumer.subscribe({ topic: pipeline.topics.events, fromBeginning: true });
    await validatedConsumer.run({
      eachMessage: async ({ message }) => {
        if (!message.key?.toString('latin1').startsWith('100.64.') || !message.value) return;
        const id = (JSON.parse(message.value.toString()) as { event_id?: unknown }).event_id;
        if (typeof id === 'string') validatedAt.set(id, Number(message.timestamp));
      },
    });
    const plan = {
      runId: uuidV5(ns),
      rate,
      count: rate * (WARMUP + SECONDS),
      attackEvery: Math.max(1, Math.floor(rate / 5)),
      junkEvery: 0,
    };
    const schedule = new Schedule(plan);
    const expected = schedule.expected().alerts.length;
    const pids = () => ({ ...Object.fromEntries(SERVICES.map((s) => [s, pipeline.services.pid(s)])), ...infraPids() });
    const cpu = new CpuMeter(pids);
    // The harness's own share of the two cores: the generator (from its reports) and this process
    // (the stand-ins, the webhook receiver and the bench's consumers).
    let generatorCpuMs0 = 0;
    let benchCpu0 = process.cpuUsage();
    const gen = new LoadProcess({
      plan,
      brokers: testBrokers().join(','),
      topic: pipeline.topics.eventsRaw,
      maxSeconds: WARMUP + SECONDS + 300,
      reportAttackSends: true,
    });
    // Warm-up and measured part count from the schedule's start (the generator builds its
    // messages first, so that building them is not part of the measured load).
    const started = (await gen.startsAt) ?? Date.now();
    const steadyFrom = started + WARMUP * 1000;
    let t0 = 0;
    const meter = setTimeout(
      () => {
        t0 = Date.now();
        cpu.start();
        generatorCpuMs0 = gen.last.cpuMs ?? 0;
        benchCpu0 = process.cpuUsage();
      },
      Math.max(0, steadyFrom - Date.now()),
    );
    const report = await gen.finished;
    clearTimeout(meter);
    if (t0 === 0) throw new Error(`the generator finished within the ${WARMUP} s warm-up`);
    const benchCpu = process.cpuUsage(benchCpu0);
    const used = {
      ...cpu.stop(),
      generator: ((report.cpuMs ?? 0) - generatorCpuMs0) / 1000,
      'bench process': (benchCpu.user + benchCpu.system) / 1e6,
    };
    const seconds = (Date.now() - t0) / 1000;
    if (report.acked < plan.count) throw new Error(`generator stopped at ${report.acked}/${plan.count}: ${gen.errors.join('; ')}`);
    // The alerts of the last attacks, and their notifications.
    const delivered = () => {
      const first = new Map<string, number>();
      for (const d of standins.instances.webhook.received)
        for (const a of (d.body as { alerts: { alert_id: string }[] }).alerts) if (!first.has(a.alert_id)) first.set(a.alert_id, d.at);
      return first;
    };
    const until = Date.now() + 180_000;
    while (Date.now() < until && (onTopic.size < expected || (NOTIFY && [...onTopic.keys()].some((id) => !delivered().has(id)))))
      await new Promise((r) => setTimeout(r, 250));
    const hook = delivered();
    const sentAt = new Map((report.attackSends ?? []).map(([i, at]) => [schedule.eventId(i), at]));
    const part = (steady: boolean) => {
      const entries = [...onTopic.entries()].filter(([, v]) => v.trigger >= steadyFrom === steady);
      // From the send, and split where the time goes. Ingest stamps received_at once per batch, as
      // it takes the batch in (millisecond ISO time).
      const fromSend: number[] = [];
      const sendToIngest: number[] = [];
      const ingestToAlert: number[] = [];
      const ingestToValidated: number[] = [];
      const validatedToAlert: number[] = [];
      for (const [, v] of entries) {
        const sent = v.triggerId === undefined ? undefined : sentAt.get(v.triggerId);
        if (sent === undefined) continue;
        fromSend.push(v.at - sent);
        if (v.received === undefined) continue;
        sendToIngest.push(v.received - sent);
        ingestToAlert.push(v.at - v.received);
        const validated = validatedAt.get(v.triggerId!);
        if (validated === undefined) continue;
        ingestToValidated.push(validated - v.received);
        validatedToAlert.push(v.at - validated);
      }
      const sorted = (xs: number[]) => xs.sort((a, b) => a - b);
      return {
        alerts: sorted(entries.map(([, v]) => v.at - v.trigger)),
        fromSend: sorted(fromSend),
        sendToIngest: sorted(sendToIngest),
        ingestToAlert: sorted(ingestToAlert),
        ingestToValidated: sorted(ingestToValidated),
        validatedToAlert: sorted(validatedToAlert),
        notifications: entries
          .filter(([id]) => hook.has(id))
          .map(([id, v]) => hook.get(id)! - v.trigger)
          .sort((a, b) => a - b),
      };
    };
    const steady = part(true);
    const warm = part(false);
    return {
      rate,
      alertsExpected: expected,
      alerts: steady.alerts,
      alertsFromSend: steady.fromSend,
      sendToIngest: steady.sendToIngest,
      ingestToAlert: steady.ingestToAlert,
      ingestToValidated: steady.ingestToValidated,
      validatedToAlert: steady.validatedToAlert,
      notifications: steady.notifications,
      warmAlerts: warm.alerts,
      warmNotifications: warm.notifications,
      maxLagMs: report.maxLagMs ?? 0,
      cpu: used,
      seconds,
      load: machineLoad(),
    };
  } finally {
    await consumer.disconnect();
    await validatedConsumer.disconnect();
    await pipeline.stop();
    await standins.close();
  }
}

export async function run(): Promise<void> {
  console.log(
    `rates: ${RATES.join(', ')} events/s, each ${WARMUP} s of warm-up then ${SECONDS} s measured; load average at start ${machineLoad()}`,
  );
  if (SERVICES.length < ALL_SERVICES.length)
    console.log(`services running: ${SERVICES.join(', ')} (not: ${ALL_SERVICES.filter((n) => !SERVICES.includes(n)).join(', ')})`);
  const results: RateResult[] = [];
  for (const rate of RATES) results.push(await atRate(rate));
  const quantiles = (xs: number[]) => [50, 95, 99, 100].map((p) => ms(pct(xs, p))).join(' / ');
  table(
    results.flatMap((r) => [
      {
        'events/s': fmt(r.rate),
        part: `measured ${SECONDS} s`,
        'generator max lag ms': fmt(r.maxLagMs),
        'alerts seen/expected': `${r.alerts.length + r.warmAlerts.length}/${r.alertsExpected}`,
        '→ alert p50/p95/p99/max ms': quantiles(r.alerts),
        'from the send (n)': `${quantiles(r.alertsFromSend)} (${r.alertsFromSend.length})`,
        '→ notification p50/p95/p99/max ms': NOTIFY ? quantiles(r.notifications) : 'no alert router',
        'load avg after': r.load,
      },
      {
        'events/s': '',
        part: `warm-up ${WARMUP} s`,
        'generator max lag ms': '',
        'alerts seen/expected': `${r.warmAlerts.length} of them`,
        '→ alert p50/p95/p99/max ms': quantiles(r.warmAlerts),
        'from the send (n)': '',
        '→ notification p50/p95/p99/max ms': NOTIFY ? quantiles(r.warmNotifications) : '',
        'load avg after': '',
      },
    ]),
  );
  console.log('\nWhere the time goes (measured part, from the send), split at ingest taking the triggering event in:');
  table(
    results.map((r) => ({
      'events/s': fmt(r.rate),
      'send → ingest p50/p95/p99/max ms': quantiles(r.sendToIngest),
      'ingest → alert on topic p50/p95/p99/max ms': quantiles(r.ingestToAlert),
      n: fmt(r.sendToIngest.length),
      '(ingest → validated record, p50/p95/p99/max ms)': quantiles(r.ingestToValidated),
      '(validated record → alert, p50/p95/p99/max ms)': quantiles(r.validatedToAlert),
    })),
  );
  console.log('\nCPU used during the measured part, % of one core (2 cores = 200%):');
  table(
    results.map((r) => ({
      'events/s': fmt(r.rate),
      ...Object.fromEntries(Object.entries(r.cpu).map(([k, v]) => [k, `${fmt((v / r.seconds) * 100)}%`])),
    })),
  );
  console.log(
    "→ alert: from the event's scheduled time (its timestamp), so a generator behind its schedule counts; from the send: from the moment the generator handed the triggering event to its producer",
  );
  console.log('target: p99 produce → alert on topic ≤ 100 ms at 5,000 events/s');
}
