import type { ChannelKind, Notification } from '@vigil/contracts';

/** What a send attempt needs besides the notification. */
export interface SendContext {
  /** Epoch ms, for Retry-After dates and signatures. */
  nowMs: number;
  /**
   * Parts of this notification already delivered by earlier attempts (PagerDuty events by dedup
   * key, SMS recipients): a retry sends only the rest, so a partial failure re-sends nothing twice.
   */
  done: ReadonlySet<string>;
}

/**
 * A notifier answers whether it delivered and, when it did not, whether trying again can help
 * (Alertmanager's "(recoverable?, error)"), so the retry policy lives in one place.
 */
export type SendResult =
  | { ok: true; status?: number; remoteId?: string; done: string[] }
  | {
      ok: false;
      retriable: boolean;
      /** HTTP status or SMTP reply code, when the destination answered. */
      status?: number;
      /** The destination asked for this much quiet (429 Retry-After / retry_after). */
      retryAfterMs?: number;
      /** Why, in words safe to log: never a URL with a token, never a key. */
      error: string;
      /** Parts delivered during this attempt before it failed. */
      done: string[];
    };

export interface Channel {
  readonly kind: ChannelKind;
  readonly receiver: string;
  send(n: Notification, ctx: SendContext): Promise<SendResult>;
  close?(): Promise<void>;
}

/** A config value that must come from the environment (or NAME_FILE): `${NAME}` in the routes file. */
export interface SecretValue {
  /** The variable it came from, for error messages; the value is never printed. */
  readonly variable: string;
  readonly value: string;
}
