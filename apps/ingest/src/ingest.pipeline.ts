import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { topicNames, uuidV5, type TopicNames } from '@vigil/contracts';
import {
  BatchConsumer,
  Producer,
  createKafka,
  dlqMessage,
  ensureTopics,
  kafkaSettings,
  type ConsumedMessage,
  type OutMessage,
} from '@vigil/kafka';
import { CONFIG, HEALTH, LOGGER, METRICS, type Counter, type Health, type Logger, type Metrics } from '@vigil/runtime';

import type { IngestConfig } from './config';
import { validateRawEvent, type ValidateOptions } from './domain/validate';

export const SERVICE = 'ingest';

/**
 * The Kafka edge of ingest: raw batch in, one acks=all send of validated events and DLQ records
 * out, then commit. Validation itself is the pure domain function.
 */
@Injectable()
export class IngestPipeline implements OnApplicationBootstrap, OnApplicationShutdown {
  readonly topics: TopicNames;
  private readonly producer: Producer;
  private readonly consumer: BatchConsumer;
  private readonly accepted: Counter<string>;
  private readonly rejected: Counter<'kind'>;
  private readonly flagged: Counter<'flag'>;
  private readonly kafka;

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
    this.accepted = metrics.counter('vigil_ingest_events_accepted_total', 'Events validated and published');
    this.rejected = metrics.counter('vigil_ingest_events_rejected_total', 'Events dead-lettered, by reason', ['kind']);
    this.flagged = metrics.counter('vigil_ingest_events_flagged_total', 'Events accepted with a flag', ['flag']);
    this.consumer = new BatchConsumer(this.kafka, {
      groupId: config.env.INGEST_GROUP_ID,
      topics: [this.topics.eventsRaw],
      handler: (messages) => this.handle(messages),
      logger,
      metrics,
      partitionsConsumedConcurrently: config.env.INGEST_PARTITIONS_CONCURRENTLY,
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
      { from: this.topics.eventsRaw, to: this.topics.events, dlq: this.topics.eventsDlq, integrity: this.config.integrity },
      'ingest running',
    );
  }

  async onApplicationShutdown(): Promise<void> {
    await this.consumer.stop();
    await this.producer.disconnect();
    this.logger.info('ingest stopped');
  }

  /** Exposed for the benchmark and tests: the whole per-batch work, minus Kafka. */
  transform(messages: readonly ConsumedMessage[], nowMs: number): OutMessage[] {
    const env = this.config.env;
    const out: OutMessage[] = [];
    let current: ConsumedMessage | undefined;
    const opts: ValidateOptions = {
      limits: { maxBytes: env.INGEST_MAX_MESSAGE_BYTES, maxDepth: env.INGEST_MAX_DEPTH },
      nowMs,
      receivedAt: new Date(nowMs).toISOString(),
      futureToleranceMs: env.INGEST_FUTURE_TOLERANCE_SECONDS * 1000,
      // Same raw position, same id: a redelivered event without event_id is still one event.
      fallbackEventId: () => uuidV5(`raw:${current!.topic}/${current!.partition}/${current!.offset}`),
      integrity: this.config.integrity,
      keys: this.config.keys,
    };
    for (const m of messages) {
      current = m;
      const r = validateRawEvent(m.value, opts);
      if (r.ok) {
        this.accepted.inc();
        if (r.event.flags) for (const f of r.event.flags) this.flagged.inc({ flag: f });
        out.push({ topic: this.topics.events, key: r.key, value: JSON.stringify(r.event) });
      } else {
        this.rejected.inc({ kind: r.kind });
        this.metrics.deadLettered.inc({ topic: this.topics.eventsDlq, kind: r.kind });
        this.logger.warn(
          { topic: m.topic, partition: m.partition, offset: m.offset, kind: r.kind, reason: r.reason },
          'event rejected to DLQ',
        );
        out.push(dlqMessage(this.topics.eventsDlq, SERVICE, m, r));
      }
    }
    return out;
  }

  private async handle(messages: ConsumedMessage[]): Promise<void> {
    await this.producer.send(this.transform(messages, Date.now()));
  }
}
