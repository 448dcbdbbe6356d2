import type { Notification, NotificationAlert, Severity } from '@vigil/contracts';
import { NetworkError, excerpt, isRetriableStatus, post, retryAfterOf } from '../http';
import type { Channel, SendContext, SendResult } from '../types';
import type { PagerDutySettings } from './config';

/** Our five levels onto PagerDuty's four. */
export const PD_SEVERITY: Readonly<Record<Severity, 'critical' | 'error' | 'warning' | 'info'>> = {
  critical: 'critical',
  high: 'error',
  medium: 'warning',
  low: 'info',
  info: 'info',
};

export const PD_MAX_DEDUP_KEY = 255;
export const PD_MAX_SUMMARY = 1024;

/** A dedup key within PagerDuty's 255 characters: long keys keep a prefix and a stable hash suffix. */
export function pdDedupKey(dedupKey: string): string {
  if (dedupKey.length <= PD_MAX_DEDUP_KEY) return dedupKey;
  let h = 0x811c9dc5;
  for (let i = 0; i < dedupKey.length; i++) h = Math.imul(h ^ dedupKey.charCodeAt(i), 0x01000193) >>> 0;
  return `${dedupKey.slice(0, PD_MAX_DEDUP_KEY - 9)}#${h.toString(16).padStart(8, '0')}`;
}

function summary(a: NotificationAlert): string {
  const g = Object.entries(a.group)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
  const text = `[${a.severity.toUpperCase()}] ${a.rule_name}${g ? `: ${g}` : ''} (${a.event_count} events, ${a.firings} alerts)`;
  return text.length > PD_MAX_SUMMARY ? `${text.slice(0, PD_MAX_SUMMARY - 1)}…` : text;
}

/** The Events API v2 body for one alert of the notification (trigger, or resolve when the group resolved). */
export function pagerDutyEvent(
  n: Notification,
  a: NotificationAlert,
  s: Pick<PagerDutySettings, 'routingKey' | 'client'>,
): Record<string, unknown> {
  const dedup_key = pdDedupKey(a.dedup_key);
  if (n.status === 'resolved') return { routing_key: s.routingKey, event_action: 'resolve', dedup_key };
  return {
    routing_key: s.routingKey,
    event_action: 'trigger',
    dedup_key,
    client: s.client,
    payload: {
      summary: summary(a),
      source: Object.values(a.group)[0] ?? 'vigil',
      severity: PD_SEVERITY[a.severity],
      timestamp: a.last_event_at,
      component: a.rule_id,
      class: a.rule_id,
      group: n.route,
      custom_details: {
        alert_id: a.alert_id,
        dedup_key: a.dedup_key,
        rule: { id: a.rule_id, name: a.rule_name },
        severity: a.severity,
        group: a.group,
        event_count: a.event_count,
        firings: a.firings,
        first_event_at: a.first_event_at,
        last_event_at: a.last_event_at,
        tags: a.tags,
        ...(a.action ? { action: a.action } : {}),
        notification_id: n.notification_id,
        group_key: n.group_key,
      },
    },
  };
}

/**
 * PagerDuty Events API v2: one event per alert (dedup_key = the alert's dedup key, so PagerDuty
 * folds repeats into one incident). 202 is success; 400 is final; 429 and 5xx are retried.
 * Events already accepted in an earlier attempt are not sent again.
 */
export class PagerDutyChannel implements Channel {
  readonly kind = 'pagerduty' as const;
  constructor(
    readonly receiver: string,
    private readonly settings: PagerDutySettings,
  ) {}

  async send(n: Notification, ctx: SendContext): Promise<SendResult> {
    const done: string[] = [];
    const remote: string[] = [];
    for (const a of n.alerts) {
      if (ctx.done.has(a.dedup_key)) continue;
      const body = JSON.stringify(pagerDutyEvent(n, a, this.settings));
      let answer;
      try {
        answer = await post(this.settings.url, {
          headers: { 'Content-Type': 'application/json' },
          body,
          timeoutMs: this.settings.timeoutMs,
        });
      } catch (err) {
        if (err instanceof NetworkError) return { ok: false, retriable: true, error: err.message, done };
        throw err;
      }
      if (answer.status === 202) {
        done.push(a.dedup_key);
        try {
          const parsed = JSON.parse(answer.body) as { dedup_key?: unknown };
          if (typeof parsed.dedup_key === 'string') remote.push(parsed.dedup_key);
        } catch {
          // 202 is the contract; a body we cannot read does not undo the acceptance.
        }
        continue;
      }
      const retryAfterMs = retryAfterOf(answer, ctx.nowMs);
      return {
        ok: false,
        retriable: isRetriableStatus(answer.status),
        status: answer.status,
        ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
        error: `pagerduty answered ${answer.status}: ${excerpt(answer.body)}`,
        done,
      };
    }
    return { ok: true, status: 202, remoteId: remote.join(',').slice(0, 512), done };
  }
}
