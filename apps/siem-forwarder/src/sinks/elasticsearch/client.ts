import { parseRetryAfter } from '@vigil/runtime';
import type { BatchLimits } from '../../domain/batching';
import { bulkCreateLines, classifyBulk } from '../../domain/elasticsearch';
import type { Forwardable } from '../../domain/forwardable';
import type { SendOutcome } from '../../domain/outcome';
import type { EncodedRecord, SinkClient } from '../../delivery/sink';
import { HttpClient, HttpTransportError, header, jsonBody } from '../../http/client';
import type { ElasticsearchSettings } from './config';

export interface BulkRecord extends EncodedRecord {
  /** The action line and the document line, each ending in a newline. */
  readonly lines: string;
}

/**
 * Elasticsearch / OpenSearch `_bulk`: one NDJSON `create` per item with `_id` = the item's id, so a
 * resend never stores a document twice. The answer is read item by item.
 */
export class ElasticsearchClient implements SinkClient<BulkRecord> {
  readonly name = 'elasticsearch' as const;
  readonly limits: BatchLimits;
  private readonly http: HttpClient;

  constructor(
    private readonly s: ElasticsearchSettings,
    opts: { maxEvents: number; timeoutMs: number; maxInFlight: number },
  ) {
    this.limits = { maxEvents: opts.maxEvents, maxBytes: s.maxBytes, frameBytes: 0, separatorBytes: 0 };
    // A bulk answer has an entry per item (a few hundred bytes each, more with errors).
    const maxResponseBytes = Math.max(4 * 1024 * 1024, opts.maxEvents * 4096);
    this.http = new HttpClient({
      baseUrl: s.url,
      tls: s.tls,
      timeoutMs: opts.timeoutMs,
      maxResponseBytes,
      maxSockets: opts.maxInFlight + 1,
    });
  }

  encode(item: Forwardable): BulkRecord {
    const lines = bulkCreateLines(item, this.s.format);
    return { id: item.id, kind: item.kind, lines, bytes: Buffer.byteLength(lines) };
  }

  async send(records: readonly BulkRecord[], signal: AbortSignal): Promise<SendOutcome> {
    let res;
    try {
      res = await this.http.request({
        method: 'POST',
        path: '/_bulk',
        headers: { Authorization: this.s.authorization, 'Content-Type': 'application/x-ndjson', Accept: 'application/json' },
        body: records.map((r) => r.lines).join(''),
        signal,
      });
    } catch (err) {
      return { kind: 'unavailable', reason: `Elasticsearch unreachable: ${err instanceof HttpTransportError ? err.message : String(err)}` };
    }
    return classifyBulk(res.status, jsonBody(res), records.length, parseRetryAfter(header(res, 'retry-after'), Date.now()));
  }

  describe(): Record<string, unknown> {
    return { url: this.s.url, auth: this.s.authKind, format: this.s.format.format, maxBytes: this.s.maxBytes };
  }

  async close(): Promise<void> {
    this.http.close();
  }
}
