import { isIP } from 'node:net';
import { DEFAULT_DECODE_LIMITS, decodeVersioned, type DecodeFailure, type DecodeLimits } from './decode';
import { ACTOR_TYPES, EVENT_TYPES, OUTCOMES, SEVERITIES } from './enums';
import {
  EVENT_FLAGS,
  EVENT_SCHEMA_VERSION,
  INTEGRITY_KEY_ID,
  INTEGRITY_MAC,
  IntegritySchema,
  MAX_EVENT_FLAGS,
  MAX_TAGS,
  SecurityEventSchema,
  type SecurityEvent,
} from './event';
import { UtcTimestampSchema, UuidSchema } from './primitives';

/**
 * A validated-topic event from untrusted bytes: `decodeVersioned` with `SecurityEventSchema`,
 * taking the fast path below for events that are plainly canonical. Never throws.
 */
export function decodeSecurityEvent(
  bytes: Buffer | null,
  reader: string,
  limits: DecodeLimits = DEFAULT_DECODE_LIMITS,
): { ok: true; value: SecurityEvent } | DecodeFailure {
  return decodeVersioned(bytes, SecurityEventSchema, EVENT_SCHEMA_VERSION, reader, limits, isCanonicalSecurityEvent);
}

/**
 * A fast yes for the common case on the validated topic: true only when `SecurityEventSchema`
 * would accept `value` and hand back an object equal to it, so the caller may use `value` as is.
 * False means "ask the schema", never "invalid": anything unusual (an unknown top-level key, which
 * the schema would strip; a field this check does not know) takes the schema's path, which also
 * words the error. The schema stays the contract; this only skips its machinery for events that
 * are plainly canonical. A property test holds the two together (event-check.spec.ts).
 */
export function isCanonicalSecurityEvent(value: unknown): value is SecurityEvent {
  if (!isRecord(value)) return false;
  // An unknown top-level member would be stripped by the schema: not canonical.
  for (const key in value) if (!TOP_KEYS.has(key)) return false;
  const v = value as Partial<Record<string, unknown>>;
  return (
    v.schema_version === EVENT_SCHEMA_VERSION &&
    typeof v.event_id === 'string' &&
    UUID.test(v.event_id) &&
    isUtcTimestamp(v.timestamp) &&
    isUtcTimestamp(v.received_at) &&
    EVENT_TYPE_SET.has(v.event_type) &&
    SEVERITY_SET.has(v.severity) &&
    OUTCOME_SET.has(v.outcome) &&
    isText(v.action, 1, 2048) &&
    isSource(v.source) &&
    isDetails(v.details) &&
    isTags(v.tags) &&
    (v.actor === undefined || isActor(v.actor)) &&
    (v.target === undefined || isTarget(v.target)) &&
    isOptionalText(v.correlation_id, 1, 256) &&
    (v.integrity === undefined || isIntegrity(v.integrity)) &&
    isOptionalText(v.legacy_hash, 0, 128) &&
    (v.flags === undefined || isFlags(v.flags))
  );
}

const TOP_KEYS = new Set(Object.keys(SecurityEventSchema.shape));
// The patterns the schema's own string formats use, read from them so the two cannot drift.
const UUID = formatPattern(UuidSchema);
const UTC_TIMESTAMP = formatPattern(UtcTimestampSchema);
const EVENT_TYPE_SET: ReadonlySet<unknown> = new Set(EVENT_TYPES);
const SEVERITY_SET: ReadonlySet<unknown> = new Set(SEVERITIES);
const OUTCOME_SET: ReadonlySet<unknown> = new Set(OUTCOMES);
const ACTOR_TYPE_SET: ReadonlySet<unknown> = new Set(ACTOR_TYPES);
const FLAG_SET: ReadonlySet<unknown> = new Set(EVENT_FLAGS);
const INTEGRITY_KEYS = Object.keys(IntegritySchema.shape).length;

function formatPattern(schema: { _zod: { def: unknown } }): RegExp {
  const pattern = (schema._zod.def as { pattern?: unknown }).pattern;
  if (!(pattern instanceof RegExp)) throw new Error('a string format without a pattern: the fast event check needs updating');
  return pattern;
}

function isText(x: unknown, min: number, max: number): boolean {
  return typeof x === 'string' && x.length >= min && x.length <= max;
}

function isOptionalText(x: unknown, min: number, max: number): boolean {
  return x === undefined || isText(x, min, max);
}

function isOptionalIp(x: unknown): boolean {
  return x === undefined || (typeof x === 'string' && x.length <= 45 && isIP(x) !== 0);
}

function isUtcTimestamp(x: unknown): boolean {
  return typeof x === 'string' && UTC_TIMESTAMP.test(x);
}

/** A JSON object: what JSON.parse makes (plain, not an array). */
function isRecord(x: unknown): x is Record<string, unknown> {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return false;
  const proto = Object.getPrototypeOf(x);
  return proto === Object.prototype || proto === null;
}

function isSource(x: unknown): boolean {
  return (
    isRecord(x) &&
    isText(x.application, 1, 256) &&
    isOptionalText(x.environment, 1, 256) &&
    isOptionalIp(x.ip) &&
    isOptionalText(x.hostname, 1, 256)
  );
}

function isActor(x: unknown): boolean {
  return (
    isRecord(x) &&
    ACTOR_TYPE_SET.has(x.type) &&
    isOptionalText(x.user_id, 1, 256) &&
    isOptionalText(x.username, 1, 256) &&
    isOptionalIp(x.ip) &&
    isOptionalText(x.session_id, 1, 256) &&
    isOptionalText(x.user_agent, 0, 1024)
  );
}

function isTarget(x: unknown): boolean {
  return (
    isRecord(x) &&
    isOptionalText(x.type, 1, 256) &&
    isOptionalText(x.id, 1, 256) &&
    isOptionalText(x.name, 1, 256) &&
    isOptionalText(x.resource, 1, 2048)
  );
}

function isDetails(x: unknown): boolean {
  if (!isRecord(x)) return false;
  for (const key in x) if (key.length > 256) return false;
  return true;
}

function isTags(x: unknown): boolean {
  if (!Array.isArray(x) || x.length > MAX_TAGS) return false;
  for (const tag of x) if (!isText(tag, 1, 128)) return false;
  return true;
}

function isFlags(x: unknown): boolean {
  if (!Array.isArray(x) || x.length > MAX_EVENT_FLAGS) return false;
  for (const flag of x) if (!FLAG_SET.has(flag)) return false;
  return true;
}

function isIntegrity(x: unknown): boolean {
  if (!isRecord(x)) return false;
  let keys = 0;
  for (const _ in x) keys++;
  return (
    keys === INTEGRITY_KEYS &&
    x.alg === 'hmac-sha256' &&
    typeof x.key_id === 'string' &&
    INTEGRITY_KEY_ID.test(x.key_id) &&
    typeof x.mac === 'string' &&
    INTEGRITY_MAC.test(x.mac) &&
    typeof x.verified === 'boolean'
  );
}
