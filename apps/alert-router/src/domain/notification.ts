import {
  MAX_NOTIFICATION_ALERTS,
  NOTIFICATION_SCHEMA_VERSION,
  SEVERITY_RANK,
  uuidV5,
  type Notification,
  type NotificationAlert,
  type Severity,
} from '@vigil/contracts';
import type { GroupAlert, GroupState } from './grouping';

/** The group key: the same route and group values always land in the same group. */
export function groupKey(routeId: string, labels: Readonly<Record<string, string>>): string {
  return uuidV5(`alert-router/group/${routeId}/${JSON.stringify(labels)}`);
}

/**
 * One id per (group incarnation, sequence, receiver): what the notification log is keyed by. A group
 * that ended and formed again starts a new incarnation (its creation time), so its sequence numbers
 * never collide with the old one's.
 */
export function notificationId(groupKeyValue: string, createdMs: number, seq: number, receiver: string): string {
  return uuidV5(`alert-router/notification/${groupKeyValue}/${createdMs}/${seq}/${receiver}`);
}

function toNotificationAlert(a: GroupAlert): NotificationAlert {
  return {
    dedup_key: a.dedup_key,
    alert_id: a.alert_id,
    rule_id: a.rule_id,
    rule_name: a.rule_name,
    severity: a.severity,
    group: a.group,
    tags: a.tags,
    ...(a.action ? { action: a.action } : {}),
    event_count: a.event_count,
    firings: a.firings,
    first_event_at: a.first_event_at,
    last_event_at: a.last_event_at,
  };
}

export function maxSeverity(alerts: readonly { severity: Severity }[]): Severity {
  let best: Severity = 'info';
  for (const a of alerts) if (SEVERITY_RANK[a.severity] > SEVERITY_RANK[best]) best = a.severity;
  return best;
}

/**
 * The notification for one receiver, from the group as it was flushed and the alerts the flush
 * chose (already sorted most important first). Lists at most MAX_NOTIFICATION_ALERTS alerts;
 * counts always cover all of them.
 */
export function buildNotification(
  group: GroupState,
  flushed: { status: 'firing' | 'resolved'; seq: number; alerts: readonly GroupAlert[] },
  receiver: string,
  nowMs: number,
): Notification {
  const listed = flushed.alerts.slice(0, MAX_NOTIFICATION_ALERTS);
  let first = Infinity;
  let last = -Infinity;
  for (const a of flushed.alerts) {
    first = Math.min(first, Date.parse(a.first_event_at));
    last = Math.max(last, Date.parse(a.last_event_at));
  }
  if (!Number.isFinite(first)) first = last = nowMs;
  return {
    schema_version: NOTIFICATION_SCHEMA_VERSION,
    notification_id: notificationId(group.key, group.created_ms, flushed.seq, receiver),
    group_key: group.key,
    seq: flushed.seq,
    receiver,
    route: group.route_id,
    status: flushed.status,
    severity: maxSeverity(flushed.alerts),
    group_labels: group.labels,
    alerts: listed.map(toNotificationAlert),
    alert_count: flushed.alerts.length,
    firing_count: flushed.alerts.reduce((n, a) => n + a.firings, 0),
    first_event_at: new Date(first).toISOString(),
    last_event_at: new Date(last).toISOString(),
    created_at: new Date(nowMs).toISOString(),
  };
}

/** One line for SMS, subjects and PagerDuty summaries: "[HIGH] SSH brute force: source.ip=203.0.113.7 (3 alerts)". */
export function headline(n: Notification): string {
  const rules = [...new Set(n.alerts.map((a) => a.rule_name))];
  const rule = rules.length === 1 ? rules[0]! : `${rules.length} rules`;
  const values = Object.entries(n.group_labels)
    .filter(([k]) => k !== 'severity' && k !== 'rule')
    .map(([k, v]) => `${k.startsWith('group.') ? k.slice(6) : k}=${v}`)
    .join(', ');
  const status = n.status === 'resolved' ? 'RESOLVED ' : '';
  const count = n.alert_count === 1 ? '' : ` (${n.alert_count} alerts)`;
  return `[${status}${n.severity.toUpperCase()}] ${rule}${values ? `: ${values}` : ''}${count}`;
}
