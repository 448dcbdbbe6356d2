import { z } from 'zod';
import { ActorTypeSchema, EventTypeSchema, OutcomeSchema, SeveritySchema } from './enums';
import { IpSchema, MediumText, ShortText, UtcTimestampSchema, UuidSchema, ZonedTimestampSchema } from './primitives';

/** The only event schema version this release reads and writes. */
export const EVENT_SCHEMA_VERSION = 1 as const;
/** Versions ingest accepts from producers (the classic shape has none and reads as 1). */
export const ACCEPTED_EVENT_SCHEMA_VERSIONS: readonly unknown[] = [1, '1', '1.0'];

export const MAX_TAGS = 64;
const Tag = z.string().min(1).max(128);
const Tags = z.array(Tag).max(MAX_TAGS);
const Details = z.record(z.string().max(256), z.unknown());

/** Keyed integrity proof a producer attaches; ingest verifies it when keys are configured. */
export const INTEGRITY_KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;
export const INTEGRITY_MAC = /^[0-9a-f]{64}$/;
export const IntegrityInputSchema = z.strictObject({
  alg: z.literal('hmac-sha256'),
  key_id: z.string().regex(INTEGRITY_KEY_ID, 'must be 1-64 of A-Z a-z 0-9 . _ -'),
  mac: z.string().regex(INTEGRITY_MAC, 'must be 64 lowercase hex digits'),
});
export type IntegrityInput = z.infer<typeof IntegrityInputSchema>;

export const IntegritySchema = IntegrityInputSchema.extend({
  /** True when ingest recomputed the MAC with the named key and it matched. */
  verified: z.boolean(),
});

// Nested objects are loose: producers may carry extra descriptive fields, which are kept.
// The fields Vigil reasons about are typed and validated.
const SourceInputSchema = z.looseObject({
  application: ShortText,
  environment: ShortText.optional(),
  ip: IpSchema.optional(),
  /** Alias some producers use for `ip`. */
  ip_address: IpSchema.optional(),
  hostname: ShortText.optional(),
});

const ActorInputSchema = z.looseObject({
  type: ActorTypeSchema.optional(),
  user_id: ShortText.optional(),
  username: ShortText.optional(),
  ip: IpSchema.optional(),
  ip_address: IpSchema.optional(),
  session_id: ShortText.optional(),
  user_agent: z.string().max(1024).optional(),
});

const TargetInputSchema = z.looseObject({
  type: ShortText.optional(),
  id: ShortText.optional(),
  name: ShortText.optional(),
  resource: z.string().min(1).max(2048).optional(),
});

/**
 * What a producer may write to the raw topic: the classic security-event shape
 * (snake_case, `null` for absent optional fields, an unkeyed `hash`, no schema_version)
 * or the same shape with schema_version 1 and a keyed `integrity` block.
 * Unknown top-level fields are refused so that a typo is an error, not a lost field.
 */
export const SecurityEventInputSchema = z.strictObject({
  schema_version: z.unknown().optional(),
  event_id: UuidSchema.optional(),
  timestamp: ZonedTimestampSchema,
  event_type: EventTypeSchema,
  severity: SeveritySchema,
  source: SourceInputSchema,
  actor: ActorInputSchema.optional(),
  action: MediumText,
  outcome: OutcomeSchema.optional(),
  target: TargetInputSchema.optional(),
  details: Details.optional(),
  tags: Tags.optional(),
  correlation_id: ShortText.optional(),
  integrity: IntegrityInputSchema.optional(),
  /** The classic producer's unkeyed, truncated hash: kept for reference, proves nothing. */
  hash: z.string().max(128).optional(),
});
export type SecurityEventInput = z.infer<typeof SecurityEventInputSchema>;

export const EVENT_FLAGS = ['future_timestamp'] as const;
export const MAX_EVENT_FLAGS = 8;
export const EventFlagSchema = z.enum(EVENT_FLAGS);
export type EventFlag = z.infer<typeof EventFlagSchema>;

/** SecurityEvent v1 as it travels on the validated topic. */
export const SecurityEventSchema = z.object({
  schema_version: z.literal(EVENT_SCHEMA_VERSION),
  event_id: UuidSchema,
  /** Event time, UTC. */
  timestamp: UtcTimestampSchema,
  /** When ingest accepted it, UTC. */
  received_at: UtcTimestampSchema,
  event_type: EventTypeSchema,
  severity: SeveritySchema,
  source: z.looseObject({
    application: ShortText,
    environment: ShortText.optional(),
    ip: IpSchema.optional(),
    hostname: ShortText.optional(),
  }),
  actor: z
    .looseObject({
      type: ActorTypeSchema,
      user_id: ShortText.optional(),
      username: ShortText.optional(),
      ip: IpSchema.optional(),
      session_id: ShortText.optional(),
      user_agent: z.string().max(1024).optional(),
    })
    .optional(),
  action: MediumText,
  outcome: OutcomeSchema,
  target: TargetInputSchema.optional(),
  details: Details,
  tags: Tags,
  correlation_id: ShortText.optional(),
  integrity: IntegritySchema.optional(),
  legacy_hash: z.string().max(128).optional(),
  flags: z.array(EventFlagSchema).max(MAX_EVENT_FLAGS).optional(),
});
export type SecurityEvent = z.infer<typeof SecurityEventSchema>;
