import { alertDocument, eventDocument, type DocumentFormat } from '@vigil/schema-mapping';
import { documentJson, type Forwardable } from './forwardable';
import { brief, type ItemOutcome, type SendOutcome } from './outcome';

/** Where and how events land in Splunk (HEC metadata). */
export interface SplunkFormat {
  /** Target index; absent = the token's default index. */
  readonly index?: string | undefined;
  readonly alertIndex?: string | undefined;
  readonly source: string;
  readonly sourcetype: string;
  readonly alertSourcetype: string;
  /** Fixed host; absent = the event's source.hostname, when it has one. */
  readonly host?: string | undefined;
  /** Shape of the `event` field: Vigil's own (default), ECS or OCSF. */
  readonly format?: DocumentFormat | undefined;
}

/** HEC wants epoch seconds; milliseconds survive as three decimals (1764410400.123). */
export function epochSeconds(ms: number): number {
  return Math.round(ms) / 1000;
}

/** One HEC event object (several are concatenated in one request body). */
export function hecEvent(item: Forwardable, f: SplunkFormat): string {
  const isEvent = item.kind === 'event';
  const host = f.host ?? (isEvent ? item.event.source.hostname : undefined);
  const index = isEvent ? f.index : (f.alertIndex ?? f.index);
  const format = f.format ?? 'vigil';
  const head = {
    time: epochSeconds(item.timeMs),
    ...(host ? { host } : {}),
    source: f.source,
    sourcetype: isEvent ? f.sourcetype : f.alertSourcetype,
    ...(index ? { index } : {}),
  };
  // `event` comes last: in Vigil's shape it is the item's own JSON, shared with the other sinks.
  if (format === 'vigil') return `${JSON.stringify(head).slice(0, -1)},"event":${documentJson(item)}}`;
  return JSON.stringify({ ...head, event: isEvent ? eventDocument(item.event, format) : alertDocument(item.alert, format) });
}

/** HEC's answer body: `{"text": "...", "code": N}`, plus `invalid-event-number` or `ackId` on some. */
export interface HecAnswer {
  text?: string;
  code?: number;
  invalidEventNumber?: number;
  ackId?: number;
}

export function parseHecAnswer(body: Buffer): HecAnswer | null {
  let v: unknown;
  try {
    v = JSON.parse(body.toString('utf8'));
  } catch {
    return null;
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return null;
  const o = v as Record<string, unknown>;
  const num = (x: unknown) => (typeof x === 'number' && Number.isInteger(x) ? x : undefined);
  const answer: HecAnswer = {};
  if (typeof o.text === 'string') answer.text = o.text;
  const code = num(o.code);
  if (code !== undefined) answer.code = code;
  const invalid = num(o['invalid-event-number']);
  if (invalid !== undefined) answer.invalidEventNumber = invalid;
  const ackId = num(o.ackId);
  if (ackId !== undefined) answer.ackId = ackId;
  return answer;
}

/** HEC status codes (Splunk docs, "Troubleshoot HTTP Event Collector"). */
export const HEC_CODES = {
  success: 0,
  tokenDisabled: 1,
  tokenRequired: 2,
  invalidAuthorization: 3,
  invalidToken: 4,
  noData: 5,
  invalidDataFormat: 6,
  incorrectIndex: 7,
  internalError: 8,
  serverBusy: 9,
  dataChannelMissing: 10,
  invalidDataChannel: 11,
  eventFieldRequired: 12,
  eventFieldBlank: 13,
  ackDisabled: 14,
} as const;

/** Codes that blame one event of the body, named by `invalid-event-number`. */
const PER_EVENT_CODES: ReadonlySet<number> = new Set([
  HEC_CODES.invalidDataFormat,
  HEC_CODES.incorrectIndex,
  HEC_CODES.eventFieldRequired,
  HEC_CODES.eventFieldBlank,
]);

export type HecVerdict = SendOutcome | { kind: 'await_ack'; ackId: number };

function describe(status: number, a: HecAnswer | null): string {
  return a ? `HEC ${status} code ${a.code ?? '?'}: ${brief(a.text ?? '')}` : `HEC ${status} with an unreadable body`;
}

/**
 * Reads an answer to POST /services/collector/event carrying `count` events.
 * Busy, internal errors, 5xx and 429 are retried; token and format errors are not. With indexer
 * acknowledgement a 200 only starts the wait for the ack. An invalid event stops HEC at that event:
 * the one named is refused; the others go again (those after it were never read, and for those
 * before it the answer does not prove they were kept).
 */
export function classifyHec(
  status: number,
  answer: HecAnswer | null,
  count: number,
  ackMode: boolean,
  retryAfterMs?: number | null,
): HecVerdict {
  const why = describe(status, answer);
  if (status === 200 && answer?.code === HEC_CODES.success) {
    if (!ackMode) return { kind: 'items', items: Array.from({ length: count }, () => ({ status: 'ok' })) };
    if (answer.ackId === undefined) {
      return {
        kind: 'refused',
        reason: 'indexer acknowledgement is configured but HEC answered without an ackId (is useACK enabled on the token?)',
      };
    }
    return { kind: 'await_ack', ackId: answer.ackId };
  }
  if (status === 413) return { kind: 'too_large', reason: why };
  if (status === 429 || status >= 500) return { kind: 'unavailable', reason: why, ...(retryAfterMs != null ? { retryAfterMs } : {}) };
  if (status === 400 && answer?.code !== undefined && PER_EVENT_CODES.has(answer.code)) {
    const bad = answer.invalidEventNumber;
    if (bad === undefined || bad < 0 || bad >= count) return { kind: 'refused', reason: why };
    const items: ItemOutcome[] = [];
    for (let i = 0; i < count; i++) {
      // Whether HEC kept the events before the invalid one is not something its answer proves (and
      // under acknowledgement they got no ackId): send them again. At least once, never lost.
      if (i < bad) items.push({ status: 'resend', reason: `sent again: HEC refused event ${bad} of the request` });
      else if (i === bad) items.push({ status: 'reject', reason: why });
      else items.push({ status: 'resend', reason: `not read: HEC stopped at event ${bad}` });
    }
    return { kind: 'items', items };
  }
  if (status === 200) return { kind: 'unavailable', reason: `${why} (unexpected answer to a 200)` };
  return { kind: 'refused', reason: why };
}

/** Reads an answer to POST /services/collector/ack: which of the asked ack ids are indexed. */
export function parseAckAnswer(
  status: number,
  body: Buffer,
): { ok: true; acked: Set<number> } | { ok: false; reason: string; retriable: boolean } {
  if (status !== 200) {
    const answer = parseHecAnswer(body);
    return { ok: false, reason: describe(status, answer), retriable: status === 429 || status >= 500 };
  }
  let v: unknown;
  try {
    v = JSON.parse(body.toString('utf8'));
  } catch {
    return { ok: false, reason: 'ack answer is not JSON', retriable: true };
  }
  const acks = (v as { acks?: unknown } | null)?.acks;
  if (acks === null || typeof acks !== 'object' || Array.isArray(acks))
    return { ok: false, reason: 'ack answer has no "acks" object', retriable: true };
  const acked = new Set<number>();
  for (const [k, val] of Object.entries(acks as Record<string, unknown>)) if (val === true && /^\d+$/.test(k)) acked.add(Number(k));
  return { ok: true, acked };
}
