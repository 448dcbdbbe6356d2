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

export const TWILIO_API_URL = 'https://api.twilio.com';
const E164 = /^\+[1-9]\d{1,14}$/;

/** `sms:` block of a receiver: a Twilio-compatible Messages API. */
export const SmsConfigSchema = z.strictObject({
  account_sid: z.string().regex(/^AC[0-9a-fA-F]{32}$/, 'must be AC followed by 32 hex digits'),
  /** As ${TWILIO_AUTH_TOKEN}. */
  auth_token: SecretRefSchema,
  from: z.string().regex(E164, 'must be an E.164 number such as +14155550100'),
  to: z.array(z.string().regex(E164, 'must be an E.164 number such as +14155550100')).min(1).max(10),
  /** Literal or ${NAME}; defaults to Twilio's API. */
  base_url: MaybeRefSchema.default(TWILIO_API_URL),
  /** Keep each text within this many segments (1 or 2). */
  max_segments: z.union([z.literal(1), z.literal(2)]).default(2),
  send_resolved: z.boolean().default(false),
  timeout: TimeoutSchema,
});
export type SmsConfig = z.infer<typeof SmsConfigSchema>;

export interface SmsSettings {
  accountSid: string;
  authToken: string;
  from: string;
  to: string[];
  baseUrl: string;
  maxSegments: 1 | 2;
  sendResolved: boolean;
  timeoutMs: number;
}

export function smsSettings(cfg: SmsConfig, path: string, read: SecretReader, problems: Problem[]): SmsSettings {
  const token = resolveSecret(cfg.auth_token, `${path}.auth_token`, read, problems);
  const baseUrl = resolveMaybeRef(cfg.base_url, `${path}.base_url`, read, problems);
  checkUrl(baseUrl, `${path}.base_url`, problems);
  return {
    accountSid: cfg.account_sid,
    authToken: token.value,
    from: cfg.from,
    to: [...new Set(cfg.to)],
    baseUrl: baseUrl.replace(/\/+$/, ''),
    maxSegments: cfg.max_segments,
    sendResolved: cfg.send_resolved,
    timeoutMs: cfg.timeout,
  };
}
