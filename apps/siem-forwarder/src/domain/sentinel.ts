import type { Alert, SecurityEvent } from '@vigil/contracts';
import type { Forwardable } from './forwardable';
import { brief, type SendOutcome } from './outcome';

/**
 * Column types a data collection rule's stream declaration may use (DCR `streamDeclarations`).
 */
export type StreamColumnType = 'string' | 'int' | 'long' | 'real' | 'boolean' | 'dynamic' | 'datetime';
export interface StreamColumn {
  readonly name: string;
  readonly type: StreamColumnType;
}

/** The stream declaration for events (`Custom-<Table>_CL`); the DCR must declare these columns. */
export const SENTINEL_EVENT_COLUMNS: readonly StreamColumn[] = [
  { name: 'TimeGenerated', type: 'datetime' },
  { name: 'EventId', type: 'string' },
  { name: 'EventType', type: 'string' },
  { name: 'Severity', type: 'string' },
  { name: 'Action', type: 'string' },
  { name: 'Outcome', type: 'string' },
  { name: 'SourceApplication', type: 'string' },
  { name: 'SourceEnvironment', type: 'string' },
  { name: 'SourceIp', type: 'string' },
  { name: 'SourceHostname', type: 'string' },
  { name: 'ActorType', type: 'string' },
  { name: 'ActorUserId', type: 'string' },
  { name: 'ActorUsername', type: 'string' },
  { name: 'ActorIp', type: 'string' },
  { name: 'Target', type: 'dynamic' },
  { name: 'Details', type: 'dynamic' },
  { name: 'Tags', type: 'dynamic' },
  { name: 'CorrelationId', type: 'string' },
  { name: 'ReceivedAt', type: 'datetime' },
  { name: 'Flags', type: 'dynamic' },
];

/** The stream declaration for alerts. */
export const SENTINEL_ALERT_COLUMNS: readonly StreamColumn[] = [
  { name: 'TimeGenerated', type: 'datetime' },
  { name: 'AlertId', type: 'string' },
  { name: 'DedupKey', type: 'string' },
  { name: 'RuleId', type: 'string' },
  { name: 'RuleName', type: 'string' },
  { name: 'RuleKind', type: 'string' },
  { name: 'Severity', type: 'string' },
  { name: 'Group', type: 'dynamic' },
  { name: 'EventCount', type: 'long' },
  { name: 'DistinctCount', type: 'long' },
  { name: 'FirstEventAt', type: 'datetime' },
  { name: 'LastEventAt', type: 'datetime' },
  { name: 'Action', type: 'string' },
  { name: 'Tags', type: 'dynamic' },
  { name: 'SampleEventIds', type: 'dynamic' },
];

function eventRow(e: SecurityEvent): Record<string, unknown> {
  return {
    TimeGenerated: e.timestamp,
    EventId: e.event_id,
    EventType: e.event_type,
    Severity: e.severity,
    Action: e.action,
    Outcome: e.outcome,
    SourceApplication: e.source.application,
    SourceEnvironment: e.source.environment ?? null,
    SourceIp: e.source.ip ?? null,
    SourceHostname: e.source.hostname ?? null,
    ActorType: e.actor?.type ?? null,
    ActorUserId: e.actor?.user_id ?? null,
    ActorUsername: e.actor?.username ?? null,
    ActorIp: e.actor?.ip ?? null,
    Target: e.target ?? null,
    Details: e.details,
    Tags: e.tags,
    CorrelationId: e.correlation_id ?? null,
    ReceivedAt: e.received_at,
    Flags: e.flags ?? [],
  };
}

function alertRow(a: Alert): Record<string, unknown> {
  return {
    TimeGenerated: a.created_at,
    AlertId: a.alert_id,
    DedupKey: a.dedup_key,
    RuleId: a.rule.id,
    RuleName: a.rule.name,
    RuleKind: a.rule.kind,
    Severity: a.severity,
    Group: a.group,
    EventCount: a.event_count,
    DistinctCount: a.distinct_count ?? null,
    FirstEventAt: a.first_event_at,
    LastEventAt: a.last_event_at,
    Action: a.action ?? null,
    Tags: a.tags,
    SampleEventIds: a.sample_events.map((s) => s.event_id),
  };
}

/** One row of the JSON array the Logs Ingestion API takes, matching the stream's columns. */
export function sentinelRow(item: Forwardable): string {
  return JSON.stringify(item.kind === 'event' ? eventRow(item.event) : alertRow(item.alert));
}

/** Azure's error envelope: `{"error": {"code": "...", "message": "..."}}`. */
export function azureErrorText(body: unknown): string {
  const err = (body as { error?: unknown } | null)?.error;
  if (err && typeof err === 'object') {
    const e = err as { code?: unknown; message?: unknown };
    return brief(`${String(e.code ?? 'Error')}: ${String(e.message ?? '')}`, 500);
  }
  return 'no error details';
}

/**
 * Reads an answer of the Logs Ingestion API (POST .../streams/<stream>). 204 is success for the
 * whole request; 413 means split; 429 and 5xx are retried after Retry-After; 400, 403 and 404 are
 * configuration or payload problems that retrying cannot fix. (401 is handled by the client: it
 * renews the token once before calling it refused.)
 */
export function classifyLogsIngestion(status: number, body: unknown, count: number, retryAfterMs?: number | null): SendOutcome {
  if (status === 204 || status === 200) return { kind: 'items', items: Array.from({ length: count }, () => ({ status: 'ok' })) };
  const why = `Logs Ingestion ${status}: ${azureErrorText(body)}`;
  if (status === 413) return { kind: 'too_large', reason: why };
  if (status === 429 || status >= 500) return { kind: 'unavailable', reason: why, ...(retryAfterMs != null ? { retryAfterMs } : {}) };
  return { kind: 'refused', reason: why };
}

export type TokenAnswer = { ok: true; accessToken: string; expiresInS: number } | { ok: false; retriable: boolean; reason: string };

/**
 * Reads a Microsoft identity platform token answer (client-credentials grant).
 * 200: `{token_type: "Bearer", expires_in, access_token}`. 400/401: `{error, error_description}` —
 * a wrong secret, unknown client or bad scope, which retrying cannot fix. 429/5xx: retry.
 */
export function readTokenAnswer(status: number, body: unknown): TokenAnswer {
  const o = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
  if (status === 200) {
    const expires = typeof o.expires_in === 'number' ? o.expires_in : Number(o.expires_in);
    if (typeof o.access_token !== 'string' || o.access_token.length === 0 || !Number.isFinite(expires) || expires <= 0) {
      return { ok: false, retriable: true, reason: 'token answer has no access_token or expires_in' };
    }
    if (typeof o.token_type === 'string' && o.token_type.toLowerCase() !== 'bearer') {
      return { ok: false, retriable: false, reason: `token_type is ${o.token_type}, not Bearer` };
    }
    return { ok: true, accessToken: o.access_token, expiresInS: expires };
  }
  const reason = `token endpoint ${status}: ${String(o.error ?? 'error')}: ${brief(String(o.error_description ?? ''), 300)}`;
  return { ok: false, retriable: status === 429 || status >= 500, reason };
}
