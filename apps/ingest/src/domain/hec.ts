/**
 * The Splunk HTTP Event Collector protocol, the pure part: splitting a body of concatenated event
 * objects, checking each envelope the way HEC does, and turning an envelope into the raw event
 * Vigil's ingest reads from the raw topic. No HTTP and no clock here (time is passed in).
 */

/** HEC's answers (Splunk docs, "Troubleshoot HTTP Event Collector"; health codes 17/18). */
export const HEC = {
  success: { status: 200, code: 0, text: 'Success' },
  tokenRequired: { status: 401, code: 2, text: 'Token is required' },
  invalidAuthorization: { status: 401, code: 3, text: 'Invalid authorization' },
  invalidToken: { status: 403, code: 4, text: 'Invalid token' },
  noData: { status: 400, code: 5, text: 'No data' },
  invalidDataFormat: { status: 400, code: 6, text: 'Invalid data format' },
  incorrectIndex: { status: 400, code: 7, text: 'Incorrect index' },
  serverBusy: { status: 503, code: 9, text: 'Server is busy' },
  invalidChannel: { status: 400, code: 11, text: 'Invalid data channel' },
  eventFieldRequired: { status: 400, code: 12, text: 'Event field is required' },
  eventFieldBlank: { status: 400, code: 13, text: 'Event field cannot be blank' },
  ackDisabled: { status: 400, code: 14, text: 'ACK is disabled' },
  healthy: { status: 200, code: 17, text: 'HEC is healthy' },
  unhealthy: { status: 503, code: 18, text: 'HEC is unhealthy, queues are full' },
} as const;
export type HecAnswer = (typeof HEC)[keyof typeof HEC];
export type HecAnswerName = keyof typeof HEC;

/** One value of a concatenated body: parsed, or where it stopped being JSON. */
export type BodyPart = { ok: true; value: unknown } | { ok: false };

/**
 * Splits `{...}{...}` (or one per line) into values without trusting the body: a scanner finds
 * each top-level object's end (strings and escapes honoured), then JSON.parse reads it. Stops at
 * the first value that is not a JSON object, as HEC does.
 */
export function splitConcatenatedJson(text: string, maxParts: number): BodyPart[] {
  const out: BodyPart[] = [];
  const n = text.length;
  let i = 0;
  while (i < n && out.length < maxParts) {
    while (i < n && (text[i] === ' ' || text[i] === '\n' || text[i] === '\r' || text[i] === '\t')) i++;
    if (i >= n) break;
    if (text[i] !== '{') {
      out.push({ ok: false });
      return out;
    }
    let depth = 0;
    let inString = false;
    let j = i;
    for (; j < n; j++) {
      const c = text.charCodeAt(j);
      if (inString) {
        if (c === 0x5c) j++;
        else if (c === 0x22) inString = false;
      } else if (c === 0x22) inString = true;
      else if (c === 0x7b || c === 0x5b) depth++;
      else if (c === 0x7d || c === 0x5d) {
        depth--;
        if (depth === 0) break;
      }
    }
    if (j >= n) {
      out.push({ ok: false });
      return out;
    }
    try {
      out.push({ ok: true, value: JSON.parse(text.slice(i, j + 1)) });
    } catch {
      out.push({ ok: false });
      return out;
    }
    i = j + 1;
  }
  return out;
}

/** What a token may do (configured per token). */
export interface TokenScope {
  readonly name: string;
  /** Indexes an envelope may name; empty = any. */
  readonly indexes: readonly string[];
  /** source.application values its events may claim; empty = any. */
  readonly sources: readonly string[];
}

/** HEC's envelope checks, then Vigil's: the event must be a SecurityEvent input object. */
export type EnvelopeResult = { ok: true; raw: Record<string, unknown> } | { ok: false; answer: HecAnswerName; reason: string };

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** HEC `time`: epoch seconds as a number or a numeric string (fractions allowed); ms or null when invalid. */
export function hecTimeMs(time: unknown): number | null {
  let s: number;
  if (typeof time === 'number') s = time;
  else if (typeof time === 'string' && /^\d{1,12}(\.\d{1,9})?$/.test(time)) s = Number(time);
  else return null;
  if (!Number.isFinite(s) || s < 0 || s > 253_402_300_799) return null; // up to 9999-12-31
  return Math.round(s * 1000);
}

/**
 * Checks one envelope ({event, time, host, source, sourcetype, index, fields}) and returns the raw
 * event to publish. The event object is used as the producer wrote it; HEC metadata only fills what
 * it lacks (timestamp from `time`, else the receive time; source.hostname from `host`) and is kept
 * under details.hec. An event carrying an integrity block is left byte-for-byte alone (its MAC covers it).
 */
export function envelopeToRawEvent(envelope: unknown, scope: TokenScope, receivedAtIso: string): EnvelopeResult {
  if (!isObject(envelope)) return { ok: false, answer: 'invalidDataFormat', reason: 'an event envelope must be a JSON object' };
  if (!('event' in envelope)) return { ok: false, answer: 'eventFieldRequired', reason: 'the envelope has no "event" field' };
  const ev = envelope.event;
  if (ev === null || ev === '' || (isObject(ev) && Object.keys(ev).length === 0))
    return { ok: false, answer: 'eventFieldBlank', reason: 'the "event" field is blank' };
  let timeMs: number | null = null;
  if (envelope.time !== undefined) {
    timeMs = hecTimeMs(envelope.time);
    if (timeMs === null) return { ok: false, answer: 'invalidDataFormat', reason: '"time" must be epoch seconds' };
  }
  for (const k of ['host', 'source', 'sourcetype', 'index'] as const) {
    if (envelope[k] !== undefined && typeof envelope[k] !== 'string')
      return { ok: false, answer: 'invalidDataFormat', reason: `"${k}" must be a string` };
  }
  const fields = envelope.fields;
  if (fields !== undefined) {
    if (!isObject(fields)) return { ok: false, answer: 'invalidDataFormat', reason: '"fields" must be an object' };
    for (const v of Object.values(fields))
      if (isObject(v)) return { ok: false, answer: 'invalidDataFormat', reason: 'indexed "fields" must be flat' };
  }
  const index = envelope.index as string | undefined;
  if (index !== undefined && scope.indexes.length > 0 && !scope.indexes.includes(index))
    return { ok: false, answer: 'incorrectIndex', reason: `token "${scope.name}" may not write to index "${index}"` };
  if (!isObject(ev))
    return {
      ok: false,
      answer: 'invalidDataFormat',
      reason: '"event" must be a Vigil security event object (text events are not accepted)',
    };
  const app = isObject(ev.source) ? ev.source.application : undefined;
  if (scope.sources.length > 0 && (typeof app !== 'string' || !scope.sources.includes(app)))
    return {
      ok: false,
      answer: 'invalidDataFormat',
      reason: `token "${scope.name}" may not send events of source.application ${JSON.stringify(app ?? null)}`,
    };
  if ('integrity' in ev) return { ok: true, raw: ev };
  const raw: Record<string, unknown> = { ...ev };
  if (raw.timestamp === undefined || raw.timestamp === null)
    raw.timestamp = timeMs !== null ? new Date(timeMs).toISOString() : receivedAtIso;
  if (typeof envelope.host === 'string' && isObject(raw.source) && (raw.source.hostname === undefined || raw.source.hostname === null))
    raw.source = { ...raw.source, hostname: envelope.host };
  const meta: Record<string, unknown> = {};
  for (const k of ['source', 'sourcetype', 'index'] as const) if (typeof envelope[k] === 'string') meta[k] = envelope[k];
  if (fields !== undefined) meta.fields = fields;
  if (Object.keys(meta).length > 0) {
    const details = isObject(raw.details) ? raw.details : raw.details === undefined || raw.details === null ? {} : null;
    if (details && details.hec === undefined) raw.details = { ...details, hec: meta };
  }
  return { ok: true, raw };
}

/** One NDJSON line: its 1-based number and text (blank lines are skipped). */
export function ndjsonLines(text: string, maxLines: number): Array<{ line: number; text: string }> | null {
  const out: Array<{ line: number; text: string }> = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const t = lines[i]!.replace(/\r$/, '');
    if (t.trim() === '') continue;
    if (out.length >= maxLines) return null;
    out.push({ line: i + 1, text: t });
  }
  return out;
}
