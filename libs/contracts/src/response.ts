import { z } from 'zod';
import { ShortText, UtcTimestampSchema, UuidSchema } from './primitives';

export const RESPONSE_SCHEMA_VERSION = 1 as const;

/** Every response action SOAR knows. Each reversible one has its inverse in the same list. */
export const RESPONSE_ACTIONS = [
  'block_ip',
  'unblock_ip',
  'disable_user',
  'enable_user',
  'isolate_host',
  'release_host',
  'notify',
] as const;
export const ResponseActionSchema = z.enum(RESPONSE_ACTIONS);
export type ResponseAction = z.infer<typeof ResponseActionSchema>;

/** What happened, one record per fact: a closed list so dashboards and auditors can count each. */
export const RESPONSE_EVENTS = [
  'run_started',
  'step_requested',
  'approval_requested',
  'approved',
  'rejected',
  'expired',
  'step_succeeded',
  'step_failed',
  'step_retry_scheduled',
  'step_refused',
  'step_skipped',
  'step_dry_run',
  'undo_scheduled',
  'undo_succeeded',
  'undo_failed',
  'undo_retry_scheduled',
  'undo_dry_run',
  'run_finished',
] as const;
export const ResponseEventSchema = z.enum(RESPONSE_EVENTS);
export type ResponseEvent = z.infer<typeof ResponseEventSchema>;

export const RESPONDER_ROLES = ['analyst', 'admin'] as const;
export const ResponderRoleSchema = z.enum(RESPONDER_ROLES);
export type ResponderRole = z.infer<typeof ResponderRoleSchema>;

/**
 * The audit record SOAR publishes on the responses topic for every step's request and outcome.
 * `record_id` is derived from the run, step, event and attempt, so a republished record after a
 * crash carries the same id and readers can drop the duplicate.
 */
export const ResponseRecordSchema = z.object({
  schema_version: z.literal(RESPONSE_SCHEMA_VERSION),
  record_id: UuidSchema,
  event: ResponseEventSchema,
  run_id: UuidSchema,
  alert_id: UuidSchema,
  playbook_id: ShortText,
  step_index: z.number().int().nonnegative().optional(),
  action: ResponseActionSchema.optional(),
  connector: z.string().max(64).optional(),
  /** Validated, normalised target (IP or CIDR, user id, host name); absent for notify. */
  target: z.string().max(512).optional(),
  dry_run: z.boolean(),
  /** Who caused this record: the responder itself, or the named analyst who decided. */
  actor: z.object({
    type: z.enum(['system', 'user']),
    name: ShortText,
    role: ResponderRoleSchema.optional(),
  }),
  /** Run status after this record (run_started, run_finished) or step status otherwise. */
  status: z.string().max(64).optional(),
  reason: z.string().max(2048).optional(),
  error: z.string().max(2048).optional(),
  attempt: z.number().int().nonnegative().optional(),
  /** The request as sent (method and path, or argv), secrets never included. */
  request: z.record(z.string().max(64), z.string().max(2048)).optional(),
  /** What the connector answered, summarised. */
  result: z.string().max(2048).optional(),
  duration_seconds: z.number().int().nonnegative().optional(),
  undo_at: UtcTimestampSchema.optional(),
  at: UtcTimestampSchema,
});
export type ResponseRecord = z.infer<typeof ResponseRecordSchema>;

/**
 * A SOAR `notify` step hands a message to the alert router as an Alert v1 on the alerts topic,
 * carrying this tag (routes can match it). SOAR ignores alerts with the tag, so a notification
 * can never trigger a playbook.
 */
export const SOAR_NOTIFY_TAG = 'vigil:soar-notify';
