import { parseRetryAfter, type Logger } from '@vigil/runtime';
import type { Forwardable } from '../../domain/forwardable';
import { allOk, type SendOutcome } from '../../domain/outcome';
import { classifyHec, hecEvent, parseAckAnswer, parseHecAnswer } from '../../domain/splunk';
import type { BatchLimits } from '../../domain/batching';
import type { EncodedRecord, SinkClient } from '../../delivery/sink';
import type { ForwarderMetrics } from '../../delivery/metrics';
import { HttpClient, HttpTransportError, header } from '../../http/client';
import type { SplunkSettings } from './config';

export interface SplunkRecord extends EncodedRecord {
  readonly json: string;
}

const EVENT_PATH = '/services/collector/event';
const ACK_PATH = '/services/collector/ack';

type AckWait = { resolve: (r: 'acked' | 'timeout' | 'aborted') => void; deadline: number };

/**
 * Asks HEC which ack ids are indexed, all pending ids of the channel in one request per poll
 * interval (as Splunk recommends), and wakes each sender when its id comes back true.
 */
class AckPoller {
  private readonly waits = new Map<number, AckWait>();
  private timer: NodeJS.Timeout | null = null;
  private polling = false;
  private closed = false;

  constructor(
    private readonly http: HttpClient,
    private readonly s: SplunkSettings,
    private readonly logger: Logger,
    private readonly metrics: ForwarderMetrics,
  ) {}

  wait(ackId: number, signal: AbortSignal): Promise<'acked' | 'timeout' | 'aborted'> {
    return new Promise((resolve) => {
      const onAbort = () => {
        this.waits.delete(ackId);
        resolve('aborted');
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      this.waits.set(ackId, {
        deadline: Date.now() + this.s.ackTimeoutMs,
        resolve: (r) => {
          signal.removeEventListener('abort', onAbort);
          resolve(r);
        },
      });
      this.schedule();
    });
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    for (const w of this.waits.values()) w.resolve('aborted');
    this.waits.clear();
  }

  private schedule(): void {
    if (this.timer || this.polling || this.closed || this.waits.size === 0) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.poll();
    }, this.s.ackPollMs);
  }

  private async poll(): Promise<void> {
    this.polling = true;
    try {
      const now = Date.now();
      for (const [id, w] of this.waits) {
        if (w.deadline <= now) {
          this.waits.delete(id);
          w.resolve('timeout');
        }
      }
      const ids = [...this.waits.keys()];
      if (ids.length === 0) return;
      let res;
      try {
        res = await this.http.request({
          method: 'POST',
          path: ACK_PATH,
          headers: this.headers(),
          body: JSON.stringify({ acks: ids }),
        });
      } catch (err) {
        this.metrics.ackPolls.inc({ outcome: 'unavailable' });
        this.logger.warn({ sink: 'splunk', err: (err as Error).message }, 'HEC ack poll failed; polling again');
        return;
      }
      const answer = parseAckAnswer(res.status, res.body);
      if (!answer.ok) {
        this.metrics.ackPolls.inc({ outcome: answer.retriable ? 'unavailable' : 'refused' });
        this.logger.warn({ sink: 'splunk', reason: answer.reason }, 'HEC ack poll refused');
        return;
      }
      this.metrics.ackPolls.inc({ outcome: 'ok' });
      for (const id of answer.acked) {
        const w = this.waits.get(id);
        if (!w) continue;
        this.waits.delete(id);
        w.resolve('acked');
      }
    } finally {
      this.polling = false;
      this.schedule();
    }
  }

  headers(): Record<string, string> {
    return { Authorization: `Splunk ${this.s.token}`, 'Content-Type': 'application/json', 'X-Splunk-Request-Channel': this.s.channel };
  }
}

/**
 * Splunk HTTP Event Collector: events concatenated in one POST /services/collector/event body,
 * `Authorization: Splunk <token>`, the channel header on every request. With indexer
 * acknowledgement on, a request counts as delivered only once its ackId is reported indexed.
 */
export class SplunkClient implements SinkClient<SplunkRecord> {
  readonly name = 'splunk' as const;
  readonly limits: BatchLimits;
  private readonly http: HttpClient;
  private readonly acks: AckPoller;

  constructor(
    private readonly s: SplunkSettings,
    opts: { maxEvents: number; timeoutMs: number; maxInFlight: number },
    logger: Logger,
    metrics: ForwarderMetrics,
  ) {
    this.limits = { maxEvents: opts.maxEvents, maxBytes: s.maxBytes, frameBytes: 0, separatorBytes: 1 };
    this.http = new HttpClient({
      baseUrl: s.url,
      tls: s.tls,
      timeoutMs: opts.timeoutMs,
      maxResponseBytes: 1024 * 1024,
      maxSockets: opts.maxInFlight + 1,
    });
    this.acks = new AckPoller(this.http, s, logger, metrics);
  }

  encode(item: Forwardable): SplunkRecord {
    const json = hecEvent(item, this.s.format);
    return { id: item.id, kind: item.kind, json, bytes: Buffer.byteLength(json) };
  }

  async send(records: readonly SplunkRecord[], signal: AbortSignal): Promise<SendOutcome> {
    let res;
    try {
      res = await this.http.request({
        method: 'POST',
        path: EVENT_PATH,
        headers: this.acks.headers(),
        body: records.map((r) => r.json).join('\n'),
        signal,
      });
    } catch (err) {
      return { kind: 'unavailable', reason: `HEC unreachable: ${err instanceof HttpTransportError ? err.message : String(err)}` };
    }
    const verdict = classifyHec(
      res.status,
      parseHecAnswer(res.body),
      records.length,
      this.s.ack,
      parseRetryAfter(header(res, 'retry-after'), Date.now()),
    );
    if (verdict.kind !== 'await_ack') return verdict;
    const acked = await this.acks.wait(verdict.ackId, signal);
    if (acked === 'acked') return allOk(records.length);
    return {
      kind: 'unavailable',
      reason:
        acked === 'timeout'
          ? `no indexer acknowledgement for ackId ${verdict.ackId} within ${this.s.ackTimeoutMs} ms`
          : 'aborted while waiting for the indexer acknowledgement',
    };
  }

  describe(): Record<string, unknown> {
    return {
      url: this.s.url,
      ack: this.s.ack,
      channel: this.s.channel,
      index: this.s.format.index ?? '(token default)',
      maxBytes: this.s.maxBytes,
    };
  }

  async close(): Promise<void> {
    this.acks.close();
    this.http.close();
  }
}
