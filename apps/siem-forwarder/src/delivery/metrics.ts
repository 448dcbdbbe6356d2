import type { Counter, Gauge, Histogram, Metrics } from '@vigil/runtime';

/** The forwarder's own metric families (docs/siem-forwarder.md, "Metrics"). */
export class ForwarderMetrics {
  readonly delivered: Counter<'sink' | 'kind'>;
  readonly duplicates: Counter<'sink'>;
  readonly deadLettered: Counter<'sink' | 'reason'>;
  readonly requests: Counter<'sink' | 'outcome'>;
  readonly requestSeconds: Histogram<'sink'>;
  readonly retried: Counter<'sink'>;
  readonly flushes: Counter<'sink' | 'reason'>;
  readonly batchEvents: Histogram<'sink'>;
  readonly queued: Gauge<'sink'>;
  readonly circuit: Gauge<'sink'>;
  readonly tokenRequests: Counter<'outcome'>;
  readonly ackPolls: Counter<'outcome'>;

  constructor(readonly shared: Metrics) {
    const p = 'vigil_siem_forwarder_';
    this.delivered = shared.counter(`${p}delivered_total`, 'Items acknowledged by a sink', ['sink', 'kind']);
    this.duplicates = shared.counter(`${p}duplicates_total`, 'Items a sink already had (redeliveries made harmless by id)', ['sink']);
    this.deadLettered = shared.counter(`${p}dead_lettered_total`, 'Items sent to a DLQ instead of a sink, by reason', ['sink', 'reason']);
    this.requests = shared.counter(`${p}requests_total`, 'Requests to sinks, by outcome', ['sink', 'outcome']);
    this.requestSeconds = shared.histogram(
      `${p}request_duration_seconds`,
      'Time from sending a request to its answer (including indexer acknowledgement)',
      [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      ['sink'],
    );
    this.retried = shared.counter(`${p}items_retried_total`, 'Items queued for another attempt', ['sink']);
    this.flushes = shared.counter(`${p}flushes_total`, 'Batches sent, by what triggered them', ['sink', 'reason']);
    this.batchEvents = shared.histogram(`${p}batch_items`, 'Items per request', [1, 10, 50, 100, 250, 500, 1000, 2500, 5000], ['sink']);
    this.queued = shared.gauge(`${p}queued_items`, 'Items held for a sink: waiting to be sent, in flight or waiting to retry', ['sink']);
    this.circuit = shared.gauge(`${p}circuit_state`, 'Circuit breaker per sink: 0 closed, 1 half-open, 2 open', ['sink']);
    this.tokenRequests = shared.counter(`${p}token_requests_total`, 'OAuth2 token requests for Sentinel, by outcome', ['outcome']);
    this.ackPolls = shared.counter(`${p}hec_ack_polls_total`, 'Splunk HEC indexer-acknowledgement polls, by outcome', ['outcome']);
  }
}
