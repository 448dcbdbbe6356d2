/**
 * Window semantics, in event time. This file is the reference: the Redis adapter's Lua script
 * (src/redis/window.lua) implements exactly the same steps over Redis structures, and an
 * integration test feeds both the same streams and requires identical answers.
 *
 * Per (rule, group) the state is: the window (event id → event time, as a sorted set), the
 * group's watermark (newest accepted event time) and one per source partition, `sup` (no firing
 * at an event time below it),
 * the last few firings (so a redelivered trigger republishes the same alert) and the five most
 * recently accepted events (alert samples).
 *
 * An event at time t is, in order:
 *   1. a re-fire, when it is the event that caused a firing whose alert is not yet marked
 *      published (a crash between window update and publish): the stored firing is returned again;
 *   2. late, when t < (the group's watermark for the event's partition) − allowed lateness:
 *      counted, not added, never fires. Lateness is judged per partition because partitions are
 *      consumed independently: during a replay or a backlog one partition may run minutes ahead
 *      of another, and that skew is the consumer's, not the producers' disorder;
 *   3. a duplicate, when its member is already in the window (event_id is part of the member);
 *   4. accepted: added; the windows that contain it are evaluated.
 * Windows are the half-open spans (x − W, x] ending at an event time x (all integers, ms). A group
 * fires at the first x ≥ max(t, sup) with x < t + W whose window satisfies the rule; then
 * sup = x + suppress_for. So a late event is counted in every window it belongs to, not just the
 * newest one, and out-of-order delivery fires as in-order delivery would.
 */

/** Limits that bound Redis memory and Lua run time per call. Same values in Lua (passed as args). */
export interface WindowLimits {
  /** Most events kept per (rule, group); the oldest go first beyond it. */
  readonly memberCap: number;
  /** Most window entries one evaluation reads (the newest ones in the range). */
  readonly scanCap: number;
  /** Most candidate window ends one out-of-order distinct_count or sequence evaluation tries. */
  readonly candidateCap: number;
  /** Firings remembered per group for republishing after a crash. */
  readonly fireRecords: number;
  /** Recent events kept per group as alert samples. */
  readonly samples: number;
  /** Key TTLs are refreshed at most this often (processing time): keys keep ≥ ttl − this. */
  readonly ttlRefreshMs: number;
}

export const DEFAULT_WINDOW_LIMITS: WindowLimits = {
  memberCap: 10_000,
  scanCap: 1_000,
  candidateCap: 32,
  fireRecords: 8,
  samples: 5,
  ttlRefreshMs: 20_000,
};

export type WindowKind = 'threshold' | 'distinct_count' | 'sequence';

/** What the store needs to know about a rule to update and evaluate one of its windows. */
export interface WindowParams {
  readonly kind: WindowKind;
  readonly windowMs: number;
  readonly suppressMs: number;
  readonly latenessMs: number;
  /** threshold / distinct_count: the count to reach. */
  readonly threshold: number;
  /** sequence: each step's count, in order. */
  readonly stepCounts: readonly number[];
  readonly ordered: boolean;
  /** Key time-to-live, ms (processing time): every update refreshes it. */
  readonly ttlMs: number;
}

/**
 * One event's contribution to one window. `member` is unique per event and deterministic:
 * threshold `eid`; distinct_count `eid\tvalue`; sequence `flags:eid` (flags: one '0'/'1' per step).
 */
export interface WindowEvent {
  readonly eventId: string;
  readonly ts: number;
  /** Source partition (lateness is judged per partition). */
  readonly partition: number;
  readonly member: string;
  /**
   * The event as JSON (UTF-8), kept as an alert sample. Bytes, not a string: the Redis store
   * copies them into its script call as they are, so the consumed value is never decoded twice.
   */
  readonly sample: Uint8Array;
}

/** A firing as stored with the window (short names: it lives in Redis as JSON). */
export interface FireRecord {
  /** Event id whose arrival caused the firing. */
  e: string;
  /** Event time the firing window ends at. */
  x: number;
  /** Earliest event time in that window. */
  f: number;
  /** Events in that window. */
  n: number;
  /** Distinct values in that window (distinct_count only). */
  d?: number;
  /** Processing time of the firing (becomes created_at, so a republish is identical). */
  c: number;
  /** Recent events as JSON, newest first. */
  s: string[];
}

export type EventStatus = 'accepted' | 'duplicate' | 'late' | 'refire';

/** All of one batch's events for one (rule, group) key, applied in order in one atomic step. */
export interface KeyCall {
  /** Identifies the window: `<rule id>@<fingerprint>:<group id>` (see groupIdOf). */
  readonly key: string;
  readonly params: WindowParams;
  readonly events: readonly WindowEvent[];
}

export interface KeyResult {
  readonly statuses: EventStatus[];
  /** Aligned with statuses: the firing an event caused (accepted) or re-delivers (refire). */
  readonly fires: Array<FireRecord | null>;
}

/** An event time in a window, with its member; kept sorted by (score, member) like a Redis zset. */
export interface Entry {
  readonly score: number;
  readonly member: string;
}

export interface Firing {
  x: number;
  f: number;
  n: number;
  d?: number;
}

export function compareEntries(a: Entry, b: Entry): number {
  if (a.score !== b.score) return a.score - b.score;
  return a.member < b.member ? -1 : a.member > b.member ? 1 : 0;
}

function stepFlags(member: string): string {
  const i = member.indexOf(':');
  return i < 0 ? '' : member.slice(0, i);
}

function distinctValue(member: string): string {
  const i = member.indexOf('\t');
  return i < 0 ? '' : member.slice(i + 1);
}

/** True when the window entries[left..right] satisfies the rule. */
function windowFires(p: WindowParams, entries: readonly Entry[], left: number, right: number): { ok: boolean; d?: number } {
  if (p.kind === 'threshold') return { ok: right - left + 1 >= p.threshold };
  if (p.kind === 'distinct_count') {
    const seen = new Set<string>();
    for (let i = left; i <= right; i++) seen.add(distinctValue(entries[i]!.member));
    return { ok: seen.size >= p.threshold, d: seen.size };
  }
  const k = p.stepCounts.length;
  if (p.ordered) {
    // Greedy: each event advances the current step if it matches it. Greedy earliest matching
    // finds an ordered occurrence whenever one exists in the window.
    let stage = 0;
    let cnt = 0;
    for (let i = left; i <= right; i++) {
      if (stepFlags(entries[i]!.member)[stage] === '1') {
        cnt++;
        if (cnt === p.stepCounts[stage]) {
          stage++;
          cnt = 0;
          if (stage === k) return { ok: true };
        }
      }
    }
    return { ok: false };
  }
  const counts = new Array<number>(k).fill(0);
  for (let i = left; i <= right; i++) {
    const flags = stepFlags(entries[i]!.member);
    for (let s = 0; s < k; s++) if (flags[s] === '1') counts[s]!++;
  }
  return { ok: counts.every((c, s) => c >= p.stepCounts[s]!) };
}

/**
 * Evaluates the windows an accepted event at `t` belongs to. `entries` is the whole window,
 * sorted, already holding the event; `prevWm` the watermark before it; `sup` the suppression
 * bound. Returns the firing, or null.
 */
export function evaluate(
  p: WindowParams,
  entries: readonly Entry[],
  t: number,
  prevWm: number | null,
  sup: number | null,
  limits: WindowLimits,
  member: string,
): Firing | null {
  const W = p.windowMs;
  const lo = sup !== null && sup > t ? sup : t;
  const hi = t + W - 1;
  if (lo > hi) return null;
  if (p.kind === 'threshold' && (prevWm === null || t >= prevWm)) {
    // In order: every entry is ≤ t, so the only window end to try is t itself.
    if (t < lo) return null;
    const left = lowerBound(entries, t - W + 1);
    const right = upperBound(entries, t) - 1;
    const n = right - left + 1;
    if (n < p.threshold) return null;
    return { x: t, f: entries[left]!.score, n };
  }
  // In order, an event that is not a last step cannot end an ordered sequence (saves the scan).
  if (p.kind === 'sequence' && p.ordered && (prevWm === null || t >= prevWm) && stepFlags(member)[p.stepCounts.length - 1] !== '1') {
    return null;
  }
  // General case: the newest scanCap entries in [lo − W + 1, hi], ascending.
  const from = lowerBound(entries, lo - W + 1);
  const to = upperBound(entries, hi);
  const scan = entries.slice(Math.max(from, to - limits.scanCap), to);
  let tried = 0;
  let lastX: number | null = null;
  const lastStep = p.stepCounts.length - 1;
  for (let j = 0; j < scan.length; j++) {
    const x = scan[j]!.score;
    if (x < lo || x === lastX) continue;
    if (p.kind === 'sequence' && p.ordered && stepFlags(scan[j]!.member)[lastStep] !== '1') continue;
    lastX = x;
    // Threshold candidates cost a binary search each; the others a scan, so they are capped.
    if (p.kind !== 'threshold' && ++tried > limits.candidateCap) break;
    const left = lowerBound(scan, x - W + 1);
    const right = upperBound(scan, x) - 1;
    const r = windowFires(p, scan, left, right);
    if (r.ok) return { x, f: scan[left]!.score, n: right - left + 1, ...(r.d !== undefined ? { d: r.d } : {}) };
  }
  return null;
}

/** First index whose score is ≥ s. */
function lowerBound(a: readonly Entry[], s: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid]!.score < s) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index whose score is > s. */
function upperBound(a: readonly Entry[], s: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid]!.score <= s) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const utf8 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8');

interface GroupState {
  entries: Entry[];
  members: Set<string>;
  wm: number | null;
  partitionWm: Map<number, number>;
  sup: number | null;
  fires: Map<string, FireRecord>;
  fireOrder: string[];
  published: Set<string>;
  /** Decoded on arrival: a Uint8Array here could be a slice pinning a whole consumed batch. */
  samples: string[];
  expiresAt: number;
  refreshedAt: number | null;
}

/**
 * The window store without Redis: same semantics, state in a Map, time passed in. Used by the
 * benchmark (evaluator alone) and as the reference the Redis script is tested against.
 */
export class MemoryWindowStore {
  private readonly groups = new Map<string, GroupState>();

  constructor(private readonly limits: WindowLimits = DEFAULT_WINDOW_LIMITS) {}

  get size(): number {
    return this.groups.size;
  }

  apply(calls: readonly KeyCall[], nowMs: number): KeyResult[] {
    return calls.map((c) => this.applyOne(c, nowMs));
  }

  /** Marks firings as published: their trigger's redelivery is then an ordinary duplicate. */
  markPublished(refs: ReadonlyArray<{ key: string; eventId: string }>, nowMs: number): void {
    for (const r of refs) {
      const g = this.live(r.key, nowMs);
      if (g && g.fires.has(r.eventId)) g.published.add(r.eventId);
    }
  }

  /** Drops expired groups (Redis does this itself with TTLs). */
  sweep(nowMs: number): void {
    for (const [k, g] of this.groups) if (g.expiresAt <= nowMs) this.groups.delete(k);
  }

  private live(key: string, nowMs: number): GroupState | undefined {
    const g = this.groups.get(key);
    if (g && g.expiresAt <= nowMs) {
      this.groups.delete(key);
      return undefined;
    }
    return g;
  }

  private applyOne(call: KeyCall, nowMs: number): KeyResult {
    const p = call.params;
    const lim = this.limits;
    let g = this.live(call.key, nowMs);
    if (!g) {
      g = {
        entries: [],
        members: new Set(),
        wm: null,
        partitionWm: new Map(),
        sup: null,
        fires: new Map(),
        fireOrder: [],
        published: new Set(),
        samples: [],
        expiresAt: 0,
        refreshedAt: null,
      };
      this.groups.set(call.key, g);
    }
    const statuses: EventStatus[] = [];
    const fires: Array<FireRecord | null> = [];
    let accepted = 0;
    let forceTtl = false;
    for (const ev of call.events) {
      const rec = g.fires.get(ev.eventId);
      if (rec) {
        const again = !g.published.has(ev.eventId);
        statuses.push(again ? 'refire' : 'duplicate');
        fires.push(again ? rec : null);
        continue;
      }
      const pwm = g.partitionWm.get(ev.partition);
      if (pwm !== undefined && ev.ts < pwm - p.latenessMs) {
        statuses.push('late');
        fires.push(null);
        continue;
      }
      if (g.members.has(ev.member)) {
        statuses.push('duplicate');
        fires.push(null);
        continue;
      }
      if (g.entries.length === 0) forceTtl = true; // the window key is (re)created
      const entry = { score: ev.ts, member: ev.member };
      g.entries.splice(upperBoundEntry(g.entries, entry), 0, entry);
      g.members.add(ev.member);
      if (g.entries.length > lim.memberCap) {
        const dropped = g.entries.shift()!;
        g.members.delete(dropped.member);
      }
      const prevWm = g.wm;
      if (g.wm === null || ev.ts > g.wm) g.wm = ev.ts;
      if (pwm === undefined || ev.ts > pwm) g.partitionWm.set(ev.partition, ev.ts);
      g.samples.unshift(utf8(ev.sample));
      if (g.samples.length > lim.samples) g.samples.length = lim.samples;
      accepted++;
      const fire = evaluate(p, g.entries, ev.ts, prevWm, g.sup, lim, ev.member);
      if (!fire) {
        statuses.push('accepted');
        fires.push(null);
        continue;
      }
      g.sup = fire.x + p.suppressMs;
      const record: FireRecord = { e: ev.eventId, x: fire.x, f: fire.f, n: fire.n, c: nowMs, s: [...g.samples] };
      if (fire.d !== undefined) record.d = fire.d;
      g.fires.set(ev.eventId, record);
      g.fireOrder.push(ev.eventId);
      if (g.fireOrder.length > lim.fireRecords) {
        const old = g.fireOrder.shift()!;
        g.fires.delete(old);
        g.published.delete(old);
      }
      statuses.push('accepted');
      fires.push(record);
    }
    if (g.wm !== null) {
      const keepFrom = lowerBound(g.entries, g.wm - p.windowMs - p.latenessMs + 1);
      for (const e of g.entries.splice(0, keepFrom)) g.members.delete(e.member);
    }
    // Like the script: only a call that accepted something writes, and so refreshes the TTL.
    if (accepted > 0 && (forceTtl || g.refreshedAt === null || nowMs - g.refreshedAt >= lim.ttlRefreshMs)) {
      g.expiresAt = nowMs + p.ttlMs;
      g.refreshedAt = nowMs;
    }
    return { statuses, fires };
  }
}

function upperBoundEntry(a: readonly Entry[], e: Entry): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (compareEntries(a[mid]!, e) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
