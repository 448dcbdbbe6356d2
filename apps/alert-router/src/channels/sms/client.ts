import type { Notification } from '@vigil/contracts';
import { headline } from '../../domain/notification';
import { NetworkError, excerpt, isRetriableStatus, post, retryAfterOf } from '../http';
import type { Channel, SendContext, SendResult } from '../types';
import type { SmsSettings } from './config';
import { fitSegments } from './segments';

/** The SMS text: the headline, the time range, the first alert id; cut to the segment budget. */
export function smsText(n: Notification, maxSegments: 1 | 2): string {
  const first = n.alerts[0];
  const when =
    n.first_event_at === n.last_event_at
      ? n.last_event_at.slice(0, 16)
      : `${n.first_event_at.slice(0, 16)}-${n.last_event_at.slice(11, 16)}`;
  const text = `${headline(n)}\n${when}Z${first ? `\nalert ${first.alert_id}` : ''}`;
  return fitSegments(text, maxSegments);
}

/**
 * Twilio Messages API: form-encoded POST to /2010-04-01/Accounts/{Sid}/Messages.json with basic
 * auth; 201 with the message resource is success. One message per recipient; a retry skips the
 * recipients that already got theirs.
 */
export class SmsChannel implements Channel {
  readonly kind = 'sms' as const;
  constructor(
    readonly receiver: string,
    private readonly settings: SmsSettings,
  ) {}

  async send(n: Notification, ctx: SendContext): Promise<SendResult> {
    const s = this.settings;
    const url = `${s.baseUrl}/2010-04-01/Accounts/${encodeURIComponent(s.accountSid)}/Messages.json`;
    const auth = `Basic ${Buffer.from(`${s.accountSid}:${s.authToken}`).toString('base64')}`;
    const text = smsText(n, s.maxSegments);
    const done: string[] = [];
    const sids: string[] = [];
    for (const to of s.to) {
      if (ctx.done.has(to)) continue;
      const body = new URLSearchParams({ To: to, From: s.from, Body: text }).toString();
      let answer;
      try {
        answer = await post(url, {
          headers: { Authorization: auth, 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
          body,
          timeoutMs: s.timeoutMs,
        });
      } catch (err) {
        if (err instanceof NetworkError) return { ok: false, retriable: true, error: err.message, done };
        throw err;
      }
      if (answer.status === 201 || answer.status === 200) {
        done.push(to);
        try {
          const sid = (JSON.parse(answer.body) as { sid?: unknown }).sid;
          if (typeof sid === 'string') sids.push(sid);
        } catch {
          // Accepted is accepted; the sid is only a reference.
        }
        continue;
      }
      const retryAfterMs = retryAfterOf(answer, ctx.nowMs);
      let code = '';
      try {
        const parsed = JSON.parse(answer.body) as { code?: unknown; message?: unknown };
        code = `${String(parsed.code ?? '')} ${String(parsed.message ?? '')}`.trim();
      } catch {
        code = excerpt(answer.body);
      }
      return {
        ok: false,
        retriable: isRetriableStatus(answer.status),
        status: answer.status,
        ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
        error: `sms to recipient ${s.to.indexOf(to) + 1} answered ${answer.status}: ${excerpt(code)}`,
        done,
      };
    }
    return { ok: true, status: 201, remoteId: sids.join(',').slice(0, 512), done };
  }
}
