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

export const PAGERDUTY_EVENTS_URL = 'https://events.pagerduty.com/v2/enqueue';

/** `pagerduty:` block of a receiver in the routes file. */
export const PagerDutyConfigSchema = z.strictObject({
  /** The integration's routing key (32 characters), as ${PAGERDUTY_ROUTING_KEY}. */
  routing_key: SecretRefSchema,
  /** Literal or ${NAME}; defaults to PagerDuty's endpoint. */
  url: MaybeRefSchema.default(PAGERDUTY_EVENTS_URL),
  /** Resolve the PagerDuty alerts when the group resolves. */
  send_resolved: z.boolean().default(true),
  /** Shown as the event's client. */
  client: z.string().min(1).max(256).default('Vigil alert router'),
  timeout: TimeoutSchema,
});
export type PagerDutyConfig = z.infer<typeof PagerDutyConfigSchema>;

export interface PagerDutySettings {
  routingKey: string;
  url: string;
  sendResolved: boolean;
  client: string;
  timeoutMs: number;
}

export function pagerDutySettings(cfg: PagerDutyConfig, path: string, read: SecretReader, problems: Problem[]): PagerDutySettings {
  const key = resolveSecret(cfg.routing_key, `${path}.routing_key`, read, problems);
  if (key.value && key.value.length !== 32)
    problems.push({ path: `${path}.routing_key`, message: `${key.variable} must hold a 32-character routing key` });
  const url = resolveMaybeRef(cfg.url, `${path}.url`, read, problems);
  checkUrl(url, `${path}.url`, problems);
  return { routingKey: key.value, url, sendResolved: cfg.send_resolved, client: cfg.client, timeoutMs: cfg.timeout };
}
