import {
  ALERT_SCHEMA_VERSION,
  AlertSchema,
  EVENT_SCHEMA_VERSION,
  SecurityEventSchema,
  decodeJsonObject,
  describeIssues,
  toIssues,
  type Alert,
  type DecodeFailure,
  type DecodeLimits,
  type SecurityEvent,
} from '@vigil/contracts';

/** What the forwarder carries to a SIEM: a validated event or an alert, with its id and time. */
export type Forwardable =
  { kind: 'event'; id: string; timeMs: number; event: SecurityEvent } | { kind: 'alert'; id: string; timeMs: number; alert: Alert };

export type ForwardableKind = Forwardable['kind'];

export type ReadResult = { ok: true; item: Forwardable } | DecodeFailure;

/**
 * Bytes from the validated-events or alerts topic in; a typed item or a classified reason out.
 * Never throws. Versions other than the one this release knows are refused with their own kind.
 */
export function readForwardable(bytes: Buffer | null, kind: ForwardableKind, limits: DecodeLimits): ReadResult {
  const decoded = decodeJsonObject(bytes, limits);
  if (!decoded.ok) return decoded;
  const known = kind === 'event' ? EVENT_SCHEMA_VERSION : ALERT_SCHEMA_VERSION;
  const version = decoded.value.schema_version;
  if (version !== known) {
    const reason = `schema_version ${JSON.stringify(version ?? null).slice(0, 40)} is not supported (this forwarder reads ${kind} version ${known})`;
    return { ok: false, kind: 'unsupported_schema_version', reason, issues: [{ path: 'schema_version', message: reason }] };
  }
  if (kind === 'event') {
    const parsed = SecurityEventSchema.safeParse(decoded.value);
    if (!parsed.success) return schemaFailure(parsed.error);
    const event = parsed.data;
    return { ok: true, item: { kind: 'event', id: event.event_id, timeMs: Date.parse(event.timestamp), event } };
  }
  const parsed = AlertSchema.safeParse(decoded.value);
  if (!parsed.success) return schemaFailure(parsed.error);
  const alert = parsed.data;
  return { ok: true, item: { kind: 'alert', id: alert.alert_id, timeMs: Date.parse(alert.created_at), alert } };
}

function schemaFailure(error: Parameters<typeof toIssues>[0]): DecodeFailure {
  const issues = toIssues(error);
  return { ok: false, kind: 'schema_violation', reason: describeIssues(issues), issues };
}
