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

/**
 * Largest original kept whole in a DLQ record. Bigger messages (the very ones rejected as too large)
 * keep a prefix plus size and sha256, so the DLQ record itself always fits on the DLQ topic.
 */
export const MAX_DLQ_ORIGINAL_BYTES = 256 * 1024;

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
  /** The message exactly as it was read, base64 so that invalid UTF-8 survives (a prefix, if truncated). */
  original_base64: z.string(),
  /** Size of the original message in bytes. */
  original_size: z.number().int().nonnegative().optional(),
  /** True when only the first MAX_DLQ_ORIGINAL_BYTES were kept (the sha256 identifies the whole). */
  original_truncated: z.boolean().optional(),
  original_sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
  failed_at: UtcTimestampSchema,
});
export type DlqRecord = z.infer<typeof DlqRecordSchema>;
