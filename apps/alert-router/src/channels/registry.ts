import { z } from 'zod';
import type { ChannelKind } from '@vigil/contracts';
import type { Problem, SecretReader } from './config-common';
import { EmailChannel } from './email/client';
import { EmailConfigSchema, emailSettings } from './email/config';
import { PagerDutyChannel } from './pagerduty/client';
import { PagerDutyConfigSchema, pagerDutySettings } from './pagerduty/config';
import { SlackChannel } from './slack/client';
import { SlackConfigSchema, slackSettings } from './slack/config';
import { SmsChannel } from './sms/client';
import { SmsConfigSchema, smsSettings } from './sms/config';
import type { Channel } from './types';
import { WebhookChannel } from './webhook/client';
import { WebhookConfigSchema, webhookSettings } from './webhook/config';

/** A receiver in the routes file: a name and exactly one channel block. */
export const ReceiverSpecSchema = z
  .strictObject({
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'must be 1-64 of A-Z a-z 0-9 _ . - (starting alphanumeric)'),
    slack: SlackConfigSchema.optional(),
    pagerduty: PagerDutyConfigSchema.optional(),
    webhook: WebhookConfigSchema.optional(),
    email: EmailConfigSchema.optional(),
    sms: SmsConfigSchema.optional(),
  })
  .refine((r) => [r.slack, r.pagerduty, r.webhook, r.email, r.sms].filter(Boolean).length === 1, {
    message: 'a receiver needs exactly one of slack, pagerduty, webhook, email, sms',
  });
export type ReceiverSpec = z.infer<typeof ReceiverSpecSchema>;

/** A receiver with its secrets resolved, ready to become a channel. */
export interface Receiver {
  readonly name: string;
  readonly kind: ChannelKind;
  readonly sendResolved: boolean;
  /** Builds the channel (done once per config load). */
  create(): Channel;
}

export function resolveReceiver(spec: ReceiverSpec, path: string, read: SecretReader, problems: Problem[]): Receiver {
  const name = spec.name;
  if (spec.slack) {
    const s = slackSettings(spec.slack, `${path}.slack`, read, problems);
    return { name, kind: 'slack', sendResolved: s.sendResolved, create: () => new SlackChannel(name, s) };
  }
  if (spec.pagerduty) {
    const s = pagerDutySettings(spec.pagerduty, `${path}.pagerduty`, read, problems);
    return { name, kind: 'pagerduty', sendResolved: s.sendResolved, create: () => new PagerDutyChannel(name, s) };
  }
  if (spec.webhook) {
    const s = webhookSettings(spec.webhook, `${path}.webhook`, read, problems);
    return { name, kind: 'webhook', sendResolved: s.sendResolved, create: () => new WebhookChannel(name, s) };
  }
  if (spec.email) {
    const s = emailSettings(spec.email, `${path}.email`, read, problems);
    return { name, kind: 'email', sendResolved: s.sendResolved, create: () => new EmailChannel(name, s) };
  }
  const s = smsSettings(spec.sms!, `${path}.sms`, read, problems);
  return { name, kind: 'sms', sendResolved: s.sendResolved, create: () => new SmsChannel(name, s) };
}
