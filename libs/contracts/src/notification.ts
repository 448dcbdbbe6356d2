import { z } from 'zod';
import { SeveritySchema } from './enums';
import { ShortText, UtcTimestampSchema, UuidSchema } from './primitives';

export const NOTIFICATION_SCHEMA_VERSION = 1 as const;
export const CHANNEL_KINDS = ['slack', 'pagerduty', 'webhook', 'email', 'sms'] as const;
export const ChannelKindSchema = z.enum(CHANNEL_KINDS);
export type ChannelKind = z.infer<typeof ChannelKindSchema>;

export const NOTIFICATION_STATUSES = ['firing', 'resolved'] as const;
export const NotificationStatusSchema = z.enum(NOTIFICATION_STATUSES);
export type NotificationStatus = z.infer<typeof NotificationStatusSchema>;

export const MAX_NOTIFICATION_ALERTS = 50;

/** One alert (one dedup key) as a notification lists it. */
export const NotificationAlertSchema = z.object({
  dedup_key: z.string().min(1).max(512),
  /** The latest firing's alert id. */
  alert_id: UuidSchema,
  rule_id: ShortText,
  rule_name: ShortText,
  severity: SeveritySchema,
  group: z.record(z.string().max(256), z.string().max(1024)),
  tags: z.array(z.string().max(128)).max(64),
  action: ShortText.optional(),
  /** Matching events at the latest firing. */
  event_count: z.number().int().nonnegative(),
  /** How many alerts (firings) with this dedup key the group received. */
  firings: z.number().int().positive(),
  first_event_at: UtcTimestampSchema,
  last_event_at: UtcTimestampSchema,
});
export type NotificationAlert = z.infer<typeof NotificationAlertSchema>;

/**
 * A notification for one group and one receiver: what the webhook channel posts (signed) and
 * what every other channel renders. `seq` counts the group's notifications; with the group key
 * and receiver it names one notification exactly.
 */
export const NotificationSchema = z.object({
  schema_version: z.literal(NOTIFICATION_SCHEMA_VERSION),
  /** uuidV5(group_key, seq, receiver): the same on every retry. */
  notification_id: UuidSchema,
  group_key: UuidSchema,
  seq: z.number().int().positive(),
  receiver: ShortText,
  route: ShortText,
  status: NotificationStatusSchema,
  /** Most severe alert in the notification. */
  severity: SeveritySchema,
  /** The values the group was formed on (route's group_by). */
  group_labels: z.record(z.string().max(256), z.string().max(1024)),
  alerts: z.array(NotificationAlertSchema).max(MAX_NOTIFICATION_ALERTS),
  /** Alerts (dedup keys) in the group, including those not listed because of the cap. */
  alert_count: z.number().int().nonnegative(),
  /** Alerts (firings) received for the alerts this notification lists and counts. */
  firing_count: z.number().int().nonnegative(),
  first_event_at: UtcTimestampSchema,
  last_event_at: UtcTimestampSchema,
  created_at: UtcTimestampSchema,
});
export type Notification = z.infer<typeof NotificationSchema>;

export const DELIVERY_OUTCOMES = ['delivered', 'failed'] as const;
export const DeliveryOutcomeSchema = z.enum(DELIVERY_OUTCOMES);

/** What the notifications topic carries: one record per notification and receiver, once it is settled. */
export const NotificationRecordSchema = z.object({
  schema_version: z.literal(NOTIFICATION_SCHEMA_VERSION),
  notification_id: UuidSchema,
  group_key: UuidSchema,
  seq: z.number().int().positive(),
  receiver: ShortText,
  channel: ChannelKindSchema,
  route: ShortText,
  status: NotificationStatusSchema,
  outcome: DeliveryOutcomeSchema,
  /** Send attempts made (a delivered notification counts once however many attempts it took). */
  attempts: z.number().int().nonnegative(),
  severity: SeveritySchema,
  rule_ids: z.array(ShortText).max(50),
  alert_ids: z.array(UuidSchema).max(50),
  alert_count: z.number().int().nonnegative(),
  group_labels: z.record(z.string().max(256), z.string().max(1024)),
  /** HTTP status (or SMTP reply code) of the last attempt, when there was an answer. */
  last_status: z.number().int().optional(),
  /** Why it failed; never contains secrets. */
  error: z.string().max(2048).optional(),
  /** Reference the destination returned (PagerDuty dedup_key, Twilio message sid, SMTP message id). */
  remote_id: z.string().max(512).optional(),
  created_at: UtcTimestampSchema,
  settled_at: UtcTimestampSchema,
});
export type NotificationRecord = z.infer<typeof NotificationRecordSchema>;
