import { Redis } from 'ioredis';
import { DlqRecordSchema, type TopicNames } from '@vigil/contracts';
import type { ConsumedMessage } from '@vigil/kafka';
import { silentLogger } from '@vigil/runtime';
import { committedTotal, freshTopics, readTopic, testRedisUrl, uniqueName, waitFor } from '@vigil/testing';
import { SHIPPED_RULES_DIR } from '../src/config';
import { CorrelationEngine } from '../src/engine';
import { RedisWindowStore } from '../src/redis/window-store';
import { CorrelationMetrics } from '../src/metrics';
import { loadRules } from '../src/rules/loader';
import { Metrics } from '@vigil/runtime';
import { metricValue, produceEvents, readAlerts, scenario, startCorrelation, uniquePrefix, type Instance } from './scenario';

const keyOf = (a: { rule: { id: string }; dedup_key: string }) => a.dedup_key;

describe('correlation against a real broker and Redis', () => {
  let topics: TopicNames;
  let namespace: string;
  let instances: Instance[] = [];
  const prefixes: string[] = [];

  beforeEach(async () => {
    ({ namespace, topics } = await freshTopics(3, ['events', 'alerts', 'alertsDlq']));
  });
  afterEach(async () => {
    await Promise.all(instances.map((i) => i.app.close()));
    instances = [];
  });
  afterAll(async () => {
    const redis = new Redis(testRedisUrl());
    for (const p of prefixes) {
      const keys = await redis.keys(`${p}*`);
      if (keys.length) await redis.del(...keys);
    }
    redis.disconnect();
  });

  it('raises exactly one alert per attack in a replayed scenario with benign traffic, disorder, duplicates and late events', async () => {
    const { delivered, expected } = scenario('one');
    const handwritten = JSON.stringify({ schema_version: 1, event_id: 'written-by-hand', timestamp: 'yesterday' });
    await produceEvents(topics.events, [...delivered, handwritten]);
    const prefix = uniquePrefix();
    prefixes.push(prefix);
    const groupId = uniqueName('corr');
    const inst = await startCorrelation({ namespace, groupId, prefix });
    instances.push(inst);

    const alerts = await readAlerts(topics.alerts, expected.length);
    expect(alerts.map(keyOf).sort()).toEqual(expected);
    expect(new Set(alerts.map((a) => a.alert_id)).size).toBe(alerts.length);

    const spray = alerts.find((a) => a.rule.id === 'password_spraying')!;
    expect(spray.distinct_count).toBeGreaterThanOrEqual(10);
    const exfil = alerts.find((a) => a.rule.id === 'data_exfiltration')!;
    expect(exfil).toMatchObject({ severity: 'high', event_count: 100, action: 'disable_user', group: { 'actor.user_id': 'mallory' } });
    expect(exfil.sample_events.length).toBe(5);
    const seq = alerts.find((a) => a.rule.id === 'brute_force_success')!;
    expect(seq.severity).toBe('critical');
    expect(seq.last_event_at).toBe(new Date(Date.parse(seq.first_event_at) + 50_000).toISOString());

    const dlq = await readTopic(topics.alertsDlq, 1, { settleMs: 300 });
    expect(dlq).toHaveLength(1);
    const record = DlqRecordSchema.parse(JSON.parse(dlq[0]!.value.toString()));
    expect(record).toMatchObject({ service: 'correlation', error_kind: 'schema_violation' });
    expect(record.issues.map((i) => i.path)).toEqual(expect.arrayContaining(['event_id', 'timestamp']));

    await waitFor('every message committed', async () => (await committedTotal(groupId, topics.events)) === delivered.length + 1);
    expect(await metricValue(inst.metrics, 'vigil_correlation_window_updates_total', { rule: 'brute_force_login', outcome: 'late' })).toBe(
      2,
    );
    expect(await metricValue(inst.metrics, 'vigil_correlation_window_updates_total', { outcome: 'duplicate' })).toBeGreaterThan(10);
    // Every key the service wrote has a TTL.
    const redis = new Redis(testRedisUrl());
    const keys = await redis.keys(`${prefix}*`);
    expect(keys.length).toBeGreaterThan(10);
    const ttls = await Promise.all(keys.map((k) => redis.pttl(k)));
    redis.disconnect();
    expect(ttls.filter((t) => t <= 0)).toEqual([]);
  });

  it('produces the same alerts with two instances in one consumer group as with one, without misses or doubles', async () => {
    const { delivered, expected } = scenario('two');
    const prefix = uniquePrefix();
    prefixes.push(prefix);
    const groupId = uniqueName('corr');
    instances.push(await startCorrelation({ namespace, groupId, prefix, env: { CORRELATION_PARTITIONS_CONCURRENTLY: '1' } }));
    instances.push(await startCorrelation({ namespace, groupId, prefix, env: { CORRELATION_PARTITIONS_CONCURRENTLY: '1' } }));
    // Both joined before any event exists, so the partitions are split between them.
    await new Promise((r) => setTimeout(r, 1500));
    await produceEvents(topics.events, delivered);

    const alerts = await readAlerts(topics.alerts, expected.length, 2500);
    expect(alerts.map(keyOf).sort()).toEqual(expected);
    expect(new Set(alerts.map((a) => a.alert_id)).size).toBe(alerts.length);
    await waitFor('every message committed', async () => (await committedTotal(groupId, topics.events)) === delivered.length);
    const perInstance = await Promise.all(instances.map((i) => metricValue(i.metrics, 'vigil_messages_consumed_total')));
    expect(perInstance.every((n) => n > 0)).toBe(true);
  });

  it('publishes the alert with the same id after a crash between the window update and the publish', async () => {
    const { delivered } = scenario('crash', ['A1']);
    await produceEvents(topics.events, delivered);
    const prefix = uniquePrefix();
    prefixes.push(prefix);

    // The instance that "crashed": it updated the windows in Redis, then died before sending anything
    // and before committing. Its messages are exactly what the broker holds.
    const onTopic = await readTopic(topics.events, delivered.length, { timeoutMs: 10_000 });
    const asConsumed: ConsumedMessage[] = onTopic.map((m) => ({
      topic: topics.events,
      partition: m.partition,
      offset: m.offset,
      key: m.key === null ? null : Buffer.from(m.key),
      value: m.value,
      timestamp: '0',
      headers: m.headers,
    }));
    const loaded = await loadRules(SHIPPED_RULES_DIR);
    if (!loaded.ok) throw new Error('rules');
    const redis = new Redis(testRedisUrl());
    const crashed = new CorrelationEngine(
      () => loaded.ruleSet,
      new RedisWindowStore(redis, prefix),
      { topics, time: { latenessMs: 60_000, maxFutureMs: 300_000 }, decode: { maxBytes: 1 << 20, maxDepth: 32 } },
      new CorrelationMetrics(new Metrics('correlation', { defaultMetrics: false })),
      silentLogger(),
    );
    const lost = await crashed.process(asConsumed, Date.now());
    redis.disconnect();
    expect(lost.alerts).toHaveLength(1);

    // The replacement reads the same uncommitted messages: every event is a duplicate now, yet the
    // unpublished firing is published, with the id the crashed instance had computed.
    const inst = await startCorrelation({ namespace, groupId: uniqueName('corr'), prefix });
    instances.push(inst);
    const alerts = await readAlerts(topics.alerts, 1, 1500);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.alert_id).toBe(lost.alerts[0]!.alert_id);
    expect(alerts[0]).toEqual(lost.alerts[0]);
    expect(await metricValue(inst.metrics, 'vigil_correlation_alerts_total', { delivery: 'republished' })).toBe(1);
  });
});
