import type { Counter, Gauge, Histogram, Metrics } from '@vigil/runtime';

/** The forwarder's own metric families (docs/siem-forwarder.md, "Metrics"; docs/observability.md). */
export class ForwarderMetrics {
  readonly delivered: Counter<'sink' | 'record'>;
  readonly duplicates: Counter<'sink'>;
  readonly deadLettered: Counter<'sink' | 'kind'>;
  readonly requests: Counter<'sink' | 'outcome'>;
  readonly requestSeconds: Histogram<'sink'>;
  readonly retried: Counter<'sink'>;
  readonly spilled: Counter<'sink' | 'reason'>;
  readonly flushes: Counter<'sink' | 'reason'>;
  readonly batchEvents: Histogram<'sink'>;
  readonly queued: Gauge<'sink'>;
  readonly circuit: Gauge<'sink'>;
  readonly tokenRequests: Counter<'outcome'>;
  readonly ackPolls: Counter<'outcome'>;
  readonly archiveHeadSeq: Gauge<'stream'>;

  constructor(readonly shared: Metrics) {
    const p = 'vigil_siem_forwarder_';
    this.delivered = shared.counter(`${p}delivered_total`, 'Items acknowledged by a sink, by sink and record (event, alert)', [
      'sink',
      'record',
    ]);
    this.duplicates = shared.counter(
      `${p}duplicates_total`,
      'Items a sink answered it already had (Elasticsearch 409 on create: a redelivery made harmless by id); also in delivered_total',
      ['sink'],
    );
    this.deadLettered = shared.counter(
      `${p}dead_lettered_total`,
      'Items written to a DLQ instead of a sink, by sink and kind (sink_rejected, delivery_exhausted, or why the message could not be read)',
      ['sink', 'kind'],
    );
    this.requests = shared.counter(
      `${p}requests_total`,
      'Sink answers to requests, by outcome (ok, partial, unavailable, refused, too_large)',
      ['sink', 'outcome'],
    );
    this.requestSeconds = shared.histogram(
      `${p}request_duration_seconds`,
      'Time from sending a request to its answer (including indexer acknowledgement)',
      [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      ['sink'],
    );
    this.retried = shared.counter(`${p}items_retried_total`, 'Items queued for another attempt (retry or resend)', ['sink']);
    this.spilled = shared.counter(
      `${p}spilled_total`,
      'Reading shared: items written to the spill topic for their sink to read back, by reason (timeout: not taken within SIEM_SPILL_AFTER_MS; circuit_open; behind: the sink still catching up with earlier spills)',
      ['sink', 'reason'],
    );
    this.flushes = shared.counter(
      `${p}flushes_total`,
      'Requests sent to a sink, by what triggered them (count, bytes, timer, backlog, retry, split)',
      ['sink', 'reason'],
    );
    this.batchEvents = shared.histogram(`${p}batch_items`, 'Items per request', [1, 10, 50, 100, 250, 500, 1000, 2500, 5000], ['sink']);
    this.queued = shared.gauge(`${p}queued_items`, 'Items held for a sink: waiting to be sent, in flight or waiting to retry', ['sink']);
    this.circuit = shared.gauge(`${p}circuit_state`, 'Circuit breaker per sink on this instance: 0 closed, 1 open, 2 half-open', ['sink']);
    this.tokenRequests = shared.counter(
      `${p}token_requests_total`,
      'Microsoft Entra token requests for Sentinel, by outcome (ok, unavailable, refused)',
      ['outcome'],
    );
    this.ackPolls = shared.counter(
      `${p}hec_ack_polls_total`,
      'Splunk HEC indexer-acknowledgement polls, by outcome (ok, unavailable, refused)',
      ['outcome'],
    );
    this.archiveHeadSeq = shared.gauge(`${p}archive_head_seq`, 'Sequence number of the last record on disk, per archive stream', [
      'stream',
    ]);
  }
}
