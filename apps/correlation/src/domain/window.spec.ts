import type { SecurityEvent } from '@vigil/contracts';
import { buildAlert } from './alert';
import type { RuleSet } from './compile';
import { groupCalls, planEvent, type PlannedUpdate, type TimeSettings } from './plan';
import { event, ruleSet, T0 } from './testing';
import { DEFAULT_WINDOW_LIMITS, MemoryWindowStore, type EventStatus, type FireRecord } from './window';

const S = 1000;
const TIME: TimeSettings = { latenessMs: 60 * S, maxFutureMs: 300 * S };

/** Feeds events one batch at a time (each inner array is one batch) and records what happened. */
function run(
  rules: RuleSet,
  batches: SecurityEvent[][],
  opts: { time?: TimeSettings; publish?: boolean; store?: MemoryWindowStore; partitionOf?: (e: SecurityEvent) => number } = {},
) {
  const store = opts.store ?? new MemoryWindowStore();
  const time = opts.time ?? TIME;
  const statuses: EventStatus[] = [];
  const fires: Array<{ rule: string; x: number; n: number; d?: number; update: PlannedUpdate; record: FireRecord; status: EventStatus }> =
    [];
  let future = 0;
  for (const batch of batches) {
    const updates: PlannedUpdate[] = [];
    for (const e of batch) {
      const plan = planEvent(rules, e, Buffer.from(JSON.stringify(e)), opts.partitionOf?.(e) ?? 0, T0, time);
      if (plan.future) future++;
      updates.push(...plan.updates);
    }
    const calls = groupCalls(updates, time);
    const results = store.apply(
      calls.map((c) => c.call),
      T0,
    );
    results.forEach((r, i) => {
      r.statuses.forEach((st, j) => {
        statuses.push(st);
        const rec = r.fires[j];
        const u = calls[i]!.updates[j]!;
        if (rec)
          fires.push({
            rule: u.rule.id,
            x: rec.x - T0,
            n: rec.n,
            ...(rec.d !== undefined ? { d: rec.d } : {}),
            update: u,
            record: rec,
            status: st,
          });
      });
    });
    if (opts.publish ?? true)
      store.markPublished(
        fires.map((f) => ({ key: f.update.key, eventId: f.record.e })),
        T0,
      );
  }
  return { statuses, fires, future, store };
}

const fail = (n: number, sec: number, over: Partial<SecurityEvent> = {}) => event(n, { at: T0 + sec * S, ...over });
const ok = (n: number, sec: number, over: Partial<SecurityEvent> = {}) => event(n, { at: T0 + sec * S, outcome: 'success', ...over });
const each = (events: SecurityEvent[]) => events.map((e) => [e]);

const threshold = ruleSet({
  id: 'brute',
  name: 'Brute',
  severity: 'high',
  kind: 'threshold',
  conditions: [{ field: 'outcome', operator: 'equals', value: 'failure' }],
  threshold: 3,
  window: 60,
  group_by: ['source.ip'],
});

describe('threshold windows', () => {
  const rows: Array<[string, SecurityEvent[][], Array<{ x: number; n: number }>]> = [
    ['fires when N events fall in the window', each([fail(1, 0), fail(2, 10), fail(3, 20)]), [{ x: 20 * S, n: 3 }]],
    ['does not fire when the events are spread wider than the window', each([fail(1, 0), fail(2, 40), fail(3, 60)]), []],
    ['treats the window as half-open: an event exactly W later starts a new window', each([fail(1, 0), fail(2, 30), fail(3, 60)]), []],
    [
      'fires once for a long burst (suppression), not every N events',
      each([0, 5, 10, 15, 20, 25, 30, 35].map((s, i) => fail(i, s))),
      [{ x: 10 * S, n: 3 }],
    ],
    [
      'fires again once suppress_for has passed in event time and the attack goes on',
      each([0, 5, 10, 40, 69, 70, 75, 80].map((s, i) => fail(i, s))),
      [
        { x: 10 * S, n: 3 },
        { x: 70 * S, n: 3 },
      ],
    ],
    ['fires the same way when the burst arrives in reverse order', each([fail(3, 20), fail(2, 10), fail(1, 0)]), [{ x: 20 * S, n: 3 }]],
    [
      'fires the same way when the whole burst comes in one batch, shuffled',
      [[fail(2, 10), fail(3, 20), fail(1, 0)]],
      [{ x: 20 * S, n: 3 }],
    ],
    [
      'counts a late event in an older window than the newest one',
      each([fail(1, 0), fail(2, 1), fail(10, 70), fail(3, 25)]),
      [{ x: 25 * S, n: 3 }],
    ],
    ['does not count a redelivered event twice', each([fail(1, 0), fail(2, 10), fail(2, 10), fail(1, 0)]), []],
    ['keeps groups apart', each([fail(1, 0), fail(2, 10, { source: { application: 'web', ip: '198.51.100.1' } }), fail(3, 20)]), []],
    ['ignores events that do not match the conditions', each([fail(1, 0), ok(2, 10), fail(3, 20)]), []],
  ];
  it.each(rows)('%s', (_name, batches, expected) => {
    expect(run(threshold, batches).fires.map(({ x, n }) => ({ x, n }))).toEqual(expected);
  });

  it('drops an event older than the allowed lateness behind its group, and counts it as late', () => {
    const r = run(threshold, each([fail(1, 200), fail(2, 100), fail(3, 199), fail(4, 198)]));
    expect(r.statuses).toEqual(['accepted', 'late', 'accepted', 'accepted']);
    expect(r.fires.map((f) => f.x)).toEqual([200 * S]);
  });

  it('judges lateness per source partition: a partition consumed behind another is not late', () => {
    const lagging = (e: SecurityEvent) => (e.action === 'lagging' ? 1 : 0);
    const r = run(
      threshold,
      each([fail(1, 200), fail(2, 100, { action: 'lagging' }), fail(3, 110, { action: 'lagging' }), fail(4, 120, { action: 'lagging' })]),
      {
        partitionOf: lagging,
      },
    );
    expect(r.statuses).toEqual(['accepted', 'accepted', 'accepted', 'accepted']);
    expect(r.fires.map((f) => f.x)).toEqual([120 * S]);
  });

  it('does not evaluate events stamped beyond the future cap, so they cannot move any watermark', () => {
    const farFuture = fail(9, 10 * 24 * 3600);
    const r = run(threshold, each([farFuture, fail(1, 0), fail(2, 10), fail(3, 20)]));
    expect(r.future).toBe(1);
    expect(r.statuses).toEqual(['accepted', 'accepted', 'accepted']);
    expect(r.fires.map((f) => f.x)).toEqual([20 * S]);
  });

  it('only lets a group advance its own watermark: a future-ish event in one group makes nobody else late', () => {
    const other = { source: { application: 'web', ip: '198.51.100.9' } };
    const r = run(threshold, each([fail(9, 250, other), fail(1, 0), fail(2, 10), fail(3, 20)]));
    expect(r.statuses).toEqual(['accepted', 'accepted', 'accepted', 'accepted']);
    expect(r.fires).toHaveLength(1);
  });

  it('re-delivers a firing whose alert was never marked published, with the identical record, then treats it as a duplicate', () => {
    const store = new MemoryWindowStore();
    const first = run(threshold, each([fail(1, 0), fail(2, 10), fail(3, 20)]), { store, publish: false });
    expect(first.fires).toHaveLength(1);
    const again = run(threshold, each([fail(3, 20)]), { store, publish: false });
    expect(again.statuses).toEqual(['refire']);
    expect(again.fires[0]!.record).toEqual(first.fires[0]!.record);
    const u = first.fires[0]!;
    expect(buildAlert(u.update.rule, u.update.group, u.update.dedupKey, again.fires[0]!.record)).toEqual(
      buildAlert(u.update.rule, u.update.group, u.update.dedupKey, u.record),
    );
    store.markPublished([{ key: u.update.key, eventId: u.record.e }], T0);
    expect(run(threshold, each([fail(3, 20)]), { store }).statuses).toEqual(['duplicate']);
  });

  it('bounds the window: beyond the member cap the oldest events go first', () => {
    const store = new MemoryWindowStore({ ...DEFAULT_WINDOW_LIMITS, memberCap: 2 });
    const r = run(threshold, each([fail(1, 0), fail(2, 10), fail(3, 20)]), { store });
    expect(r.fires).toHaveLength(0);
  });
});

const spraying = ruleSet({
  id: 'spray',
  name: 'Spray',
  severity: 'high',
  kind: 'distinct_count',
  conditions: [{ field: 'outcome', operator: 'equals', value: 'failure' }],
  field: 'actor.user_id',
  threshold: 3,
  window: 60,
  group_by: ['source.ip'],
});
const user = (u: string) => ({ actor: { type: 'user' as const, user_id: u } });

describe('distinct_count windows', () => {
  const rows: Array<[string, SecurityEvent[][], Array<{ x: number; n: number; d?: number }>]> = [
    [
      'fires when N distinct values fall in the window',
      each([fail(1, 0, user('a')), fail(2, 5, user('b')), fail(3, 9, user('c'))]),
      [{ x: 9 * S, n: 3, d: 3 }],
    ],
    ['does not fire on many events with few values', each([1, 2, 3, 4, 5].map((i) => fail(i, i, user(i % 2 ? 'a' : 'b')))), []],
    [
      'counts events and distinct values separately',
      each([fail(1, 0, user('a')), fail(2, 1, user('a')), fail(3, 2, user('b')), fail(4, 3, user('c'))]),
      [{ x: 3 * S, n: 4, d: 3 }],
    ],
    ['does not count values that left the window', each([fail(1, 0, user('a')), fail(2, 30, user('b')), fail(3, 61, user('c'))]), []],
    [
      'fires the same way out of order',
      each([fail(3, 9, user('c')), fail(1, 0, user('a')), fail(2, 5, user('b'))]),
      [{ x: 9 * S, n: 3, d: 3 }],
    ],
    [
      'skips events without the counted field',
      each([fail(1, 0, user('a')), fail(2, 5, { actor: { type: 'system' } }), fail(3, 9, user('c'))]),
      [],
    ],
  ];
  it.each(rows)('%s', (_name, batches, expected) => {
    expect(run(spraying, batches).fires.map(({ x, n, d }) => ({ x, n, d }))).toEqual(expected);
  });
});

const seq = (ordered: boolean) =>
  ruleSet({
    id: 'seq',
    name: 'Seq',
    severity: 'critical',
    kind: 'sequence',
    ordered,
    steps: [
      { name: 'failures', conditions: [{ field: 'outcome', operator: 'equals', value: 'failure' }], count: 2 },
      { name: 'success', conditions: [{ field: 'outcome', operator: 'equals', value: 'success' }] },
    ],
    window: 60,
  });

describe('sequence windows', () => {
  const rows: Array<[string, boolean, SecurityEvent[][], number[]]> = [
    ['ordered: fires when the steps happen in order', true, each([fail(1, 0), fail(2, 5), ok(3, 10)]), [10]],
    ['ordered: does not fire when a step is short', true, each([fail(1, 0), ok(3, 10)]), []],
    ['ordered: does not fire when the success comes first', true, each([ok(3, 0), fail(1, 5), fail(2, 10)]), []],
    ['ordered: does not fire across a span wider than the window', true, each([fail(1, 0), fail(2, 5), ok(3, 61)]), []],
    ['ordered: fires when delivery is out of order but event times are in order', true, each([ok(3, 10), fail(2, 5), fail(1, 0)]), [10]],
    ['ordered: fires at the first success after enough failures', true, each([fail(1, 0), ok(9, 2), fail(2, 5), ok(3, 10)]), [10]],
    ['ordered: keeps users apart (default group_by is source IP + user)', true, each([fail(1, 0), fail(2, 5, user('bob')), ok(3, 10)]), []],
    ['unordered: fires whatever the order of the steps', false, each([ok(3, 0), fail(1, 5), fail(2, 10)]), [10]],
    ['unordered: does not fire when a step is short', false, each([ok(3, 0), fail(1, 5)]), []],
  ];
  it.each(rows)('%s', (_name, ordered, batches, expected) => {
    expect(run(seq(ordered), batches).fires.map((f) => f.x / S)).toEqual(expected);
  });
});

describe('alerts built from a firing', () => {
  it('carry the rule, group, counts, times and in-window samples, and an id stable for the same firing', () => {
    const r = run(threshold, each([fail(0, -100), fail(1, 0), fail(2, 10), fail(3, 20)]));
    const f = r.fires[0]!;
    const alert = buildAlert(f.update.rule, f.update.group, f.update.dedupKey, f.record);
    expect(alert).toMatchObject({
      dedup_key: 'brute|source.ip=203.0.113.7',
      rule: { id: 'brute', name: 'Brute', kind: 'threshold' },
      severity: 'high',
      group: { 'source.ip': '203.0.113.7' },
      event_count: 3,
      first_event_at: new Date(T0).toISOString(),
      last_event_at: new Date(T0 + 20 * S).toISOString(),
      created_at: new Date(T0).toISOString(),
    });
    expect(alert.sample_events.map((e) => e.event_id)).toEqual([fail(1, 0), fail(2, 10), fail(3, 20)].map((e) => e.event_id));
    const again = run(threshold, each([fail(1, 0), fail(2, 10), fail(3, 20)])).fires[0]!;
    expect(buildAlert(again.update.rule, again.update.group, again.update.dedupKey, again.record).alert_id).toBe(alert.alert_id);
  });
});
