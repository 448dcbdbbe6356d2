/**
 * End-to-end latency at fixed rates: event produced → alert on the alerts topic, and → notification
 * delivered at the (signed) webhook stand-in, p50/p95/p99, with the five services as processes and
 * the load generator in its own process (tools/src/faults/generator.ts: background traffic plus five
 * attacks a second whose alerts are known).
 *
 * "Produced" is the event's own timestamp: the generator stamps each event with its scheduled time
 * and sends it at most one tick (10 ms) plus one send later, so the figures include the producer's
 * batching. "Alert on topic" is the alert record's broker timestamp (set by correlation's producer);
 * the alert's last_event_at is the triggering event's timestamp. Routes: one webhook receiver,
 * group_wait 0, the router's default 250 ms poll.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AlertSchema, uuidV5 } from '@vigil/contracts';
import { parseEnv } from '@vigil/runtime';
import { testBrokers, testRedisUrl, uniqueName } from '@vigil/testing';
import { startPipeline, type ServiceName } from '@vigil/tools/dist/demo/pipeline';
import { StandinsEnvSchema, startStandins } from '@vigil/tools/dist/standins';
import { LoadProcess } from '@vigil/tools/dist/faults/load-process';
import { Schedule } from '@vigil/tools/dist/faults/load';
import { ROOT, fmt, kafka, table } from './lib';
import { CpuMeter, infraPids, machineLoad } from './procstat';

const RATES = (process.env.BENCH_LATENCY_RATES ?? '1000,5000,10000').split(',').map(Number);
const SECONDS = Number(process.env.BENCH_LATENCY_SECONDS ?? 30);
const SERVICES: ServiceName[] = ['ingest', 'correlation', 'siem-forwarder', 'alert-router', 'soar'];

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

function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const ms = (n: number) => (Number.isFinite(n) ? `${fmt(n)}` : 'n/a');

interface RateResult {
  rate: number;
  alertsExpected: number;
  alerts: number[];
  notifications: number[];
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
  const pipeline = await startPipeline({
    root: ROOT,
    brokers: testBrokers().join(','),
    redisUrl: testRedisUrl(),
    namespace: ns,
    standinsEnv: standins.env,
    portOffset: 21_800,
    overrides: { 'alert-router': { ROUTER_ROUTES_FILE: join(dir, 'routes.yaml') } },
    onLog: () => undefined,
  });
  const consumer = kafka().consumer({ groupId: uniqueName('bench-alerts'), maxWaitTimeInMs: 20 });
  const onTopic = new Map<string, { at: number; trigger: number }>();
  try {
    await consumer.connect();
    await consumer.subscribe({ topic: pipeline.topics.alerts, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const a = AlertSchema.safeParse(JSON.parse(message.value?.toString() ?? 'null'));
        if (!a.success || a.data.rule.id.startsWith('soar:') || onTopic.has(a.data.alert_id)) return;
        onTopic.set(a.data.alert_id, { at: Number(message.timestamp), trigger: Date.parse(a.data.last_event_at) });
      },
    });
    const plan = { runId: uuidV5(ns), rate, count: rate * SECONDS, attackEvery: Math.max(1, Math.floor(rate / 5)), junkEvery: 0 };
    const expected = new Schedule(plan).expected().alerts.length;
    const pids = () => ({ ...Object.fromEntries(SERVICES.map((s) => [s, pipeline.services.pid(s)])), ...infraPids() });
    const cpu = new CpuMeter(pids);
    const t0 = Date.now();
    cpu.start();
    const gen = new LoadProcess({ plan, brokers: testBrokers().join(','), topic: pipeline.topics.eventsRaw, maxSeconds: SECONDS + 300 });
    const report = await gen.finished;
    const used = cpu.stop();
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
    while (Date.now() < until && (onTopic.size < expected || [...onTopic.keys()].some((id) => !delivered().has(id))))
      await new Promise((r) => setTimeout(r, 250));
    const hook = delivered();
    const alerts = [...onTopic.values()].map((v) => v.at - v.trigger).sort((a, b) => a - b);
    const notifications = [...onTopic.entries()]
      .filter(([id]) => hook.has(id))
      .map(([id, v]) => hook.get(id)! - v.trigger)
      .sort((a, b) => a - b);
    return {
      rate,
      alertsExpected: expected,
      alerts,
      notifications,
      maxLagMs: report.maxLagMs ?? 0,
      cpu: used,
      seconds,
      load: machineLoad(),
    };
  } finally {
    await consumer.disconnect();
    await pipeline.stop();
    await standins.close();
  }
}

export async function run(): Promise<void> {
  console.log(`rates: ${RATES.join(', ')} events/s for ${SECONDS} s each; load average at start ${machineLoad()}`);
  const results: RateResult[] = [];
  for (const rate of RATES) results.push(await atRate(rate));
  table(
    results.map((r) => ({
      'events/s': fmt(r.rate),
      'generator max lag ms': fmt(r.maxLagMs),
      'alerts seen/expected': `${r.alerts.length}/${r.alertsExpected}`,
      '→ alert p50/p95/p99/max ms': [50, 95, 99, 100].map((p) => ms(pct(r.alerts, p))).join(' / '),
      '→ notification p50/p95/p99/max ms': [50, 95, 99, 100].map((p) => ms(pct(r.notifications, p))).join(' / '),
      'load avg after': r.load,
    })),
  );
  console.log('\nCPU used during the load, % of one core (2 cores = 200%):');
  table(
    results.map((r) => ({
      'events/s': fmt(r.rate),
      ...Object.fromEntries(Object.entries(r.cpu).map(([k, v]) => [k, `${fmt((v / r.seconds) * 100)}%`])),
    })),
  );
  console.log('target: p99 produce → alert on topic ≤ 100 ms at 5,000 events/s');
}
