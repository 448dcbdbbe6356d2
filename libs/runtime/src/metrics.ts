import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The metric families every service shares, under one naming scheme (docs/observability.md).
 * Services register their own families on `registry` with the `vigil_<service>_` prefix.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly consumed: Counter<'topic'>;
  readonly produced: Counter<'topic'>;
  readonly deadLettered: Counter<'topic' | 'kind'>;
  readonly batchSize: Histogram<'topic'>;
  readonly batchSeconds: Histogram<'topic'>;
  readonly batchRetries: Counter<'topic'>;
  readonly consumerLag: Gauge<'topic' | 'partition'>;

  constructor(
    readonly service: string,
    opts: { defaultMetrics?: boolean } = {},
  ) {
    this.registry.setDefaultLabels({ service });
    if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'vigil_process_' });
    const r = [this.registry];
    this.consumed = new Counter({
      name: 'vigil_messages_consumed_total',
      help: 'Messages read from Kafka',
      labelNames: ['topic'],
      registers: r,
    });
    this.produced = new Counter({
      name: 'vigil_messages_produced_total',
      help: 'Messages written to Kafka and acknowledged',
      labelNames: ['topic'],
      registers: r,
    });
    this.deadLettered = new Counter({
      name: 'vigil_messages_dead_lettered_total',
      help: 'Messages sent to a dead-letter topic, by reason',
      labelNames: ['topic', 'kind'],
      registers: r,
    });
    this.batchSize = new Histogram({
      name: 'vigil_batch_size',
      help: 'Messages per consumed batch',
      labelNames: ['topic'],
      buckets: [1, 10, 50, 100, 250, 500, 1000, 2500, 5000],
      registers: r,
    });
    this.batchSeconds = new Histogram({
      name: 'vigil_batch_duration_seconds',
      help: 'Time to process a batch, from fetch to commit',
      labelNames: ['topic'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: r,
    });
    this.batchRetries = new Counter({
      name: 'vigil_batch_retries_total',
      help: 'Batches retried after a retriable failure (broker, Redis or sink unavailable)',
      labelNames: ['topic'],
      registers: r,
    });
    this.consumerLag = new Gauge({
      name: 'vigil_consumer_lag',
      help: 'Messages between the last consumed offset and the partition high watermark',
      labelNames: ['topic', 'partition'],
      registers: r,
    });
  }

  counter<L extends string>(name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
    return new Counter({ name, help, labelNames: labelNames as L[], registers: [this.registry] });
  }

  gauge<L extends string>(name: string, help: string, labelNames: readonly L[] = []): Gauge<L> {
    return new Gauge({ name, help, labelNames: labelNames as L[], registers: [this.registry] });
  }

  histogram<L extends string>(name: string, help: string, buckets: number[], labelNames: readonly L[] = []): Histogram<L> {
    return new Histogram({ name, help, buckets, labelNames: labelNames as L[], registers: [this.registry] });
  }
}
