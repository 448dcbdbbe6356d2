/**
 * router: the built alert router (apps/alert-router/dist/main.js) as its own process against the
 * real Kafka and Redis and a local signature-verifying webhook stand-in.
 *  - alerts/s routed: a burst of alerts (50 per group) consumed, routed and recorded in Redis group
 *    state, up to the committed offset; next to a bare kafkajs consumer draining the same topic.
 *  - latency: alert on the topic (produce acknowledged) → notification delivered at the stand-in,
 *    one alert at a time, group_wait 0; next to a bare produce → consume round trip.
 *  - a storm of distinct groups: alerts that each open a group of their own (a distributed attack
 *    from many addresses), so each costs a whole notification (group state, flush claim, delivery
 *    job, webhook POST, notification record); notifications/s and CPU per notification.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { topicNames } from '@vigil/contracts';
import { startWebhookReceiverStandin, type WebhookReceiverStandin } from '@vigil/standins';
import { committedTotal, freshTopics, sleep, testBrokers, testRedisUrl, uniqueName } from '@vigil/testing';
import { pct } from './lib';
import { CpuMeter, infraPids, machineLoad } from './procstat';

const BURST = 5_000;
const PER_GROUP = 50;
const LATENCY_SAMPLES = 150;
/** Alerts of the storm part, each its own group: one notification each. */
const STORM = Number(process.env.BENCH_ROUTER_STORM ?? 1_000);
const SECRET = 'bench-webhook-secret-0123456789abcdef0123';
const ROOT = resolve(__dirname, '../..');

function alertJson(dedup: string, ip: string): string {
  const now = new Date().toISOString();
  return JSON.stringify({
    schema_version: 1,
    alert_id: randomUUID(),
    dedup_key: dedup,
    rule: { id: 'bench_rule', name: 'Bench rule', description: 'benchmark', kind: 'threshold' },
    severity: 'high',
    group: { 'source.ip': ip },
    event_count: 10,
    first_event_at: now,
    last_event_at: now,
    sample_events: [],
    tags: ['bench'],
    created_at: now,
  });
}

async function waitUntil(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return;
    await sleep(10);
  }
  throw new Error(`timed out waiting for ${what}`);
}

export async function run(): Promise<void> {
  const { namespace } = await freshTopics(3, ['alerts', 'alertsDlq', 'notifications', 'notificationsDlq']);
  const topics = topicNames(namespace);
  const hook: WebhookReceiverStandin = await startWebhookReceiverStandin({ secret: SECRET });
  const dir = mkdtempSync(join(tmpdir(), 'bench-router-'));
  const routes = join(dir, 'routes.yaml');
  writeFileSync(
    routes,
    `route:\n  receiver: hook\n  group_by: [rule, group.*]\n  group_wait: 0s\n  group_interval: 10m\n  repeat_interval: 4h\nreceivers:\n  - name: hook\n    webhook:\n      url: \${HOOK_URL}\n      secret: \${HOOK_SECRET}\n`,
  );
  const groupId = uniqueName('bench-router');
  const child: ChildProcess = spawn(process.execPath, [join(ROOT, 'apps/alert-router/dist/main.js')], {
    env: {
      PATH: process.env.PATH,
      KAFKA_BROKERS: testBrokers().join(','),
      REDIS_URL: testRedisUrl(),
      REDIS_KEY_PREFIX: `${uniqueName('bench')}:`,
      VIGIL_TOPIC_NAMESPACE: namespace,
      KAFKA_CREATE_TOPICS: 'false',
      ROUTER_GROUP_ID: groupId,
      ROUTER_ROUTES_FILE: routes,
      ROUTER_POLL_INTERVAL_MS: '20',
      ROUTER_DELIVERY_CONCURRENCY: '16',
      HTTP_PORT: '0',
      HTTP_HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      HOOK_URL: hook.url,
      HOOK_SECRET: SECRET,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const kafka = new Kafka({ clientId: uniqueName('bench'), brokers: testBrokers(), logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    const delivered = new Map<string, number>();
    let burstPosts = 0;
    const seen = () => {
      for (const d of hook.received.splice(0)) {
        const body = d.body as { alerts: { dedup_key: string }[] };
        if (body.alerts.some((a) => a.dedup_key.startsWith('burst-'))) burstPosts++;
        for (const a of body.alerts) if (!delivered.has(a.dedup_key)) delivered.set(a.dedup_key, d.at);
      }
    };
    // Warm-up: the router has joined its group and delivers.
    await producer.send({ topic: topics.alerts, acks: -1, messages: [{ key: 'warm', value: alertJson('warm', '192.0.2.1') }] });
    await waitUntil('the router to deliver a first notification', () => (seen(), delivered.has('warm')), 60_000);

    // Latency, one alert at a time.
    const lat: number[] = [];
    for (let i = 0; i < LATENCY_SAMPLES; i++) {
      const key = `lat-${i}`;
      await producer.send({ topic: topics.alerts, acks: -1, messages: [{ key, value: alertJson(key, `198.18.0.${i % 250}`) }] });
      const onTopic = Date.now();
      await waitUntil(`delivery of ${key}`, () => (seen(), delivered.has(key)), 30_000);
      lat.push(delivered.get(key)! - onTopic);
    }
    lat.sort((a, b) => a - b);

    // Baseline latency: bare produce (acks=all) → consume of one message at a time.
    const baseTopic = topics.alertsDlq;
    const probe = kafka.consumer({ groupId: uniqueName('bench-probe'), maxWaitTimeInMs: 20 });
    await probe.connect();
    await probe.subscribe({ topic: baseTopic, fromBeginning: false });
    const got = new Map<string, number>();
    let joined = false;
    probe.on(probe.events.GROUP_JOIN, () => (joined = true));
    await probe.run({ eachMessage: async ({ message }) => void got.set(message.key?.toString() ?? '', Date.now()) });
    await waitUntil('probe to join', () => joined, 30_000);
    await sleep(500);
    const base: number[] = [];
    for (let i = 0; i < 50; i++) {
      const key = `b-${i}`;
      await producer.send({ topic: baseTopic, acks: -1, messages: [{ key, value: 'x' }] });
      const t = Date.now();
      await waitUntil('probe', () => got.has(key), 10_000);
      base.push(got.get(key)! - t);
    }
    await probe.disconnect();
    base.sort((a, b) => a - b);

    // Throughput: a burst, 50 alerts per group, until the router has committed all of it.
    const before = await committedTotal(groupId, topics.alerts);
    const values = Array.from({ length: BURST }, (_, i) => {
      const g = Math.floor(i / PER_GROUP);
      return { key: `burst-${g}`, value: alertJson(`burst-${g}`, `198.19.${Math.floor(g / 250)}.${g % 250}`) };
    });
    const t0 = Date.now();
    for (let i = 0; i < values.length; i += 500)
      await producer.send({ topic: topics.alerts, acks: -1, messages: values.slice(i, i + 500) });
    await waitUntil('the burst to be committed', async () => (await committedTotal(groupId, topics.alerts)) - before >= BURST, 300_000);
    const routedSecs = (Date.now() - t0) / 1000;
    const groups = BURST / PER_GROUP;
    await waitUntil(
      'one notification per burst group',
      () => (seen(), [...delivered.keys()].filter((k) => k.startsWith('burst-')).length >= groups),
      120_000,
    );

    // A storm of distinct groups: every alert its own notification.
    const meter = new CpuMeter(() => ({ router: child.pid, ...infraPids() }));
    const stormLoad = machineLoad();
    meter.start();
    const s0 = Date.now();
    const storm = Array.from({ length: STORM }, (_, i) => ({
      key: `storm-${i}`,
      value: alertJson(`storm-${i}`, `198.20.${Math.floor(i / 250)}.${i % 250}`),
    }));
    for (let i = 0; i < storm.length; i += 500) await producer.send({ topic: topics.alerts, acks: -1, messages: storm.slice(i, i + 500) });
    await waitUntil(
      'one notification per storm alert',
      () => (seen(), [...delivered.keys()].filter((k) => k.startsWith('storm-')).length >= STORM),
      300_000,
    );
    const stormSecs = (Date.now() - s0) / 1000;
    const stormCpu = meter.stop();

    // Baseline throughput: a bare consumer draining the same topic from the start.
    const total = BURST + LATENCY_SAMPLES + 1 + STORM;
    const drain = kafka.consumer({ groupId: uniqueName('bench-drain'), maxWaitTimeInMs: 50 });
    await drain.connect();
    await drain.subscribe({ topic: topics.alerts, fromBeginning: true });
    let n = 0;
    let firstAt = 0;
    await drain.run({
      eachBatch: async ({ batch }) => {
        if (!firstAt) firstAt = Date.now();
        n += batch.messages.length;
      },
    });
    await waitUntil('drain', () => n >= total, 120_000);
    const drainSecs = (Date.now() - firstAt) / 1000;
    await drain.disconnect();

    const routed = BURST / routedSecs;
    const raw = total / drainSecs;
    console.log(`alerts routed (consume → route → Redis group state → commit), burst of ${BURST} in ${groups} groups`);
    console.log(`  router:        ${routed.toFixed(0)} alerts/s   (${routedSecs.toFixed(2)} s)`);
    console.log(`  bare consumer: ${raw.toFixed(0)} msgs/s     ratio router/bare = ${(routed / raw).toFixed(3)}`);
    await sleep(1_000);
    seen();
    console.log(`  notifications for the burst: ${groups} groups → ${burstPosts} webhook posts`);
    console.log(`latency alert on topic → notification delivered at the stand-in (group_wait 0), ${LATENCY_SAMPLES} samples`);
    console.log(`  router:  p50 ${pct(lat, 50)} ms   p99 ${pct(lat, 99)} ms   max ${lat[lat.length - 1]} ms`);
    console.log(
      `  bare produce→consume: p50 ${pct(base, 50)} ms   p99 ${pct(base, 99)} ms   ratio p99 router/bare = ${(pct(lat, 99) / Math.max(1, pct(base, 99))).toFixed(2)}`,
    );
    const perNote = (sec: number | undefined) => (sec === undefined ? '-' : ((sec * 1000) / STORM).toFixed(2));
    console.log(`a storm of ${STORM} alerts in ${STORM} groups (one notification each; load average at start ${stormLoad})`);
    console.log(
      `  ${(STORM / stormSecs).toFixed(0)} notifications/s (${stormSecs.toFixed(2)} s); CPU ms per notification: router ${perNote(stormCpu.router)}, redis ${perNote(stormCpu.redis)}, kafka ${perNote(stormCpu.kafka)}`,
    );
    console.log(`  webhook signature failures at the stand-in: ${hook.rejected.length}`);
  } finally {
    await producer.disconnect();
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    await hook.close();
  }
}
