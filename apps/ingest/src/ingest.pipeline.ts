import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { topicNames, type DlqErrorKind, type EventFlag, type TopicNames } from '@vigil/contracts';
import {
  BatchConsumer,
  Producer,
  createKafka,
  dlqMessage,
  ensureTopics,
  kafkaSettings,
  type ConsumedMessage,
  type OutMessage,
  consumerGroup,
} from '@vigil/kafka';
import { CONFIG, HEALTH, LOGGER, METRICS, type Health, type Logger, type Metrics } from '@vigil/runtime';

import type { IngestConfig } from './config';
import type { RawItem } from './domain/batch';
import { IngestMetrics } from './metrics';
import { ValidationPool } from './validation/pool';

export const SERVICE = 'ingest';

/** What one batch adds to the pipeline's counters. */
interface Tally {
  accepted: number;
  rejected: DlqErrorKind[];
  flags: EventFlag[];
}

/**
 * The Kafka edge of ingest: raw batch in, one acks=all send of validated events and DLQ records
 * out, then commit. Validation itself is the pure domain function.
 */
@Injectable()
export class IngestPipeline implements OnApplicationBootstrap, OnApplicationShutdown {
  readonly topics: TopicNames;
  private readonly producer: Producer;
  private readonly consumer: BatchConsumer;
  private readonly m: IngestMetrics;
  private readonly kafka;
  private readonly pool: ValidationPool;

  constructor(
    @Inject(CONFIG) private readonly config: IngestConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(METRICS) private readonly metrics: Metrics,
    @Inject(HEALTH) health: Health,
  ) {
    const settings = kafkaSettings(config.env, 'vigil-ingest');
    this.kafka = createKafka(settings, logger);
    this.topics = topicNames(settings.namespace);
    this.producer = new Producer(this.kafka, logger, metrics);
    const env = config.env;
    this.pool = new ValidationPool(
      {
        limits: { maxBytes: env.INGEST_MAX_MESSAGE_BYTES, maxDepth: env.INGEST_MAX_DEPTH },
        futureToleranceMs: env.INGEST_FUTURE_TOLERANCE_SECONDS * 1000,
        integrity: config.integrity,
        keys: config.keys,
      },
      env.INGEST_WORKERS,
      logger,
    );
    this.m = new IngestMetrics(metrics);
    this.consumer = new BatchConsumer(this.kafka, {
      groupId: consumerGroup(config.env.VIGIL_TOPIC_NAMESPACE, config.env.INGEST_GROUP_ID, 'vigil-ingest'),
      maxWaitTimeMs: config.env.KAFKA_FETCH_MAX_WAIT_MS,
      minFetchIntervalMs: config.env.KAFKA_FETCH_MIN_INTERVAL_MS,
      topics: [this.topics.eventsRaw],
      handler: (messages) => this.handle(messages),
      logger,
      metrics,
      partitionsConsumedConcurrently: config.env.INGEST_PARTITIONS_CONCURRENTLY,
      pipelineDepth: config.env.INGEST_PIPELINE_DEPTH,
    });
    health.register('kafka_producer', () => this.producer.isConnected);
    health.register('kafka_consumer', () => this.consumer.isReady);
  }

  async onApplicationBootstrap(): Promise<void> {
    const env = this.config.env;
    if (env.KAFKA_CREATE_TOPICS) {
      await ensureTopics(this.kafka, this.logger, {
        namespace: env.VIGIL_TOPIC_NAMESPACE,
        partitions: env.KAFKA_TOPIC_PARTITIONS,
        replication: env.KAFKA_TOPIC_REPLICATION,
      });
    }
    await this.producer.connect();
    await this.consumer.start();
    this.logger.info(
      {
        from: this.topics.eventsRaw,
        to: this.topics.events,
        dlq: this.topics.eventsDlq,
        integrity: this.config.integrity,
        validation: this.pool.inline ? 'inline' : `${this.pool.size} worker thread(s)`,
      },
      'ingest running',
    );
  }

  async onApplicationShutdown(): Promise<void> {
    await this.consumer.stop();
    await this.producer.disconnect();
    await this.pool.close();
    this.logger.info('ingest stopped');
  }

  /**
   * The whole per-batch work minus Kafka: validated events and DLQ records to send, and what to
   * count once they are sent.
   */
  async transform(messages: readonly ConsumedMessage[], nowMs: number): Promise<{ out: OutMessage[]; tally: Tally }> {
    const items: RawItem[] = messages.map((m) => ({ topic: m.topic, partition: m.partition, offset: m.offset, value: m.value }));
    const results = await this.pool.run(items, nowMs);
    const out: OutMessage[] = new Array(results.length);
    const tally: Tally = { accepted: 0, rejected: [], flags: [] };
    for (let i = 0; i < results.length; i++) {
      const r = results[i]!;
      const m = messages[i]!;
      if (r.ok) {
        tally.accepted++;
        if (r.flags) tally.flags.push(...r.flags);
        out[i] = { topic: this.topics.events, key: r.key, value: r.value };
      } else {
        tally.rejected.push(r.kind);
        this.logger.warn(
          { topic: m.topic, partition: m.partition, offset: m.offset, kind: r.kind, reason: r.reason },
          'event rejected to DLQ',
        );
        out[i] = dlqMessage(this.topics.eventsDlq, SERVICE, m, r);
      }
    }
    return { out, tally };
  }

  private async handle(messages: ConsumedMessage[]): Promise<void> {
    const { out, tally } = await this.transform(messages, Date.now());
    await this.producer.send(out);
    // Counted once sent (acks=all), so a batch retried after a failed send is counted once.
    this.m.accepted.inc(tally.accepted);
    for (const flag of tally.flags) this.m.flagged.inc({ flag });
    for (const kind of tally.rejected) {
      this.m.rejected.inc({ kind });
      this.metrics.deadLettered.inc({ topic: this.topics.eventsDlq, kind });
    }
  }
}
