import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { parseRetryAfter, type Logger } from '@vigil/runtime';
import type { BatchLimits } from '../../domain/batching';
import type { Forwardable } from '../../domain/forwardable';
import type { SendOutcome } from '../../domain/outcome';
import { classifyLogsIngestion, sentinelRow } from '../../domain/sentinel';
import type { EncodedRecord, SinkClient } from '../../delivery/sink';
import type { ForwarderMetrics } from '../../delivery/metrics';
import { HttpClient, HttpTransportError, header, jsonBody } from '../../http/client';
import type { SentinelSettings } from './config';
import { TokenProvider } from './token';

const gzipAsync = promisify(gzip);
export const LOGS_INGESTION_API_VERSION = '2023-01-01';

export interface SentinelRecord extends EncodedRecord {
  readonly row: string;
  /** The DCR stream the row belongs to. */
  readonly route: string;
}

/**
 * Microsoft Sentinel through the Azure Monitor Logs Ingestion API:
 * POST {DCE}/dataCollectionRules/{dcr}/streams/{stream}?api-version=2023-01-01 with a JSON array of
 * rows (gzip), a bearer token from the client-credentials flow, and at most 1 MB per call.
 * (Not the retired HTTP Data Collector API.)
 */
export class SentinelClient implements SinkClient<SentinelRecord> {
  readonly name = 'sentinel' as const;
  readonly limits: BatchLimits;
  private readonly dce: HttpClient;
  private readonly authority: HttpClient;
  private readonly tokens: TokenProvider;

  constructor(
    private readonly s: SentinelSettings,
    opts: { maxEvents: number; timeoutMs: number; maxInFlight: number },
    logger: Logger,
    metrics: ForwarderMetrics,
  ) {
    // The body is a JSON array: "[" and "]" once, a comma between rows.
    this.limits = { maxEvents: opts.maxEvents, maxBytes: s.maxBytes, frameBytes: 2, separatorBytes: 1 };
    this.dce = new HttpClient({
      baseUrl: s.dceUrl,
      tls: s.tls,
      timeoutMs: opts.timeoutMs,
      maxResponseBytes: 1024 * 1024,
      maxSockets: opts.maxInFlight + 1,
    });
    this.authority = new HttpClient({
      baseUrl: s.authorityUrl,
      tls: s.tls,
      timeoutMs: opts.timeoutMs,
      maxResponseBytes: 256 * 1024,
      maxSockets: 2,
    });
    this.tokens = new TokenProvider(s, this.authority, logger, metrics);
  }

  encode(item: Forwardable): SentinelRecord {
    const row = sentinelRow(item);
    const route = item.kind === 'event' ? this.s.stream : (this.s.alertStream ?? this.s.stream);
    return { id: item.id, kind: item.kind, row, route, bytes: Buffer.byteLength(row) };
  }

  async send(records: readonly SentinelRecord[], signal: AbortSignal): Promise<SendOutcome> {
    const stream = records[0]!.route;
    const json = Buffer.from(`[${records.map((r) => r.row).join(',')}]`);
    const body = this.s.gzip ? await gzipAsync(json, { level: this.s.gzipLevel }) : json;
    for (let attempt = 1; ; attempt++) {
      const token = await this.tokens.get(signal);
      if (!token.ok) return token.retriable ? { kind: 'unavailable', reason: token.reason } : { kind: 'refused', reason: token.reason };
      let res;
      try {
        res = await this.dce.request({
          method: 'POST',
          path: `/dataCollectionRules/${encodeURIComponent(this.s.dcrId)}/streams/${encodeURIComponent(stream)}?api-version=${LOGS_INGESTION_API_VERSION}`,
          headers: {
            Authorization: `Bearer ${token.token}`,
            'Content-Type': 'application/json',
            ...(this.s.gzip ? { 'Content-Encoding': 'gzip' } : {}),
            'x-ms-client-request-id': randomUUID(),
          },
          body,
          signal,
        });
      } catch (err) {
        return {
          kind: 'unavailable',
          reason: `data collection endpoint unreachable: ${err instanceof HttpTransportError ? err.message : String(err)}`,
        };
      }
      // A 401 with a token we believed valid: it was revoked or expired early. Renew once.
      if (res.status === 401 && attempt === 1) {
        this.tokens.invalidate(token.token);
        continue;
      }
      return classifyLogsIngestion(res.status, jsonBody(res), records.length, parseRetryAfter(header(res, 'retry-after'), Date.now()));
    }
  }

  describe(): Record<string, unknown> {
    return {
      dce: this.s.dceUrl,
      dcr: this.s.dcrId,
      stream: this.s.stream,
      alertStream: this.s.alertStream,
      authority: this.s.authorityUrl,
      tenant: this.s.tenantId,
      clientId: this.s.clientId,
      gzip: this.s.gzip,
      maxBytes: this.s.maxBytes,
    };
  }

  async close(): Promise<void> {
    this.dce.close();
    this.authority.close();
  }
}
