import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { topicNames, type TopicNames } from '@vigil/contracts';
import { BatchConsumer, Producer, createKafka, ensureTopics, kafkaSettings, type ConsumedMessage, consumerGroup } from '@vigil/kafka';
import { createRedis, redisReady, type Redis } from '@vigil/redis';
import { CONFIG, HEALTH, LOGGER, METRICS, type Health, type Logger, type Metrics } from '@vigil/runtime';
import type { CorrelationConfig } from './config';
import { CorrelationEngine } from './engine';
import type { CorrelationMetrics } from './metrics';
import { RedisWindowStore } from './redis/window-store';
import type { RuleRegistry } from './rules/loader';

export const RULES = Symbol('vigil.correlation.rules');
export const CORRELATION_METRICS = Symbol('vigil.correlation.metrics');

/**
 * The Kafka edge of correlation: validated events in, alerts and DLQ records out (one acks=all
 * send), then the firings are marked published, then the batch commits. A crash anywhere before
 * the commit redelivers the batch; the window script re-delivers unpublished firings with the same
 * alert id, and counts nothing twice.
 */
@Injectable()
export class CorrelationPipeline implements OnApplicationBootstrap, OnApplicationShutdown {
  readonly topics: TopicNames;
  readonly redis: Redis;
  readonly store: RedisWindowStore;
  readonly engine: CorrelationEngine;
  private readonly producer: Producer;
  private readonly consumer: BatchConsumer;
  private readonly kafka;

  constructor(
    @Inject(CONFIG) private readonly config: CorrelationConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(METRICS) sharedMetrics: Metrics,
    @Inject(HEALTH) health: Health,
    @Inject(RULES) private readonly rules: RuleRegistry,
    @Inject(CORRELATION_METRICS) private readonly metrics: CorrelationMetrics,
  ) {
    const env = config.env;
    const settings = kafkaSettings(env, 'vigil-correlation', config.raw);
    this.kafka = createKafka(settings, logger);
    this.topics = topicNames(settings.namespace);
    this.redis = createRedis(env, logger, 'vigil-correlation', config.raw, sharedMetrics);
    this.store = new RedisWindowStore(this.redis, env.REDIS_KEY_PREFIX);
    this.engine = new CorrelationEngine(
      () => rules.current,
      this.store,
      {
        topics: this.topics,
        time: { latenessMs: env.CORRELATION_ALLOWED_LATENESS_SECONDS * 1000, maxFutureMs: env.CORRELATION_MAX_FUTURE_SECONDS * 1000 },
        decode: { maxBytes: env.CORRELATION_MAX_MESSAGE_BYTES, maxDepth: env.CORRELATION_MAX_DEPTH },
      },
      this.metrics,
      logger,
    );
    this.producer = new Producer(this.kafka, logger, sharedMetrics);
    this.consumer = new BatchConsumer(this.kafka, {
      groupId: consumerGroup(env.VIGIL_TOPIC_NAMESPACE, env.CORRELATION_GROUP_ID, 'vigil-correlation'),
      maxWaitTimeMs: env.KAFKA_FETCH_MAX_WAIT_MS,
      minFetchIntervalMs: env.KAFKA_FETCH_MIN_INTERVAL_MS,
      topics: [this.topics.events],
      handler: (messages) => this.handle(messages),
      logger,
      metrics: sharedMetrics,
      partitionsConsumedConcurrently: env.CORRELATION_PARTITIONS_CONCURRENTLY,
      pipelineDepth: env.CORRELATION_PIPELINE_DEPTH,
    });
    health.register('kafka_producer', () => this.producer.isConnected);
    health.register('kafka_consumer', () => this.consumer.isReady);
    health.register('redis', redisReady(this.redis));
  }

  async onApplicationBootstrap(): Promise<void> {
    const env = this.config.env;
    if (env.KAFKA_CREATE_TOPICS) {
      await ensureTopics(this.kafka, this.logger, {
        namespace: env.VIGIL_TOPIC_NAMESPACE,
        partitions: env.KAFKA_TOPIC_PARTITIONS,
        replication: env.KAFKA_TOPIC_REPLICATION,
        only: ['events', 'alerts', 'alertsDlq'],
      });
    }
    await this.producer.connect();
    await this.consumer.start();
    this.logger.info(
      { from: this.topics.events, to: this.topics.alerts, dlq: this.topics.alertsDlq, rules: this.rules.current.rules.map((r) => r.id) },
      'correlation running',
    );
  }

  async onApplicationShutdown(): Promise<void> {
    this.rules.stop();
    await this.consumer.stop();
    await this.producer.disconnect();
    this.redis.disconnect();
    this.logger.info('correlation stopped');
  }

  private async handle(messages: ConsumedMessage[]): Promise<void> {
    const before = this.store.roundTrips;
    const out = await this.engine.process(messages, Date.now());
    await this.producer.send(out.messages);
    this.engine.countSent(out);
    await this.store.markPublished(out.published);
    const trips = this.store.roundTrips - before;
    this.metrics.redisRoundTrips.inc(trips);
    this.metrics.redisRoundTripsPerBatch.observe(trips);
  }
}
