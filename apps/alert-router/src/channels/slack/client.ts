import type { Notification } from '@vigil/contracts';
import { headline } from '../../domain/notification';
import { NetworkError, excerpt, isRetriableStatus, post, retryAfterOf } from '../http';
import type { Channel, SendContext, SendResult } from '../types';
import type { SlackSettings } from './config';

const SEVERITY_EMOJI: Record<string, string> = {
  critical: ':red_circle:',
  high: ':large_orange_circle:',
  medium: ':large_yellow_circle:',
  low: ':large_blue_circle:',
  info: ':white_circle:',
};
const MAX_LISTED = 10;

/** Slack's mrkdwn needs &, < and > escaped; everything else is shown as written. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function range(n: Notification): string {
  return n.first_event_at === n.last_event_at ? n.first_event_at : `${n.first_event_at} → ${n.last_event_at}`;
}

/**
 * The Block Kit message: a header, the facts as fields (severity, rule, group values, counts, time
 * range), the alerts with their ids, and a context line naming the notification. Within Slack's
 * limits: header ≤ 150 chars, ≤ 10 fields of ≤ 2000, section text ≤ 3000, ≤ 50 blocks.
 */
export function slackMessage(n: Notification): { text: string; blocks: unknown[] } {
  const title = headline(n);
  const rules = [...new Set(n.alerts.map((a) => `${a.rule_name} (\`${a.rule_id}\`)`))].join(', ');
  const values = Object.entries(n.alerts[0]?.group ?? {})
    .map(([k, v]) => `${k}: \`${v}\``)
    .join('\n');
  const fields = [
    `*Severity*\n${SEVERITY_EMOJI[n.severity] ?? ''} ${n.severity}`,
    `*Status*\n${n.status}`,
    `*Rule*\n${rules || '-'}`,
    `*Group*\n${values || '-'}`,
    `*Alerts*\n${n.alert_count} (${n.firing_count} firings, ${n.alerts.reduce((s, a) => s + a.event_count, 0)} events)`,
    `*Time range*\n${range(n)}`,
  ].map((t) => ({ type: 'mrkdwn', text: clip(escapeMrkdwn(t), 2000) }));
  const listed = n.alerts.slice(0, MAX_LISTED).map((a) => {
    const g = Object.entries(a.group)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
    return `• *${a.severity}* ${a.rule_name} ${g} — ${a.event_count} events, ${a.firings}× — alert \`${a.alert_id}\``;
  });
  if (n.alert_count > MAX_LISTED) listed.push(`… and ${n.alert_count - MAX_LISTED} more`);
  const blocks: unknown[] = [
    { type: 'header', text: { type: 'plain_text', text: clip(title, 150), emoji: true } },
    { type: 'section', fields },
    { type: 'section', text: { type: 'mrkdwn', text: clip(escapeMrkdwn(listed.join('\n')), 3000) } },
    {
      type: 'context',
      elements: [
        {
          type: 'mrkdwn',
          text: clip(escapeMrkdwn(`Vigil · route ${n.route} · group ${n.group_key} · notification ${n.notification_id} #${n.seq}`), 2000),
        },
      ],
    },
  ];
  return { text: clip(title, 3000), blocks };
}

/** Slack incoming webhook: 200 "ok"; errors are plain-text codes (invalid_payload, no_text, no_service, ...). */
export class SlackChannel implements Channel {
  readonly kind = 'slack' as const;
  constructor(
    readonly receiver: string,
    private readonly settings: SlackSettings,
  ) {}

  async send(n: Notification, ctx: SendContext): Promise<SendResult> {
    const body = JSON.stringify(slackMessage(n));
    try {
      const answer = await post(this.settings.webhookUrl, {
        headers: { 'Content-Type': 'application/json; charset=utf-8' },
        body,
        timeoutMs: this.settings.timeoutMs,
      });
      if (answer.status === 200) return { ok: true, status: 200, done: [] };
      const retryAfterMs = answer.status === 429 ? retryAfterOf(answer, ctx.nowMs) : undefined;
      return {
        ok: false,
        retriable: isRetriableStatus(answer.status),
        status: answer.status,
        ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
        error: `slack answered ${answer.status}: ${excerpt(answer.body)}`,
        done: [],
      };
    } catch (err) {
      if (err instanceof NetworkError) return { ok: false, retriable: true, error: err.message, done: [] };
      throw err;
    }
  }
}
