import { SEVERITY_RANK, type Alert, type Severity } from '@vigil/contracts';
import { alertLabels, type AlertLabels } from './labels';

/** The timers of a group, copied from its route (Alertmanager's meanings). */
export interface GroupTiming {
  /** Wait this long after a group forms before its first notification (collects the burst). */
  readonly groupWaitMs: number;
  /** After a notification, wait at least this long before notifying about new alerts in the group. */
  readonly groupIntervalMs: number;
  /** Re-send a still-firing group that has not changed after this long. */
  readonly repeatIntervalMs: number;
}

/** Where an alert was read from: lets a failed notification's DLQ record point at its cause. */
export interface AlertSource {
  topic: string;
  partition: number;
  offset: string;
}

/** One alert (one dedup key) in a group, with what its firings added up to. */
export interface GroupAlert {
  dedup_key: string;
  /** Latest firing's alert id. */
  alert_id: string;
  /** Recent alert ids, so a redelivered alert is not counted twice. */
  recent_ids: string[];
  rule_id: string;
  rule_name: string;
  severity: Severity;
  group: Record<string, string>;
  tags: string[];
  action?: string;
  /** The alert's labels at its latest firing (what silences and inhibition rules match on). */
  labels: Record<string, string>;
  event_count: number;
  first_event_at: string;
  last_event_at: string;
  firings: number;
  first_seen_ms: number;
  last_seen_ms: number;
  /** The alert counts as firing until then (created_at + resolve timeout, extended by each firing). */
  active_until_ms: number;
  source: AlertSource;
}

/** An aggregation group: alerts of one route with equal group_by values. */
export interface GroupState {
  v: 1;
  /** uuidV5 of route id and group labels. */
  key: string;
  route_id: string;
  receivers: string[];
  labels: Record<string, string>;
  timing: GroupTiming;
  alerts: Record<string, GroupAlert>;
  created_ms: number;
  /** When the scheduler should next look at the group. */
  due_ms: number;
  last_flush_ms: number | null;
  last_notified_ms: number | null;
  /** Dedup keys the last notification carried: a key not in here is news. */
  notified: string[];
  /** Notifications sent so far; the next one is seq + 1. */
  seq: number;
  /** Firings received in total. */
  firings: number;
  /** Alerts evicted because the group reached its size limit. */
  evicted: number;
}

export const MAX_RECENT_IDS = 8;

/** Where a group stands after an alert was added. */
export interface AddResult {
  state: GroupState;
  /** False when the alert was a redelivery of one already counted. */
  changed: boolean;
  /** An alert evicted to make room (bounded groups), if any. */
  evicted: string | null;
}

export interface GroupArrival {
  key: string;
  routeId: string;
  receivers: readonly string[];
  labels: Record<string, string>;
  timing: GroupTiming;
  alert: Alert;
  source: AlertSource;
  /** How long an alert counts as firing after it was created, unless it fires again. */
  resolveTimeoutMs: number;
  /** Most alerts (dedup keys) a group holds; the one closest to resolving makes room. */
  maxAlerts: number;
}

function minIso(a: string, b: string): string {
  return Date.parse(a) <= Date.parse(b) ? a : b;
}
function maxIso(a: string, b: string): string {
  return Date.parse(a) >= Date.parse(b) ? a : b;
}

/** The moment an alert stops counting as firing unless refreshed. */
export function activeUntil(alert: Alert, resolveTimeoutMs: number): number {
  return Date.parse(alert.created_at) + resolveTimeoutMs;
}

/**
 * Adds one alert to its group (creating the group when `state` is null). A new group becomes due
 * after group_wait; a group that has notified before becomes due for a new dedup key no sooner
 * than group_interval after its last flush.
 */
export function addAlert(state: GroupState | null, a: GroupArrival, nowMs: number): AddResult {
  const g: GroupState = state
    ? { ...state, alerts: { ...state.alerts }, receivers: [...a.receivers], timing: a.timing, route_id: a.routeId }
    : {
        v: 1,
        key: a.key,
        route_id: a.routeId,
        receivers: [...a.receivers],
        labels: a.labels,
        timing: a.timing,
        alerts: {},
        created_ms: nowMs,
        due_ms: nowMs + a.timing.groupWaitMs,
        last_flush_ms: null,
        last_notified_ms: null,
        notified: [],
        seq: 0,
        firings: 0,
        evicted: 0,
      };
  const al = a.alert;
  const until = activeUntil(al, a.resolveTimeoutMs);
  const existing = g.alerts[al.dedup_key];
  if (existing?.recent_ids.includes(al.alert_id)) return { state: state ?? g, changed: false, evicted: null };

  let evicted: string | null = null;
  if (!existing && Object.keys(g.alerts).length >= a.maxAlerts) {
    let victim: GroupAlert | null = null;
    for (const x of Object.values(g.alerts)) if (!victim || x.active_until_ms < victim.active_until_ms) victim = x;
    if (victim) {
      delete g.alerts[victim.dedup_key];
      evicted = victim.dedup_key;
      g.evicted++;
    }
  }

  const entry: GroupAlert = existing
    ? {
        ...existing,
        alert_id: al.alert_id,
        recent_ids: [...existing.recent_ids, al.alert_id].slice(-MAX_RECENT_IDS),
        severity: al.severity,
        rule_name: al.rule.name,
        tags: [...al.tags],
        labels: { ...alertLabels(al).values },
        event_count: al.event_count,
        first_event_at: minIso(existing.first_event_at, al.first_event_at),
        last_event_at: maxIso(existing.last_event_at, al.last_event_at),
        firings: existing.firings + 1,
        last_seen_ms: nowMs,
        active_until_ms: Math.max(existing.active_until_ms, until),
        source: a.source,
      }
    : {
        dedup_key: al.dedup_key,
        alert_id: al.alert_id,
        recent_ids: [al.alert_id],
        rule_id: al.rule.id,
        rule_name: al.rule.name,
        severity: al.severity,
        group: { ...al.group },
        tags: [...al.tags],
        ...(al.action ? { action: al.action } : {}),
        labels: { ...alertLabels(al).values },
        event_count: al.event_count,
        first_event_at: al.first_event_at,
        last_event_at: al.last_event_at,
        firings: 1,
        first_seen_ms: nowMs,
        last_seen_ms: nowMs,
        active_until_ms: until,
        source: a.source,
      };
  g.alerts[al.dedup_key] = entry;
  g.firings++;
  if (g.last_flush_ms !== null && !g.notified.includes(al.dedup_key)) {
    g.due_ms = Math.min(g.due_ms, Math.max(nowMs, g.last_flush_ms + g.timing.groupIntervalMs));
  }
  return { state: g, changed: true, evicted };
}

export type MuteReason = { reason: 'silenced' | 'inhibited'; by: string };
/** Decides, at flush time, whether an alert is muted (silences and inhibition are checked late, like Alertmanager). */
export type MuteCheck = (alert: GroupAlert) => MuteReason | null;

export interface MutedAlert {
  dedup_key: string;
  reason: MuteReason;
}

export type FlushOutcome =
  | {
      action: 'notify';
      status: 'firing' | 'resolved';
      /** The notification's sequence number in its group. */
      seq: number;
      /** The alerts to tell the receivers about. */
      alerts: GroupAlert[];
      muted: MutedAlert[];
      /** The group after this flush, or null when it is finished and should be deleted. */
      state: GroupState | null;
    }
  | {
      action: 'none';
      reason: 'all_muted' | 'unchanged' | 'resolved_unnotified';
      muted: MutedAlert[];
      state: GroupState | null;
    };

/** The labels of a group member, as silences and inhibition rules see them. */
export function groupAlertLabels(a: GroupAlert): AlertLabels {
  return { values: a.labels, tags: a.tags };
}

/** Most severe first, then most recently seen. */
export function byImportance(a: GroupAlert, b: GroupAlert): number {
  return SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] || b.last_seen_ms - a.last_seen_ms || (a.dedup_key < b.dedup_key ? -1 : 1);
}

/**
 * The scheduler's decision for a due group. Alerts past their active time are resolved; when none
 * is left the group ends (with a `resolved` notification if it had notified). Otherwise a
 * notification goes out when it carries a dedup key the last one did not, or when
 * repeat_interval has passed since the last one; muted alerts are left out.
 */
export function flushGroup(state: GroupState, nowMs: number, mute: MuteCheck): FlushOutcome {
  const all = Object.values(state.alerts);
  const active = all.filter((x) => x.active_until_ms > nowMs);
  if (active.length === 0) {
    if (state.notified.length === 0) return { action: 'none', reason: 'resolved_unnotified', muted: [], state: null };
    const resolved = all.filter((x) => state.notified.includes(x.dedup_key)).sort(byImportance);
    return {
      action: 'notify',
      status: 'resolved',
      seq: state.seq + 1,
      alerts: resolved.length > 0 ? resolved : all.sort(byImportance),
      muted: [],
      state: null,
    };
  }
  const alerts: Record<string, GroupAlert> = {};
  for (const x of active) alerts[x.dedup_key] = x;
  const lastActive = Math.max(...active.map((x) => x.active_until_ms));
  const muted: MutedAlert[] = [];
  const unmuted: GroupAlert[] = [];
  for (const x of active) {
    const m = mute(x);
    if (m) muted.push({ dedup_key: x.dedup_key, reason: m });
    else unmuted.push(x);
  }
  const base: GroupState = { ...state, alerts, last_flush_ms: nowMs };
  const t = state.timing;
  const later = (ms: number) => Math.max(nowMs + 1, Math.min(ms, lastActive));

  if (unmuted.length === 0) {
    // Look again after group_interval: the silence may have ended or the inhibiting alert resolved.
    return { action: 'none', reason: 'all_muted', muted, state: { ...base, due_ms: later(nowMs + t.groupIntervalMs) } };
  }
  const hasNews = unmuted.some((x) => !state.notified.includes(x.dedup_key));
  const repeatDue = state.last_notified_ms !== null && nowMs >= state.last_notified_ms + t.repeatIntervalMs;
  if (hasNews || repeatDue) {
    const next: GroupState = {
      ...base,
      seq: state.seq + 1,
      notified: unmuted.map((x) => x.dedup_key).sort(),
      last_notified_ms: nowMs,
      due_ms: later(nowMs + t.repeatIntervalMs),
    };
    return { action: 'notify', status: 'firing', seq: next.seq, alerts: unmuted.sort(byImportance), muted, state: next };
  }
  return { action: 'none', reason: 'unchanged', muted, state: { ...base, due_ms: later(state.last_notified_ms! + t.repeatIntervalMs) } };
}
