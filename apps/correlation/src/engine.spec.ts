import { AlertSchema, DlqRecordSchema, topicNames, type SecurityEvent } from '@vigil/contracts';
import type { ConsumedMessage } from '@vigil/kafka';
import { Metrics, silentLogger } from '@vigil/runtime';
import { SHIPPED_RULES_DIR } from './config';
import type { RuleSet } from './domain/compile';
import { event, ruleSet, T0 } from './domain/testing';
import { CorrelationEngine, MemoryStore, type WindowStore } from './engine';
import { CorrelationMetrics } from './metrics';
import { loadRules } from './rules/loader';

const topics = topicNames('unit');
let offset = 0;
function msg(value: string | Buffer | null): ConsumedMessage {
  return {
    topic: topics.events,
    partition: 0,
    offset: String(offset++),
    key: null,
    value: value === null ? null : Buffer.isBuffer(value) ? value : Buffer.from(value),
    timestamp: String(T0),
    headers: {},
  };
}
const json = (e: unknown) => msg(JSON.stringify(e));

function engine(rules: RuleSet, store: WindowStore = new MemoryStore(), planSliceMs?: number) {
  const metrics = new CorrelationMetrics(new Metrics('correlation', { defaultMetrics: false }));
  const e = new CorrelationEngine(
    () => rules,
    store,
    {
      topics,
      time: { latenessMs: 60_000, maxFutureMs: 300_000 },
      decode: { maxBytes: 64 * 1024, maxDepth: 16 },
      ...(planSliceMs !== undefined ? { planSliceMs } : {}),
    },
    metrics,
    silentLogger(),
  );
  return { e, metrics, store };
}

async function shipped(): Promise<RuleSet> {
  const r = await loadRules(SHIPPED_RULES_DIR);
  if (!r.ok) throw new Error('shipped rules invalid');
  return r.ruleSet;
}

/** Fires on every event, grouped by source address. */
const oneEventRule = () =>
  ruleSet({ id: 'one', name: 'One', severity: 'low', kind: 'threshold', threshold: 1, window: 60, group_by: ['source.ip'] });

const failures = (n: number, over: Partial<SecurityEvent> = {}) =>
  Array.from({ length: n }, (_, i) => event(`f${i}`, { at: T0 + i * 1000, actor: { type: 'user', user_id: 'alice' }, ...over }));

describe('CorrelationEngine', () => {
  it('dead-letters what the validated topic should never carry, with the reason, and goes on', async () => {
    const { e } = engine(await shipped());
    const bad: Array<[ConsumedMessage, string]> = [
      [msg('not json'), 'invalid_json'],
      [msg(null), 'invalid_json'],
      [json([1, 2]), 'not_an_object'],
      [json({ ...event(1), schema_version: 2 }), 'unsupported_schema_version'],
      [json({ ...event(2), event_id: 'not-a-uuid' }), 'schema_violation'],
      [json({ ...event(3), timestamp: '2026-11-29 10:00' }), 'schema_violation'],
      [msg(Buffer.from(JSON.stringify(event(4)).replace('"details":{}', '"details":{"__proto__":{"x":1}}'))), 'forbidden_key'],
    ];
    const out = await e.process(
      bad.map(([m]) => m),
      T0,
    );
    expect(out.alerts).toHaveLength(0);
    const records = out.messages.map((m) => {
      expect(m.topic).toBe(topics.alertsDlq);
      return DlqRecordSchema.parse(JSON.parse(String(m.value)));
    });
    expect(records.map((r) => r.error_kind)).toEqual(bad.map(([, k]) => k));
    expect(records.every((r) => r.service === 'correlation' && r.source.topic === topics.events)).toBe(true);
    expect(records[4]!.issues.map((i) => i.path)).toContain('event_id');
  });

  it('publishes one valid alert keyed by its dedup key for a brute force in one batch', async () => {
    const { e } = engine(await shipped());
    const out = await e.process(failures(7).map(json), T0 + 10_000);
    expect(out.messages).toHaveLength(1);
    const m = out.messages[0]!;
    expect(m.topic).toBe(topics.alerts);
    const alert = AlertSchema.parse(JSON.parse(String(m.value)));
    expect(alert.rule.id).toBe('brute_force_login');
    expect(m.key).toBe(alert.dedup_key);
    expect(alert.dedup_key).toBe('brute_force_login|source.ip=203.0.113.7');
    expect(alert.event_count).toBe(5);
    expect(alert.sample_events).toHaveLength(5);
    expect(alert.action).toBe('block_ip');
    expect(out.published).toHaveLength(1);
  });

  it('publishes an alert once when its trigger is delivered twice in the same batch and not marked yet', async () => {
    const { e } = engine(await shipped());
    const evs = failures(5);
    const out = await e.process([...evs, evs[4]!].map(json), T0 + 10_000);
    expect(out.alerts).toHaveLength(1);
  });

  it('republishes the same alert when the batch is redelivered before the alert was marked published', async () => {
    const { e } = engine(await shipped());
    const evs = failures(5).map(json);
    const first = await e.process(evs, T0 + 10_000);
    const again = await e.process(evs, T0 + 99_000); // crash before markPublished: same batch again
    expect(again.alerts).toEqual(first.alerts);
    const { e: e2, store } = engine(await shipped());
    const one = await e2.process(evs, T0);
    await store.markPublished(one.published, T0);
    expect((await e2.process(evs, T0)).alerts).toHaveLength(0);
  });

  it('does not throw on a condition over a field of the wrong type; the event simply does not match', async () => {
    const rules = ruleSet({
      id: 'typed',
      name: 'Typed',
      severity: 'low',
      kind: 'threshold',
      conditions: [
        { field: 'details.count', operator: 'greater_than', value: 10 },
        { field: 'details.path', operator: 'regex', value: '^/admin' },
      ],
      threshold: 1,
      window: 60,
      group_by: ['source.ip'],
    });
    const { e, metrics } = engine(rules);
    const odd = [
      event(1, { details: { count: { nested: true }, path: 42 } }),
      event(2, { details: { count: [11], path: ['/admin'] } }),
      event(3, { details: { count: 'eleven', path: null } }),
    ];
    const out = await e.process(odd.map(json), T0);
    expect(out.messages).toHaveLength(0);
    const text = await metrics.shared.registry.metrics();
    expect(text).not.toMatch(/vigil_correlation_window_updates_total\{/);
    const hit = await e.process([json(event(4, { details: { count: '11', path: '/admin/x' } }))], T0);
    expect(hit.alerts).toHaveLength(1);
  });

  it('counts events stamped beyond the future cap and events missing a group field', async () => {
    const { e, metrics } = engine(await shipped());
    await e.process([json(event(1, { at: T0 + 3600_000 })), json(event(2, { source: { application: 'web' } }))], T0);
    const text = await metrics.shared.registry.metrics();
    expect(text).toMatch(/vigil_correlation_future_events_total\{service="correlation"\} 1/);
    expect(text).toMatch(/vigil_correlation_ungrouped_events_total\{rule="brute_force_login",service="correlation"\} 1/);
  });

  it('counts alerts and dead letters only when told the batch is on the broker (a failed send is retried, not counted twice)', async () => {
    const { e, metrics } = engine(await shipped());
    const out = await e.process([msg('not json'), ...failures(5).map(json)], T0 + 10_000);
    expect(out.alerts).toHaveLength(1);
    const before = await metrics.shared.registry.metrics();
    expect(before).not.toMatch(/vigil_correlation_alerts_total\{/);
    expect(before).not.toMatch(/vigil_messages_dead_lettered_total\{/);
    e.countSent(out);
    const after = await metrics.shared.registry.metrics();
    expect(after).toMatch(/vigil_correlation_alerts_total\{rule="brute_force_login",delivery="new",service="correlation"\} 1/);
    expect(after).toMatch(
      /vigil_messages_dead_lettered_total\{topic="unit\.security\.alerts\.dlq",kind="invalid_json",service="correlation"\} 1/,
    );
  });

  it('plans a large batch in slices, yet batches reach the store in the order they came', async () => {
    const rules = oneEventRule();
    const memory = new MemoryStore();
    const applied: number[] = [];
    let ticks = 0;
    const store: WindowStore = {
      roundTrips: 0,
      apply: (calls, nowMs) => (applied.push(calls.length), memory.apply(calls, nowMs)),
      markPublished: (refs, nowMs) => memory.markPublished(refs, nowMs),
    };
    const { e } = engine(rules, store, 0); // pause at every chance (each 64th event)
    const ip = (i: number) => ({ source: { application: 'api', ip: `10.0.${i >> 8}.${i & 255}` } });
    const big = Array.from({ length: 300 }, (_, i) => json(event(`big${i}`, ip(i))));
    const small = [json(event('small', ip(1000)))];
    const ticker = setInterval(() => ticks++, 0);
    const [a, b] = await Promise.all([e.process(big, T0), e.process(small, T0)]);
    clearInterval(ticker);
    expect(applied).toEqual([300, 1]); // the small batch planned first, but waited its turn
    expect([a.alerts.length, b.alerts.length]).toEqual([300, 1]);
    expect(ticks).toBeGreaterThan(0); // the event loop ran while the big batch was planned
  });

  it('keeps an oversized event as a sample with its details replaced, so the alert still fits the schema', async () => {
    const rules = oneEventRule();
    const { e } = engine(rules);
    const out = await e.process([json(event(1, { details: { blob: 'x'.repeat(40_000) } }))], T0);
    expect(out.alerts[0]!.sample_events[0]!.details).toEqual({ vigil_truncated: true });
  });
});
