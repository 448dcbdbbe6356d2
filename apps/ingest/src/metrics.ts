import type { Counter, Metrics } from '@vigil/runtime';

/** The Kafka pipeline's own families (docs/ingest.md, docs/observability.md). */
export class IngestMetrics {
  readonly accepted: Counter<string>;
  readonly rejected: Counter<'kind'>;
  readonly flagged: Counter<'flag'>;

  constructor(m: Metrics) {
    this.accepted = m.counter(
      'vigil_ingest_events_accepted_total',
      'Events validated, normalised and published to the events topic (acks=all)',
    );
    this.rejected = m.counter('vigil_ingest_events_rejected_total', 'Events written to the events DLQ, by kind (a DLQ_ERROR_KINDS value)', [
      'kind',
    ]);
    this.flagged = m.counter('vigil_ingest_events_flagged_total', 'Events accepted with a flag (future_timestamp), by flag', ['flag']);
  }
}

/** The HTTP ingest's families (docs/hec-ingest.md), registered only when HTTP ingest is on. */
export class HttpIngestMetrics {
  readonly requests: Counter<'endpoint' | 'code'>;
  readonly refused: Counter<'endpoint' | 'reason'>;
  readonly events: Counter<'endpoint' | 'outcome'>;

  constructor(m: Metrics) {
    this.requests = m.counter('vigil_ingest_http_requests_total', 'HTTP ingest requests answered, by endpoint and HTTP status code', [
      'endpoint',
      'code',
    ]);
    this.refused = m.counter(
      'vigil_ingest_http_refused_total',
      'HTTP ingest requests or events refused, by endpoint and reason: a HEC answer name (invalidToken, invalidDataFormat, ...) or too_large, too_many_events, no_data, bad_encoding, invalid_utf8, server_busy, aborted, invalid_event',
      ['endpoint', 'reason'],
    );
    this.events = m.counter(
      'vigil_ingest_http_events_total',
      'Events received over HTTP, by endpoint and outcome: accepted (on the raw topic, acks=all) or refused',
      ['endpoint', 'outcome'],
    );
  }
}
