import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster, Redis } from 'ioredis';
import { uuidV5, type SecurityEvent } from '@vigil/contracts';
import { testRedisUrl, uniqueName, waitFor } from '@vigil/testing';
import { compileRuleSet, type RuleSet } from '../src/domain/compile';
import { groupCalls, planEvent, type TimeSettings } from '../src/domain/plan';
import { DEFAULT_WINDOW_LIMITS, MemoryWindowStore, type WindowLimits } from '../src/domain/window';
import { RedisWindowStore, windowKeys, type RedisWindowStoreOptions } from '../src/redis/window-store';
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
function stream(seed: number, size: number, tickMs = 1): SecurityEvent[][] {
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)]!;
  const users = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi', 'ivan', 'judy', 'mallory'];
  const events: SecurityEvent[] = [];
  let clock = T0;
  for (let i = 0; i < size; i++) {
    clock += Math.floor((rnd() * 4000) / tickMs) * tickMs;
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

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** A private one-node Redis Cluster (all 16 384 slots on one server): it refuses cross-slot scripts. */
async function startCluster(): Promise<{ client: Cluster; stop: () => Promise<void> }> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'vigil-cluster-'));
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--cluster-enabled',
    'yes',
    // Without it the node tells clients an empty address for its slots until it meets a peer.
    '--cluster-announce-ip',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    dir,
  ];
  const proc: ChildProcess = spawn('redis-server', args, { stdio: 'ignore' });
  const admin = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  const stop = async () => {
    admin.disconnect();
    if (proc.exitCode === null) {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGKILL');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(
      `redis-server (cluster) on ${port}`,
      async () => {
        if (admin.status !== 'ready') await admin.connect().catch(() => undefined);
        return (await admin.ping().catch(() => null)) === 'PONG';
      },
      10_000,
      50,
    );
    await admin.call('CLUSTER', 'ADDSLOTSRANGE', '0', '16383');
    await waitFor('cluster state ok', async () => String(await admin.call('CLUSTER', 'INFO')).includes('cluster_state:ok'), 10_000, 50);
    const client = new Cluster([{ host: '127.0.0.1', port }], { redisOptions: { maxRetriesPerRequest: 2 } });
    return {
      client,
      stop: async () => {
        client.disconnect();
        await stop();
      },
    };
  } catch (err) {
    await stop();
    throw err;
  }
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
    options: Partial<RedisWindowStoreOptions> = {},
    client: Redis | Cluster = redis,
  ): Promise<{ fires: number; statuses: Record<string, number> }> {
    const prefix = `${uniqueName('conf')}:`;
    if (client === redis) prefixes.push(prefix);
    const memory = new MemoryWindowStore(limits);
    const store = new RedisWindowStore(client, prefix, limits, options);
    let fires = 0;
    const statuses: Record<string, number> = {};
    let now = T0;
    for (const batch of batches) {
      now += 100;
      const updates = batch.flatMap(
        (e) => planEvent(rules, e, Buffer.from(JSON.stringify(e)), ips.indexOf(e.source.ip!) % 2, now, TIME).updates,
      );
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

  // The store keeps small windows inside their state and moves bigger ones to a sorted set:
  // 0 puts every window in a sorted set, 8 moves many of them mid-stream, 1000 never does.
  it.each([0, 8, 1000])(
    'gives identical answers whether a window keeps its members in its state or in a sorted set (inline limit %i), in calls of 3 windows',
    async (inlineMembers) => {
      const rules = await testRules();
      const { fires, statuses } = await compare(rules, stream(11, 400), DEFAULT_WINDOW_LIMITS, { inlineMembers, windowsPerCall: 3 });
      expect(fires).toBeGreaterThan(5);
      expect(statuses.late).toBeGreaterThan(0);
    },
  );

  it('agrees on Redis Cluster too, where each script call stays within one slot', async () => {
    const cluster = await startCluster();
    try {
      const rules = await testRules();
      // A cross-slot script call would fail with CROSSSLOT; a wrong routing with MOVED.
      const { fires } = await compare(rules, stream(3, 200), DEFAULT_WINDOW_LIMITS, { inlineMembers: 8 }, cluster.client);
      expect(fires).toBeGreaterThan(3);
      expect(await cluster.client.dbsize()).toBeGreaterThan(10);
    } finally {
      await cluster.stop();
    }
  });

  it.each([0, 1000])(
    'orders events of the same millisecond alike (by member), wherever the members are kept (inline limit %i)',
    async (inlineMembers) => {
      const rules = await testRules();
      // Whole seconds: about a third of the events share their millisecond with another one.
      const { fires } = await compare(rules, stream(23, 400, 1000), DEFAULT_WINDOW_LIMITS, { inlineMembers });
      expect(fires).toBeGreaterThan(5);
    },
  );

  /** An event for the hand-made cases below. */
  function ev(id: string, at: number, over: Partial<SecurityEvent> = {}): SecurityEvent {
    return {
      schema_version: 1,
      event_id: uuidV5(`case:${id}`),
      timestamp: new Date(at).toISOString(),
      received_at: new Date(at).toISOString(),
      severity: 'medium',
      source: { application: 'web', ip: ips[0]! },
      actor: { type: 'user', user_id: 'alice' },
      event_type: 'authentication',
      action: 'login',
      outcome: 'failure',
      details: {},
      tags: [],
      ...over,
    };
  }

  it.each([0, 1000])(
    'orders events of the same millisecond by member, wherever the members are kept (inline limit %i)',
    async (inlineMembers) => {
      const rules = await testRules();
      // Two failures then a success, all at one millisecond: ordered by member ("01:" before "10:"),
      // the success comes first, so the ordered sequence must not fire; in arrival order it would.
      const success = ev('tie-s', T0, { outcome: 'success' });
      const { fires } = await compare(rules, [[ev('tie-f1', T0), ev('tie-f2', T0), success]], DEFAULT_WINDOW_LIMITS, { inlineMembers });
      expect(fires).toBe(0);
    },
  );

  it.each([0, 1000])('evicts exactly what no late event can reach any more (inline limit %i)', async (inlineMembers) => {
    const rules = await testRules();
    // privilege_escalation here: 3 in 20 s per user; lateness 30 s. Partitions follow the address.
    const denied = (id: string, at: number, ip: string) =>
      ev(id, at, { source: { application: 'web', ip }, event_type: 'authorization', outcome: 'denied', target: { resource: '/admin' } });
    // The newest event (t + 50 s) leaves the one at t + 1 ms just inside window + lateness, so two
    // events from another partition at t + 2 and t + 3 ms still make three in 20 s.
    const { fires } = await compare(
      rules,
      [
        [denied('ev-a', T0 + 1, ips[0]!), denied('ev-b', T0 + 50_000, ips[0]!)],
        [denied('ev-c', T0 + 2, ips[1]!), denied('ev-d', T0 + 3, ips[1]!)],
      ],
      DEFAULT_WINDOW_LIMITS,
      { inlineMembers },
    );
    expect(fires).toBe(1);
  });

  it.each([0, 2, 1000])('forgets the oldest members beyond the member cap alike (inline limit %i)', async (inlineMembers) => {
    const rules = await testRules();
    const capped: WindowLimits = { ...DEFAULT_WINDOW_LIMITS, memberCap: 4 };
    const failures = Array.from({ length: 7 }, (_, i) => ev(`cap:${i}`, T0 + i * 1000));
    // The first three fell off the cap: delivered again, they count again; the last four do not.
    const { statuses } = await compare(rules, [failures.slice(0, 4), failures.slice(4), failures], capped, { inlineMembers });
    expect(statuses.duplicate).toBeGreaterThan(0);
    expect(statuses.accepted).toBeGreaterThan(7 * 3);
  });

  it.each([2, 1000])(
    'agrees under tight limits too (member cap, scan cap, candidate cap, fire records), inline limit %i',
    async (inlineMembers) => {
      const rules = await testRules();
      const tight: WindowLimits = { memberCap: 4, scanCap: 3, candidateCap: 1, fireRecords: 1, samples: 2, ttlRefreshMs: 0 };
      const { fires } = await compare(rules, stream(42, 400), tight, { inlineMembers });
      expect(fires).toBeGreaterThan(0);
    },
  );

  // Inline limit 0: every window has a sorted set from its first event; 12: many move to one in
  // the second call, inside the refresh interval, and it must still get the state's TTL.
  it.each([0, 12, 1000])(
    'puts every key of a window in one cluster slot and gives every key a TTL, also after updates inside the TTL refresh interval (inline limit %i)',
    async (inlineMembers) => {
      const rules = await testRules();
      const prefix = `${uniqueName('ttl')}:`;
      prefixes.push(prefix);
      const store = new RedisWindowStore(redis, prefix, DEFAULT_WINDOW_LIMITS, { inlineMembers });
      const batch = stream(7, 50).flat();
      const updates = batch.flatMap((e) => planEvent(rules, e, Buffer.from(JSON.stringify(e)), 0, T0, TIME).updates);
      const calls = groupCalls(updates, TIME).map((c) => c.call);
      await store.apply(calls, T0);
      // Two hours later in event time, one second later in processing time (inside the TTL refresh
      // interval, so the script does not re-set TTLs): the old members are evicted, new ones added.
      const later = batch.map((e) => ({
        ...e,
        event_id: uuidV5(`later:${e.event_id}`),
        timestamp: new Date(Date.parse(e.timestamp) + 7200_000).toISOString(),
      }));
      const laterUpdates = later.flatMap((e) => planEvent(rules, e, Buffer.from(JSON.stringify(e)), 0, T0 + 1000, TIME).updates);
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
        const k = Object.values(windowKeys(prefix, c.key));
        const slots = await Promise.all(k.map((key) => redis.call('CLUSTER', 'KEYSLOT', key).catch(() => null)));
        // CLUSTER KEYSLOT needs cluster mode on some servers; fall back to checking the hash tag.
        if (slots.every((s) => s !== null)) expect(new Set(slots).size).toBe(1);
        else for (const key of k) expect(key).toContain(`{${c.key}}`);
      }
      if (inlineMembers === 0) expect(keys.some((k) => k.endsWith(':z'))).toBe(true);
      if (inlineMembers === 1000) expect(keys.some((k) => k.endsWith(':z'))).toBe(false);
    },
  );
});
