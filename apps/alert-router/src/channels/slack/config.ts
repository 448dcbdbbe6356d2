import { z } from 'zod';
import { MaybeRefSchema, TimeoutSchema, checkUrl, resolveMaybeRef, type Problem, type SecretReader } from '../config-common';

/** `slack:` block of a receiver in the routes file. */
export const SlackConfigSchema = z.strictObject({
  /** The incoming-webhook URL holds its own credential: write it as ${SLACK_WEBHOOK_URL}. */
  webhook_url: MaybeRefSchema,
  send_resolved: z.boolean().default(true),
  timeout: TimeoutSchema,
});
export type SlackConfig = z.infer<typeof SlackConfigSchema>;

export interface SlackSettings {
  webhookUrl: string;
  sendResolved: boolean;
  timeoutMs: number;
}

export function slackSettings(cfg: SlackConfig, path: string, read: SecretReader, problems: Problem[]): SlackSettings {
  if (!cfg.webhook_url.startsWith('${'))
    problems.push({ path: `${path}.webhook_url`, message: 'must be a ${ENV_VAR} reference: a webhook URL is a credential' });
  const webhookUrl = resolveMaybeRef(cfg.webhook_url, `${path}.webhook_url`, read, problems);
  checkUrl(webhookUrl, `${path}.webhook_url`, problems);
  return { webhookUrl, sendResolved: cfg.send_resolved, timeoutMs: cfg.timeout };
}
