import { SEVERITY_RANK, type Alert, type EventType, type SecurityEvent } from '@vigil/contracts';
import type { Forwardable } from './forwardable';
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
  /** Shape documents as ECS (Elastic Common Schema) instead of Vigil's own field names. */
  readonly ecs: boolean;
}

/** ECS category and type for each event type (ECS 8 allowed values). */
const ECS_CATEGORIZATION: Readonly<Record<EventType, { category: string; type: string }>> = {
  authentication: { category: 'authentication', type: 'info' },
  authorization: { category: 'iam', type: 'info' },
  data_access: { category: 'database', type: 'access' },
  configuration_change: { category: 'configuration', type: 'change' },
  security_alert: { category: 'intrusion_detection', type: 'info' },
  network_event: { category: 'network', type: 'connection' },
  file_operation: { category: 'file', type: 'access' },
  system_event: { category: 'host', type: 'info' },
};

/** ECS event.outcome knows success, failure and unknown only. */
function ecsOutcome(outcome: SecurityEvent['outcome']): 'success' | 'failure' | 'unknown' {
  if (outcome === 'success') return 'success';
  if (outcome === 'unknown') return 'unknown';
  return 'failure';
}

const uniq = (xs: Array<string | undefined>): string[] => [
  ...new Set(xs.filter((x): x is string => typeof x === 'string' && x.length > 0)),
];

/** A SecurityEvent as an ECS document; fields ECS has no place for live under `vigil`. */
export function ecsEvent(e: SecurityEvent): Record<string, unknown> {
  const cat = ECS_CATEGORIZATION[e.event_type];
  const ips = uniq([e.source.ip, e.actor?.ip]);
  const users = uniq([e.actor?.user_id, e.actor?.username]);
  return {
    '@timestamp': e.timestamp,
    message: e.action,
    ecs: { version: '8.11.0' },
    event: {
      id: e.event_id,
      kind: e.event_type === 'security_alert' ? 'alert' : 'event',
      category: [cat.category],
      type: [cat.type],
      action: e.action,
      outcome: ecsOutcome(e.outcome),
      severity: SEVERITY_RANK[e.severity],
      created: e.received_at,
      dataset: 'vigil.security',
      module: 'vigil',
    },
    service: { name: e.source.application, ...(e.source.environment ? { environment: e.source.environment } : {}) },
    ...(e.source.hostname ? { host: { hostname: e.source.hostname, name: e.source.hostname } } : {}),
    ...(e.source.ip ? { source: { ip: e.source.ip } } : {}),
    ...(e.actor?.user_id || e.actor?.username
      ? { user: { ...(e.actor.user_id ? { id: e.actor.user_id } : {}), ...(e.actor.username ? { name: e.actor.username } : {}) } }
      : {}),
    ...(e.actor?.user_agent ? { user_agent: { original: e.actor.user_agent } } : {}),
    ...(ips.length || users.length ? { related: { ...(ips.length ? { ip: ips } : {}), ...(users.length ? { user: users } : {}) } } : {}),
    tags: e.tags,
    vigil: {
      event_type: e.event_type,
      severity: e.severity,
      outcome: e.outcome,
      ...(e.actor ? { actor: e.actor } : {}),
      ...(e.target ? { target: e.target } : {}),
      details: e.details,
      ...(e.correlation_id ? { correlation_id: e.correlation_id } : {}),
      ...(e.flags ? { flags: e.flags } : {}),
      ...(e.integrity ? { integrity_verified: e.integrity.verified } : {}),
    },
  };
}

/** An Alert as an ECS document (event.kind "alert", rule.*). */
export function ecsAlert(a: Alert): Record<string, unknown> {
  return {
    '@timestamp': a.created_at,
    message: a.rule.name,
    ecs: { version: '8.11.0' },
    event: {
      id: a.alert_id,
      kind: 'alert',
      severity: SEVERITY_RANK[a.severity],
      created: a.created_at,
      start: a.first_event_at,
      end: a.last_event_at,
      dataset: 'vigil.alert',
      module: 'vigil',
    },
    rule: { id: a.rule.id, name: a.rule.name, description: a.rule.description, category: a.rule.kind },
    tags: a.tags,
    vigil: {
      severity: a.severity,
      dedup_key: a.dedup_key,
      group: a.group,
      event_count: a.event_count,
      ...(a.distinct_count !== undefined ? { distinct_count: a.distinct_count } : {}),
      ...(a.action ? { action: a.action } : {}),
      sample_event_ids: a.sample_events.map((s) => s.event_id),
    },
  };
}

/** The document body for an item: ECS, or Vigil's own shape with `@timestamp` added. */
export function esDocument(item: Forwardable, ecs: boolean): Record<string, unknown> {
  if (item.kind === 'event') return ecs ? ecsEvent(item.event) : { '@timestamp': item.event.timestamp, ...item.event };
  return ecs ? ecsAlert(item.alert) : { '@timestamp': item.alert.created_at, ...item.alert };
}

/**
 * The two NDJSON lines of a bulk `create` with `_id` = the item's id: a redelivered item is refused
 * with 409 instead of being stored twice. Ends with the newline _bulk requires.
 */
export function bulkCreateLines(item: Forwardable, f: EsFormat): string {
  const index = indexName(item.kind === 'event' ? f.index : f.alertIndex, item.timeMs);
  return `${JSON.stringify({ create: { _index: index, _id: item.id } })}\n${JSON.stringify(esDocument(item, f.ecs))}\n`;
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
