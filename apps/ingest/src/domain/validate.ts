import {
  ACCEPTED_EVENT_SCHEMA_VERSIONS,
  EVENT_SCHEMA_VERSION,
  SecurityEventInputSchema,
  decodeJsonObject,
  describeIssues,
  toIssues,
  verifyEventMac,
  type DecodeFailure,
  type DecodeLimits,
  type SecurityEvent,
  type SecurityEventInput,
} from '@vigil/contracts';

export type IntegrityMode = 'off' | 'verify' | 'require';

export interface ValidateOptions {
  limits: DecodeLimits;
  /** Processing time, epoch ms: the reference for "in the future". */
  nowMs: number;
  /** The same instant as an ISO string (computed once per batch): becomes received_at. */
  receivedAt: string;
  /** Events stamped more than this ahead of now are flagged `future_timestamp` (kept, not dropped). */
  futureToleranceMs: number;
  /** Id for an event that came without one; derived from its raw-topic position so retries agree. */
  fallbackEventId: () => string;
  integrity: IntegrityMode;
  /** HMAC keys by key id. */
  keys: ReadonlyMap<string, Buffer>;
}

export type Validated = { ok: true; event: SecurityEvent; key: string } | DecodeFailure;

// Objects where the classic producer writes `null` for an absent optional field.
const NULLABLE_OBJECTS = ['source', 'actor', 'target'] as const;

function hasNull(obj: Record<string, unknown>): boolean {
  for (const k in obj) if (obj[k] === null) return true;
  return false;
}

function withoutNulls(obj: Record<string, unknown>): Record<string, unknown> {
  if (!hasNull(obj)) return obj;
  const out: Record<string, unknown> = {};
  for (const k in obj) if (obj[k] !== null) out[k] = obj[k];
  return out;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * The classic shape's nulls mean "absent"; zod sees them as missing, not as wrong types. Copies only
 * the objects that hold a null (JSON.parse output has no prototype surprises: keys are checked).
 */
function stripNulls(raw: Record<string, unknown>): Record<string, unknown> {
  let out = withoutNulls(raw);
  for (const k of NULLABLE_OBJECTS) {
    const v = out[k];
    if (!isPlainObject(v)) continue;
    const stripped = withoutNulls(v);
    if (stripped === v) continue;
    if (out === raw) out = { ...raw };
    out[k] = stripped;
  }
  return out;
}

/** Raw bytes from the raw topic in; a normalised SecurityEvent v1 or a classified rejection out. */
export function validateRawEvent(bytes: Buffer | null, opts: ValidateOptions): Validated {
  const decoded = decodeJsonObject(bytes, opts.limits);
  if (!decoded.ok) return decoded;
  const raw = decoded.value;

  const version = raw.schema_version;
  if (version !== undefined && version !== null && !ACCEPTED_EVENT_SCHEMA_VERSIONS.includes(version)) {
    const reason = `schema_version ${JSON.stringify(version).slice(0, 40)} is not supported (this ingest reads version ${EVENT_SCHEMA_VERSION})`;
    return { ok: false, kind: 'unsupported_schema_version', reason, issues: [{ path: 'schema_version', message: reason }] };
  }

  const parsed = SecurityEventInputSchema.safeParse(stripNulls(raw));
  if (!parsed.success) {
    const issues = toIssues(parsed.error);
    return { ok: false, kind: 'schema_violation', reason: describeIssues(issues), issues };
  }
  const input = parsed.data;

  let verified = false;
  if (opts.integrity !== 'off') {
    const proof = input.integrity;
    if (!proof) {
      if (opts.integrity === 'require') {
        const reason = 'event has no integrity block and this ingest requires signed events';
        return { ok: false, kind: 'integrity_missing', reason, issues: [{ path: 'integrity', message: reason }] };
      }
    } else {
      const key = opts.keys.get(proof.key_id);
      if (!key) {
        const reason = `integrity key id "${proof.key_id}" is not known to this ingest`;
        return { ok: false, kind: 'integrity_unknown_key', reason, issues: [{ path: 'integrity.key_id', message: reason }] };
      }
      if (!verifyEventMac(raw, key, proof.mac)) {
        const reason = `integrity MAC does not match the event content (key id "${proof.key_id}")`;
        return { ok: false, kind: 'integrity_mismatch', reason, issues: [{ path: 'integrity.mac', message: reason }] };
      }
      verified = true;
    }
  }

  const event = normalize(input, opts, verified);
  return { ok: true, event, key: partitionKey(event) };
}

/** The `ip_address` alias folded into `ip` (`ip` wins when both are given); the alias key is dropped. */
function foldIpAlias<T extends { ip?: string | undefined; ip_address?: string | undefined }>(obj: T): T {
  if (!('ip_address' in obj)) return obj;
  const { ip_address: alias, ...rest } = obj;
  if (rest.ip === undefined && alias !== undefined) rest.ip = alias;
  return rest as T;
}

function uniqueTags(tags: string[]): string[] {
  for (let i = 1; i < tags.length; i++) if (tags.indexOf(tags[i]!) < i) return [...new Set(tags)];
  return tags;
}

/** zod's output objects are its own copies, so normalisation may keep them rather than copy again. */
function normalize(input: SecurityEventInput, opts: ValidateOptions, verified: boolean): SecurityEvent {
  const event: SecurityEvent = {
    schema_version: EVENT_SCHEMA_VERSION,
    event_id: input.event_id ?? opts.fallbackEventId(),
    timestamp: input.timestamp,
    received_at: opts.receivedAt,
    event_type: input.event_type,
    severity: input.severity,
    source: foldIpAlias(input.source),
    action: input.action,
    outcome: input.outcome ?? 'unknown',
    details: input.details ?? {},
    tags: input.tags ? uniqueTags(input.tags) : [],
  };
  if (input.actor) {
    const actor = foldIpAlias(input.actor);
    // Typed already, or derived: a user when it names one.
    event.actor =
      actor.type !== undefined
        ? (actor as NonNullable<SecurityEvent['actor']>)
        : { ...actor, type: actor.user_id || actor.username ? 'user' : 'system' };
  }
  if (input.target) event.target = input.target;
  if (input.correlation_id) event.correlation_id = input.correlation_id;
  if (input.integrity) event.integrity = { ...input.integrity, verified };
  if (input.hash) event.legacy_hash = input.hash;
  if (Date.parse(input.timestamp) - opts.nowMs > opts.futureToleranceMs) event.flags = ['future_timestamp'];
  return event;
}

/**
 * Key for the validated topic: the attacking source keeps its events in one partition, in order
 * (source IP, else the actor, else the event itself for an even spread).
 */
export function partitionKey(event: SecurityEvent): string {
  return event.source.ip ?? event.actor?.user_id ?? event.event_id;
}
