import { z } from 'zod';
import { SeveritySchema } from './enums';
import { ShortText, UtcTimestampSchema, UuidSchema } from './primitives';
import { SecurityEventSchema } from './event';

export const ALERT_SCHEMA_VERSION = 1 as const;
export const RULE_KINDS = ['threshold', 'distinct_count', 'sequence'] as const;
export const RuleKindSchema = z.enum(RULE_KINDS);
export const MAX_ALERT_SAMPLES = 5;

/** An alert raised by correlation: one per attack (rule + group), never one per event. */
export const AlertSchema = z.object({
  schema_version: z.literal(ALERT_SCHEMA_VERSION),
  /** Stable for one firing: a redelivered window update republishes the same id. */
  alert_id: UuidSchema,
  /** Rule id plus group values: identical for every firing of the same attack source. */
  dedup_key: z.string().min(1).max(512),
  rule: z.object({
    id: ShortText,
    name: ShortText,
    description: z.string().max(4096),
    kind: RuleKindSchema,
  }),
  severity: SeveritySchema,
  /** group_by field → value, e.g. { "source.ip": "203.0.113.7" }. */
  group: z.record(z.string().max(256), z.string().max(1024)),
  /** Matching events in the window (threshold, sequence) at the moment of firing. */
  event_count: z.number().int().nonnegative(),
  /** Distinct values counted (distinct_count rules only). */
  distinct_count: z.number().int().nonnegative().optional(),
  first_event_at: UtcTimestampSchema,
  last_event_at: UtcTimestampSchema,
  sample_events: z.array(SecurityEventSchema).max(MAX_ALERT_SAMPLES),
  /** Response hint for SOAR, e.g. "block_ip". */
  action: ShortText.optional(),
  tags: z.array(z.string().min(1).max(128)).max(64),
  created_at: UtcTimestampSchema,
});
export type Alert = z.infer<typeof AlertSchema>;
