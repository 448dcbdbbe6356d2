import {
  ALERT_SCHEMA_VERSION,
  AlertSchema,
  decodeSecurityEvent,
  decodeVersioned,
  type Alert,
  type DecodeFailure,
  type DecodeLimits,
  type SecurityEvent,
} from '@vigil/contracts';

/**
 * What the forwarder carries to a SIEM: a validated event or an alert, with its id and time.
 * `json` holds the event's or alert's own JSON once a sink has asked for it (documentJson).
 */
export type Forwardable =
  | { kind: 'event'; id: string; timeMs: number; event: SecurityEvent; json?: string }
  | { kind: 'alert'; id: string; timeMs: number; alert: Alert; json?: string };

export type ForwardableKind = Forwardable['kind'];

export type ReadResult = { ok: true; item: Forwardable } | DecodeFailure;

/**
 * Bytes from the validated-events or alerts topic in; a typed item or a classified reason out.
 * Never throws. Versions other than the one this release knows are refused with their own kind.
 */
export function readForwardable(bytes: Buffer | null, kind: ForwardableKind, limits: DecodeLimits): ReadResult {
  if (kind === 'event') {
    const r = decodeSecurityEvent(bytes, 'this forwarder (events)', limits);
    if (!r.ok) return r;
    const event = r.value;
    return { ok: true, item: { kind: 'event', id: event.event_id, timeMs: Date.parse(event.timestamp), event } };
  }
  const r = decodeVersioned(bytes, AlertSchema, ALERT_SCHEMA_VERSION, 'this forwarder (alerts)', limits);
  if (!r.ok) return r;
  const alert = r.value;
  return { ok: true, item: { kind: 'alert', id: alert.alert_id, timeMs: Date.parse(alert.created_at), alert } };
}

/**
 * The event's or alert's own JSON, made on first use and kept on the item: when one read item goes
 * to several sinks, those that send the object as it is (Splunk's and Elasticsearch's Vigil shape)
 * share one JSON.stringify instead of making one each.
 */
export function documentJson(item: Forwardable): string {
  return (item.json ??= JSON.stringify(item.kind === 'event' ? item.event : item.alert));
}
