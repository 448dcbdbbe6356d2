import { uuidV5, type SecurityEvent } from '@vigil/contracts';
import type { CompiledRule, RuleSet } from './compile';
import { scalarText } from './match';
import type { KeyCall, WindowEvent, WindowParams } from './window';

/** Engine-wide time settings (from the environment). */
export interface TimeSettings {
  /** How far behind its group's watermark an event may arrive and still count. */
  readonly latenessMs: number;
  /** Events stamped further than this ahead of processing time are not evaluated. */
  readonly maxFutureMs: number;
}

/**
 * Extra key lifetime beyond window/suppression + lateness: covers the TTL refresh interval
 * (DEFAULT_WINDOW_LIMITS.ttlRefreshMs), slow batches and clock skew.
 */
export const TTL_MARGIN_MS = 60_000;
/** Largest group value an alert can carry (Alert v1: group values ≤ 1024 characters). */
export const MAX_GROUP_VALUE = 1024;
export const MAX_DEDUP_KEY = 512;

/** One event's contribution to one rule's window, with what the alert needs if it fires. */
export interface PlannedUpdate {
  readonly rule: CompiledRule;
  /** Window identity: `<rule id>@<fingerprint>:<group id>`. */
  readonly key: string;
  readonly group: Readonly<Record<string, string>>;
  readonly dedupKey: string;
  readonly event: WindowEvent;
}

export interface EventPlan {
  /** Stamped beyond processing time + maxFuture: not evaluated by any rule. */
  readonly future: boolean;
  readonly updates: PlannedUpdate[];
  /** Rules whose conditions matched but the event lacks a group_by field (not evaluated). */
  readonly ungrouped: string[];
}

const paramsCache = new WeakMap<CompiledRule, { time: TimeSettings; params: WindowParams }>();

/** A rule's window parameters; one object per rule and time settings (stores may key on it). */
export function windowParams(rule: CompiledRule, time: TimeSettings): WindowParams {
  const cached = paramsCache.get(rule);
  if (cached && cached.time === time) return cached.params;
  const params = computeParams(rule, time);
  paramsCache.set(rule, { time, params });
  return params;
}

function computeParams(rule: CompiledRule, time: TimeSettings): WindowParams {
  return {
    kind: rule.kind,
    windowMs: rule.windowMs,
    suppressMs: rule.suppressMs,
    latenessMs: time.latenessMs,
    threshold: rule.threshold,
    stepCounts: rule.steps.map((s) => s.count),
    ordered: rule.ordered,
    ttlMs: Math.max(rule.windowMs, rule.suppressMs) + time.latenessMs + TTL_MARGIN_MS,
  };
}

/** The group values of an event for a rule, or null when one is missing or too long. */
export function groupOf(rule: CompiledRule, event: unknown): Record<string, string> | null {
  const group: Record<string, string> = {};
  for (let i = 0; i < rule.groupBy.length; i++) {
    const v = scalarText(event, rule.groupPaths[i]!);
    if (v === null || v.length > MAX_GROUP_VALUE) return null;
    group[rule.groupBy[i]!] = v;
  }
  return group;
}

/** Longest readable group id in a key; longer ones (or odd bytes) are hashed. */
export const MAX_READABLE_GROUP_ID = 200;

/**
 * The group's part of a window key: the values themselves, URI-escaped (so `{`, `}` and `|` cannot
 * break the Redis hash tag or the separator) and readable for an operator, or a hash when long.
 */
export function groupIdOf(rule: CompiledRule, group: Readonly<Record<string, string>>): string {
  const values = rule.groupBy.map((f) => group[f]!);
  const readable = values.map(encodeURIComponent).join('|');
  return readable.length <= MAX_READABLE_GROUP_ID ? readable : `h:${uuidV5(JSON.stringify(values)).replace(/-/g, '')}`;
}

/** Rule id plus group values; stable for every firing of the same attack source. */
export function dedupKeyOf(rule: CompiledRule, group: Readonly<Record<string, string>>): string {
  const text = `${rule.id}|${rule.groupBy.map((f) => `${f}=${group[f]}`).join('|')}`;
  if (text.length <= MAX_DEDUP_KEY) return text;
  const values = rule.groupBy.map((f) => group[f]!);
  return `${rule.id}|group:${uuidV5(JSON.stringify(values)).replace(/-/g, '')}`;
}

/** Which windows an event updates: the pure half of correlation (matching and grouping). */
export function planEvent(
  ruleSet: RuleSet,
  event: SecurityEvent,
  sample: Uint8Array,
  partition: number,
  nowMs: number,
  time: TimeSettings,
): EventPlan {
  const ts = Date.parse(event.timestamp);
  if (ts - nowMs > time.maxFutureMs) return { future: true, updates: [], ungrouped: [] };
  const updates: PlannedUpdate[] = [];
  const ungrouped: string[] = [];
  for (const rule of ruleSet.rules) {
    if (!rule.matches(event)) continue;
    let member: string;
    if (rule.kind === 'threshold') member = event.event_id;
    else if (rule.kind === 'distinct_count') {
      const value = scalarText(event, rule.distinctPath!);
      if (value === null) continue;
      member = `${event.event_id}\t${value}`;
    } else {
      let flags = '';
      for (const s of rule.steps) flags += s.match(event) ? '1' : '0';
      if (!flags.includes('1')) continue;
      member = `${flags}:${event.event_id}`;
    }
    const group = groupOf(rule, event);
    if (!group) {
      ungrouped.push(rule.id);
      continue;
    }
    updates.push({
      rule,
      key: `${rule.id}@${rule.fingerprint}:${groupIdOf(rule, group)}`,
      group,
      dedupKey: dedupKeyOf(rule, group),
      event: { eventId: event.event_id, ts, partition, member, sample },
    });
  }
  return { future: false, updates, ungrouped };
}

/** A batch's updates grouped by window key (order kept), so each window gets one atomic call. */
export interface BatchCall {
  readonly call: KeyCall;
  readonly updates: readonly PlannedUpdate[];
}

export function groupCalls(updates: readonly PlannedUpdate[], time: TimeSettings): BatchCall[] {
  const byKey = new Map<string, { updates: PlannedUpdate[] }>();
  for (const u of updates) {
    let slot = byKey.get(u.key);
    if (!slot) {
      slot = { updates: [] };
      byKey.set(u.key, slot);
    }
    slot.updates.push(u);
  }
  const out: BatchCall[] = [];
  for (const [key, slot] of byKey) {
    const rule = slot.updates[0]!.rule;
    out.push({ call: { key, params: windowParams(rule, time), events: slot.updates.map((u) => u.event) }, updates: slot.updates });
  }
  return out;
}
