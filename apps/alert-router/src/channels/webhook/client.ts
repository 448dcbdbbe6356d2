import type { Notification } from '@vigil/contracts';
import { NetworkError, excerpt, isRetriableStatus, post, retryAfterOf } from '../http';
import type { Channel, SendContext, SendResult } from '../types';
import type { WebhookSettings } from './config';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, signWebhook } from './signature';

/** Posts the notification JSON, signed; any 2xx is success. */
export class WebhookChannel implements Channel {
  readonly kind = 'webhook' as const;
  constructor(
    readonly receiver: string,
    private readonly settings: WebhookSettings,
  ) {}

  async send(n: Notification, ctx: SendContext): Promise<SendResult> {
    const body = JSON.stringify(n);
    const ts = Math.floor(ctx.nowMs / 1000);
    const headers = {
      'Content-Type': 'application/json',
      'User-Agent': 'vigil-alert-router/1',
      'X-Vigil-Notification-Id': n.notification_id,
      [TIMESTAMP_HEADER]: String(ts),
      [SIGNATURE_HEADER]: `v1=${signWebhook(this.settings.secret, ts, body)}`,
    };
    try {
      const answer = await post(this.settings.url, { headers, body, timeoutMs: this.settings.timeoutMs });
      if (answer.status >= 200 && answer.status < 300) return { ok: true, status: answer.status, done: [] };
      const retryAfterMs = retryAfterOf(answer, ctx.nowMs);
      return {
        ok: false,
        retriable: isRetriableStatus(answer.status),
        status: answer.status,
        ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
        error: `webhook answered ${answer.status}: ${excerpt(answer.body)}`,
        done: [],
      };
    } catch (err) {
      if (err instanceof NetworkError) return { ok: false, retriable: true, error: err.message, done: [] };
      throw err;
    }
  }
}
