import { Redis } from 'ioredis';
import { uuidV5, type SecurityEvent } from '@vigil/contracts';
import { testRedisUrl, uniqueName } from '@vigil/testing';
import { compileRuleSet, type RuleSet } from '../src/domain/compile';
import { groupCalls, planEvent, type TimeSettings } from '../src/domain/plan';
import { DEFAULT_WINDOW_LIMITS, MemoryWindowStore, type WindowLimits } from '../src/domain/window';
import { RedisWindowStore, windowKeys } from '../src/redis/window-store';
import { loadRules } from '../src/rules/loader';
import { SHIPPED_RULES_DIR } from '../src/config';

const ips = ['203.0.113.1', '203.0.113.2', '198.51.100.3'];

/** Small deterministic PRNG so a failing seed can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const T0 = Date.parse('2026-11-29T10:00:00.000Z');
const TIME: TimeSettings = { latenessMs: 30_000, maxFutureMs: 300_000 };

/** A stream with bursts, benign noise, duplicates and local disorder, for every event kind the rules read. */
function stream(seed: number, size: number): SecurityEvent[][] {
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)]!;
  const users = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi', 'ivan', 'judy', 'mallory'];
  const events: SecurityEvent[] = [];
  let clock = T0;
  for (let i = 0; i < size; i++) {
    clock += Math.floor(rnd() * 4000);
    const kind = rnd();
    const base = {
      schema_version: 1 as const,
      event_id: uuidV5(`conformance:${seed}:${i}`),
      timestamp: new Date(clock).toISOString(),
      received_at: new Date(clock).toISOString(),
      severity: 'medium' as const,
      source: { application: 'web', ip: pick(ips) },
      actor: { type: 'user' as const, user_id: pick(users) },
      details: {},
      tags: [],
    };
    if (kind < 0.55) events.push({ ...base, event_type: 'authentication', action: 'login', outcome: rnd() < 0.8 ? 'failure' : 'success' });
    else if (kind < 0.7)
      events.push({
        ...base,
        event_type: 'authorization',
        action: 'access',
        outcome: 'denied',
        target: { resource: pick(['/admin/users', '/home']) },
      });
    else if (kind < 0.85)
      events.push({
        ...base,
        event_type: 'network_event',
        action: 'api',
        outcome: 'failure',
        details: { response_code: pick([200, 401, 403, 429]) },
      });
    else events.push({ ...base, event_type: 'data_access', action: 'read', outcome: 'success' });
  }
  // Disorder: swap neighbours within a few positions; duplicate some deliveries.
  for (let i = 0; i < events.length; i++) {
    if (rnd() < 0.3) {
      const j = Math.min(events.length - 1, i + 1 + Math.floor(rnd() * 4));
      [events[i], events[j]] = [events[j]!, events[i]!];
    }
  }
  // A few stragglers arrive 10-40 events (about 20-80 s of event time) late: some beyond the lateness.
  for (let i = events.length - 41; i >= 0; i--) {
    if (rnd() < 0.04) events.splice(i + 10 + Math.floor(rnd() * 30), 0, events.splice(i, 1)[0]!);
  }
  const delivered: SecurityEvent[] = [];
  for (const e of events) {
    delivered.push(e);
    if (rnd() < 0.08) delivered.push(e);
  }
  // Batches of 1 to 40.
  const batches: SecurityEvent[][] = [];
  for (let i = 0; i < delivered.length;) {
    const n = 1 + Math.floor(rnd() * 40);
    batches.push(delivered.slice(i, i + n));
    i += n;
  }
  return batches;
}

/** The shipped rules with small thresholds and windows so the random streams fire often, plus an unordered sequence. */
async function testRules(): Promise<RuleSet> {
  const loaded = await loadRules(SHIPPED_RULES_DIR);
  if (!loaded.ok) throw new Error('shipped rules invalid');
  const docs = loaded.ruleSet.rules.map((r) => {
    const d: Record<string, unknown> = { ...r.rule, window: 20 };
    if (r.kind === 'threshold') d.threshold = 3;
    if (r.kind === 'distinct_count') d.threshold = 3;
    if (r.kind === 'sequence')
      d.steps = (r.rule as { steps: Array<Record<string, unknown>> }).steps.map((s, i) => ({ ...s, count: i === 0 ? 2 : 1 }));
    return d;
  });
  docs.push({
    id: 'unordered_probe',
    name: 'Unordered',
    severity: 'low',
    kind: 'sequence',
    ordered: false,
    window: 15,
    group_by: ['source.ip'],
    steps: [
      { name: 'denied', conditions: [{ field: 'outcome', operator: 'equals', value: 'denied' }], count: 2 },
      { name: 'api', conditions: [{ field: 'event_type', operator: 'equals', value: 'network_event' }] },
    ],
  });
  const r = compileRuleSet(docs.map((document, i) => ({ file: `r${i}`, document })));
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.ruleSet;
}

describe('the Redis window script against the pure evaluator', () => {
  let redis: Redis;
  const prefixes: string[] = [];

  beforeAll(() => {
    redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: 2 });
  });
  afterAll(async () => {
    for (const p of prefixes) {
      const keys = await redis.keys(`${p}*`);
      if (keys.length) await redis.del(...keys);
    }
    redis.disconnect();
  });

  async function compare(
    rules: RuleSet,
    batches: SecurityEvent[][],
    limits: WindowLimits,
  ): Promise<{ fires: number; statuses: Record<string, number> }> {
    const prefix = `${uniqueName('conf')}:`;
    prefixes.push(prefix);
    const memory = new MemoryWindowStore(limits);
    const store = new RedisWindowStore(redis, prefix, limits);
    let fires = 0;
    const statuses: Record<string, number> = {};
    let now = T0;
    for (const batch of batches) {
      now += 100;
      const updates = batch.flatMap((e) => planEvent(rules, e, JSON.stringify(e), ips.indexOf(e.source.ip!) % 2, now, TIME).updates);
      const calls = groupCalls(updates, TIME).map((c) => c.call);
      const expected = memory.apply(calls, now);
      const actual = await store.apply(calls, now);
      expect(actual).toEqual(expected);
      const refs = expected.flatMap((r, i) => r.fires.flatMap((f) => (f ? [{ key: calls[i]!.key, eventId: f.e }] : [])));
      // Leave some firings unpublished so redeliveries exercise the re-fire path in both.
      const publish = refs.filter((_, i) => i % 3 !== 0);
      memory.markPublished(publish, now);
      await store.markPublished(publish);
      for (const r of expected) {
        fires += r.fires.filter(Boolean).length;
        for (const s of r.statuses) statuses[s] = (statuses[s] ?? 0) + 1;
      }
    }
    return { fires, statuses };
  }

  it.each([1, 2, 3, 4, 5])(
    'gives identical statuses and firing records on random stream %i (duplicates, disorder, late events)',
    async (seed) => {
      const rules = await testRules();
      const batches = stream(seed, 400);
      // Replay the tail of the stream again, as a consumer does after a crash.
      const replay = batches.slice(-5);
      const { fires, statuses } = await compare(rules, [...batches, ...replay], DEFAULT_WINDOW_LIMITS);
      // The stream must exercise every path, or the comparison proves little.
      expect(fires).toBeGreaterThan(5);
      expect(statuses.accepted).toBeGreaterThan(100);
      expect(statuses.duplicate).toBeGreaterThan(5);
      expect(statuses.late).toBeGreaterThan(0);
    },
  );

  it('agrees under tight limits too (member cap, scan cap, candidate cap, fire records)', async () => {
    const rules = await testRules();
    const tight: WindowLimits = { memberCap: 4, scanCap: 3, candidateCap: 1, fireRecords: 1, samples: 2, ttlRefreshMs: 0 };
    const { fires } = await compare(rules, stream(42, 400), tight);
    expect(fires).toBeGreaterThan(0);
  });

  it('puts every key of a window in one cluster slot and gives every key a TTL, also after updates inside the TTL refresh interval', async () => {
    const rules = await testRules();
    const prefix = `${uniqueName('ttl')}:`;
    prefixes.push(prefix);
    const store = new RedisWindowStore(redis, prefix);
    const batch = stream(7, 50).flat();
    const updates = batch.flatMap((e) => planEvent(rules, e, JSON.stringify(e), 0, T0, TIME).updates);
    const calls = groupCalls(updates, TIME).map((c) => c.call);
    await store.apply(calls, T0);
    // Two hours later in event time, one second later in processing time (inside the TTL refresh
    // interval, so the script does not re-set TTLs): the old members are evicted, new ones added.
    const later = batch.map((e) => ({
      ...e,
      event_id: uuidV5(`later:${e.event_id}`),
      timestamp: new Date(Date.parse(e.timestamp) + 7200_000).toISOString(),
    }));
    const laterUpdates = later.flatMap((e) => planEvent(rules, e, JSON.stringify(e), 0, T0 + 1000, TIME).updates);
    await store.apply(
      groupCalls(laterUpdates, TIME).map((c) => c.call),
      T0 + 1000,
    );
    const keys = await redis.keys(`${prefix}*`);
    expect(keys.length).toBeGreaterThan(3);
    for (const k of keys) {
      const ttl = await redis.pttl(k);
      expect(ttl).toBeGreaterThan(0);
    }
    for (const c of calls.slice(0, 5)) {
      const k = windowKeys(prefix, c.key);
      const slots = await Promise.all([k.w, k.h].map((key) => redis.call('CLUSTER', 'KEYSLOT', key).catch(() => null)));
      // CLUSTER KEYSLOT needs cluster mode on some servers; fall back to checking the hash tag.
      if (slots.every((s) => s !== null)) expect(new Set(slots).size).toBe(1);
      else for (const key of [k.w, k.h]) expect(key).toContain(`{${c.key}}`);
    }
  });
});
