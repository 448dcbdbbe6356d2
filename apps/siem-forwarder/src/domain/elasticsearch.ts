import { alertDocument, eventDocument, toEcs, toEcsAlert, type DocumentFormat } from '@vigil/schema-mapping';
import { documentJson, type Forwardable } from './forwardable';
import { brief, type ItemOutcome, type SendOutcome } from './outcome';

// ---------------------------------------------------------------------------------------------
// Index names
// ---------------------------------------------------------------------------------------------

/** An index name with an optional date part, e.g. `vigil-events-{yyyy.MM.dd}`; a data stream has none. */
export type IndexPattern = ReadonlyArray<{ literal: string } | { date: ReadonlyArray<string> }>;

const DATE_TOKENS = ['yyyy', 'MM', 'dd', 'HH'] as const;
const DATE_SEPARATORS = new Set(['.', '-', '_']);
const FORBIDDEN_INDEX_CHARS = /[\\/*?"<>| ,#:A-Z]/;

/**
 * Elasticsearch's index-name rules: lowercase, none of \ / * ? " < > | space , # :, not starting with
 * - _ +, not . or .., at most 255 bytes. Null when valid, else the problem.
 */
export function indexNameProblem(name: string): string | null {
  if (name.length === 0) return 'must not be empty';
  if (Buffer.byteLength(name) > 255) return 'must be at most 255 bytes';
  if (name === '.' || name === '..') return 'must not be . or ..';
  if (/^[-_+]/.test(name)) return 'must not start with -, _ or +';
  const bad = FORBIDDEN_INDEX_CHARS.exec(name);
  if (bad) return `must be lowercase and must not contain "${bad[0]}"`;
  return null;
}

/** Parses `prefix{yyyy.MM.dd}suffix`; the braces may hold yyyy, MM, dd, HH joined by . - _. */
export function parseIndexPattern(text: string): { ok: true; pattern: IndexPattern } | { ok: false; problem: string } {
  const parts: Array<{ literal: string } | { date: string[] }> = [];
  let rest = text;
  while (rest.length > 0) {
    const open = rest.indexOf('{');
    if (open < 0) {
      parts.push({ literal: rest });
      break;
    }
    if (open > 0) parts.push({ literal: rest.slice(0, open) });
    const close = rest.indexOf('}', open);
    if (close < 0) return { ok: false, problem: 'has a "{" without its "}"' };
    const tokens = tokenizeDate(rest.slice(open + 1, close));
    if (!tokens)
      return { ok: false, problem: `date part "{${rest.slice(open + 1, close)}}" may only use yyyy, MM, dd, HH joined by . - _` };
    parts.push({ date: tokens });
    rest = rest.slice(close + 1);
  }
  const pattern: IndexPattern = parts;
  const problem = indexNameProblem(indexName(pattern, Date.UTC(2026, 0, 1)));
  return problem ? { ok: false, problem: `gives index names that ${problem}` } : { ok: true, pattern };
}

function tokenizeDate(format: string): string[] | null {
  const out: string[] = [];
  let i = 0;
  while (i < format.length) {
    const token = DATE_TOKENS.find((t) => format.startsWith(t, i));
    if (token) {
      out.push(token);
      i += token.length;
    } else if (DATE_SEPARATORS.has(format[i]!)) {
      out.push(format[i]!);
      i++;
    } else return null;
  }
  return out.some((t) => (DATE_TOKENS as readonly string[]).includes(t)) ? out : null;
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** The index for an item with this time (UTC date parts). */
export function indexName(pattern: IndexPattern, timeMs: number): string {
  const d = new Date(timeMs);
  let out = '';
  for (const part of pattern) {
    if ('literal' in part) {
      out += part.literal;
      continue;
    }
    for (const t of part.date) {
      if (t === 'yyyy') out += pad(d.getUTCFullYear(), 4);
      else if (t === 'MM') out += pad(d.getUTCMonth() + 1);
      else if (t === 'dd') out += pad(d.getUTCDate());
      else if (t === 'HH') out += pad(d.getUTCHours());
      else out += t;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Documents
// ---------------------------------------------------------------------------------------------

export interface EsFormat {
  readonly index: IndexPattern;
  readonly alertIndex: IndexPattern;
  /** Document shape: Vigil's own field names, ECS (Elastic Common Schema) or OCSF. */
  readonly format: DocumentFormat;
}

/** The ECS mapping lives in @vigil/schema-mapping; these names are kept for existing callers. */
export const ecsEvent = toEcs;
export const ecsAlert = toEcsAlert;

/** The document body for an item: Vigil's own shape with `@timestamp` added, ECS or OCSF. */
export function esDocument(item: Forwardable, format: DocumentFormat): Record<string, unknown> {
  if (format === 'vigil') {
    return item.kind === 'event'
      ? { '@timestamp': item.event.timestamp, ...item.event }
      : { '@timestamp': item.alert.created_at, ...item.alert };
  }
  // OCSF's own time is epoch ms in `time`; @timestamp is added so index date math and Kibana work as usual.
  if (item.kind === 'event') {
    const doc = eventDocument(item.event, format);
    return format === 'ocsf' ? { '@timestamp': item.event.timestamp, ...doc } : doc;
  }
  const doc = alertDocument(item.alert, format);
  return format === 'ocsf' ? { '@timestamp': item.alert.created_at, ...doc } : doc;
}

/**
 * The two NDJSON lines of a bulk `create` with `_id` = the item's id: a redelivered item is refused
 * with 409 instead of being stored twice. Ends with the newline _bulk requires.
 */
export function bulkCreateLines(item: Forwardable, f: EsFormat): string {
  const index = indexName(item.kind === 'event' ? f.index : f.alertIndex, item.timeMs);
  return `${JSON.stringify({ create: { _index: index, _id: item.id } })}\n${documentLine(item, f.format)}\n`;
}

/**
 * The document as one line. Vigil's shape is the item's own JSON (shared with the other sinks)
 * with `@timestamp` put first, the text esDocument's object would give: neither schema has a
 * member of that name, which is checked rather than assumed.
 */
function documentLine(item: Forwardable, format: DocumentFormat): string {
  if (format === 'vigil') {
    const own = item.kind === 'event' ? item.event : item.alert;
    const json = documentJson(item);
    if (json.length > 2 && !Object.hasOwn(own, '@timestamp')) {
      const at = item.kind === 'event' ? item.event.timestamp : item.alert.created_at;
      return `{"@timestamp":${JSON.stringify(at)},${json.slice(1)}`;
    }
  }
  return JSON.stringify(esDocument(item, format));
}

// ---------------------------------------------------------------------------------------------
// Answers
// ---------------------------------------------------------------------------------------------

/** `{"error": {"type": ..., "reason": ...}, "status": N}` → "type: reason". */
export function esErrorText(body: unknown): string {
  const err = (body as { error?: unknown } | null)?.error;
  if (typeof err === 'string') return brief(err);
  if (err && typeof err === 'object') {
    const e = err as { type?: unknown; reason?: unknown; caused_by?: { type?: unknown; reason?: unknown } };
    const own = `${String(e.type ?? 'error')}: ${String(e.reason ?? '')}`;
    const cause = e.caused_by ? ` (caused by ${String(e.caused_by.type ?? '')}: ${String(e.caused_by.reason ?? '')})` : '';
    return brief(own + cause, 500);
  }
  return 'no error details';
}

function itemOutcome(entry: unknown): ItemOutcome | null {
  if (entry === null || typeof entry !== 'object') return null;
  const values = Object.values(entry as Record<string, unknown>);
  if (values.length !== 1) return null;
  const r = values[0] as { status?: unknown; error?: unknown } | null;
  if (!r || typeof r !== 'object' || typeof r.status !== 'number') return null;
  const s = r.status;
  if (s >= 200 && s < 300) return { status: 'ok' };
  // create with a fixed _id: 409 means the document is already there (an earlier delivery stored it).
  if (s === 409) return { status: 'ok', duplicate: true };
  const why = `item ${s} ${esErrorText(r)}`;
  if (s === 429 || s >= 500) return { status: 'retry', reason: why };
  return { status: 'reject', reason: why };
}

/**
 * Reads a _bulk answer for `count` items. HTTP 200 is not success by itself: every item carries its
 * own status. 429/5xx items are retried, 409 on create is success, other item errors are refused.
 */
export function classifyBulk(status: number, body: unknown, count: number, retryAfterMs?: number | null): SendOutcome {
  if (status === 200) {
    const items = (body as { items?: unknown } | null)?.items;
    if (!Array.isArray(items) || items.length !== count) {
      return { kind: 'unavailable', reason: `bulk answer has ${Array.isArray(items) ? items.length : 'no'} items for ${count} actions` };
    }
    const out: ItemOutcome[] = [];
    for (const entry of items) {
      const o = itemOutcome(entry);
      if (!o) return { kind: 'unavailable', reason: 'bulk answer has an unreadable item' };
      out.push(o);
    }
    return { kind: 'items', items: out };
  }
  const why = `_bulk ${status}: ${esErrorText(body)}`;
  if (status === 413) return { kind: 'too_large', reason: why };
  if (status === 429 || status >= 500) return { kind: 'unavailable', reason: why, ...(retryAfterMs != null ? { retryAfterMs } : {}) };
  return { kind: 'refused', reason: why };
}
