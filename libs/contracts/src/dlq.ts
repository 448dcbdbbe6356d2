import { z } from 'zod';
import { UtcTimestampSchema, UuidSchema } from './primitives';

/** Why a message was dead-lettered. A closed list so dashboards can count each. */
export const DLQ_ERROR_KINDS = [
  'too_large',
  'invalid_utf8',
  'invalid_json',
  'not_an_object',
  'too_deep',
  'forbidden_key',
  'nul_byte',
  'schema_violation',
  'unsupported_schema_version',
  'integrity_missing',
  'integrity_unknown_key',
  'integrity_mismatch',
  'sink_rejected',
  'delivery_exhausted',
] as const;
export const DlqErrorKindSchema = z.enum(DLQ_ERROR_KINDS);
export type DlqErrorKind = z.infer<typeof DlqErrorKindSchema>;

export const IssueSchema = z.object({
  /** Dotted path into the message, e.g. "source.ip"; empty for the whole message. */
  path: z.string().max(1024),
  message: z.string().max(2048),
});
export type Issue = z.infer<typeof IssueSchema>;

/** What every DLQ topic carries: the original bytes, why, and where they came from. */
export const DlqRecordSchema = z.object({
  schema_version: z.literal(1),
  dlq_id: UuidSchema,
  error_kind: DlqErrorKindSchema,
  reason: z.string().max(4096),
  issues: z.array(IssueSchema).max(100),
  /** Service that gave up on the message, e.g. "ingest". */
  service: z.string().max(64),
  /** Set by delivery services (sink or channel name). */
  destination: z.string().max(128).optional(),
  attempts: z.number().int().nonnegative().optional(),
  source: z.object({
    topic: z.string().max(249),
    partition: z.number().int().nonnegative(),
    offset: z.string().regex(/^\d+$/),
    timestamp: z.string().max(32).optional(),
    key_base64: z.string().nullable(),
  }),
  /** The message exactly as it was read, base64 so that invalid UTF-8 survives. */
  original_base64: z.string(),
  failed_at: UtcTimestampSchema,
});
export type DlqRecord = z.infer<typeof DlqRecordSchema>;
