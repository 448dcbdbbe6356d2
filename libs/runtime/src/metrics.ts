import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The metric families every service shares, under one naming scheme (docs/observability.md):
 * `vigil_<thing>_<unit>` here, `vigil_<service>_<thing>_<unit>` for a service's own families on
 * `registry`. Every series carries `service` (a default label). The consumer-side families also
 * carry `group`, the Kafka consumer group id (set by BatchConsumer): one service may run several
 * groups on one topic (siem-forwarder runs one per sink), and their lag and counts must not mix.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly consumed: Counter<'topic' | 'group'>;
  readonly produced: Counter<'topic'>;
  readonly deadLettered: Counter<'topic' | 'kind'>;
  readonly batchSize: Histogram<'topic' | 'group'>;
  readonly batchSeconds: Histogram<'topic' | 'group'>;
  readonly batchRetries: Counter<'topic' | 'group'>;
  readonly consumerLag: Gauge<'topic' | 'partition' | 'group'>;

  constructor(
    readonly service: string,
    opts: { defaultMetrics?: boolean } = {},
  ) {
    this.registry.setDefaultLabels({ service });
    if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'vigil_process_' });
    const r = [this.registry];
    this.consumed = new Counter({
      name: 'vigil_messages_consumed_total',
      help: 'Messages read from Kafka, by topic and consumer group (counted once per fetch: retries in place are not counted, redeliveries are)',
      labelNames: ['topic', 'group'],
      registers: r,
    });
    this.produced = new Counter({
      name: 'vigil_messages_produced_total',
      help: 'Messages written to Kafka and acknowledged (acks=all), by topic',
      labelNames: ['topic'],
      registers: r,
    });
    this.deadLettered = new Counter({
      name: 'vigil_messages_dead_lettered_total',
      help: 'Messages written to a dead-letter topic, by topic and kind (a DLQ_ERROR_KINDS value)',
      labelNames: ['topic', 'kind'],
      registers: r,
    });
    this.batchSize = new Histogram({
      name: 'vigil_batch_size',
      help: 'Messages per consumed batch, by topic and consumer group',
      labelNames: ['topic', 'group'],
      buckets: [1, 10, 50, 100, 250, 500, 1000, 2500, 5000],
      registers: r,
    });
    this.batchSeconds = new Histogram({
      name: 'vigil_batch_duration_seconds',
      help: 'Time from receiving a batch to committing it, retries included, by topic and consumer group',
      labelNames: ['topic', 'group'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: r,
    });
    this.batchRetries = new Counter({
      name: 'vigil_batch_retries_total',
      help: 'Failed attempts at a batch, each followed by a retry without committing (broker, Redis or sink unavailable), by topic and consumer group',
      labelNames: ['topic', 'group'],
      registers: r,
    });
    this.consumerLag = new Gauge({
      name: 'vigil_consumer_lag',
      help: "Messages on the partition after the last committed batch, as of that batch's fetch, by topic, partition and consumer group",
      labelNames: ['topic', 'partition', 'group'],
      registers: r,
    });
  }

  /** `collect`, when given, runs before every read of the family (a scrape): e.g. to fold in counts kept elsewhere. */
  counter<L extends string>(name: string, help: string, labelNames: readonly L[] = [], collect?: () => void): Counter<L> {
    return new Counter({ name, help, labelNames: labelNames as L[], registers: [this.registry], ...(collect ? { collect } : {}) });
  }

  gauge<L extends string>(name: string, help: string, labelNames: readonly L[] = []): Gauge<L> {
    return new Gauge({ name, help, labelNames: labelNames as L[], registers: [this.registry] });
  }

  histogram<L extends string>(name: string, help: string, buckets: number[], labelNames: readonly L[] = []): Histogram<L> {
    return new Histogram({ name, help, buckets, labelNames: labelNames as L[], registers: [this.registry] });
  }
}
