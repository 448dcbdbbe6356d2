import { z } from 'zod';
import {
  MaybeRefSchema,
  SecretRefSchema,
  TimeoutSchema,
  checkUrl,
  resolveMaybeRef,
  resolveSecret,
  type Problem,
  type SecretReader,
} from '../config-common';

/** `webhook:` block of a receiver in the routes file. */
export const WebhookConfigSchema = z.strictObject({
  /** Literal, or ${WEBHOOK_URL} when the URL itself carries a credential. */
  url: MaybeRefSchema,
  /** HMAC key the receiver verifies with, as ${WEBHOOK_SECRET} (at least 32 characters). */
  secret: SecretRefSchema,
  send_resolved: z.boolean().default(true),
  timeout: TimeoutSchema,
});
export type WebhookConfig = z.infer<typeof WebhookConfigSchema>;

export interface WebhookSettings {
  url: string;
  secret: string;
  sendResolved: boolean;
  timeoutMs: number;
}

export function webhookSettings(cfg: WebhookConfig, path: string, read: SecretReader, problems: Problem[]): WebhookSettings {
  const url = resolveMaybeRef(cfg.url, `${path}.url`, read, problems);
  checkUrl(url, `${path}.url`, problems);
  const secret = resolveSecret(cfg.secret, `${path}.secret`, read, problems);
  if (secret.value && secret.value.length < 32)
    problems.push({ path: `${path}.secret`, message: `${secret.variable} must hold at least 32 characters` });
  return { url, secret: secret.value, sendResolved: cfg.send_resolved, timeoutMs: cfg.timeout };
}
