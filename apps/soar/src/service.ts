import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { topicNames, type TopicNames } from '@vigil/contracts';
import { BatchConsumer, Producer, createKafka, ensureTopics, kafkaSettings, consumerGroup } from '@vigil/kafka';
import { createRedis, redisReady, type Redis } from '@vigil/redis';
import { CONFIG, HEALTH, LOGGER, METRICS, type Health, type Logger, type Metrics } from '@vigil/runtime';
import { AuditPublisher } from './audit';
import type { SoarConfig } from './config';
import { buildConnectors } from './connectors';
import type { Playbook } from './domain/playbook';
import { SoarMetrics } from './metrics';
import { Runner } from './runner';
import { AlertIntake, SERVICE } from './soar.pipeline';
import { SoarStore } from './store/store';

/**
 * Wires soar together: Kafka intake, Redis store, connectors, runner. Everything the HTTP API needs
 * is reachable from here.
 */
@Injectable()
export class SoarService implements OnApplicationBootstrap, OnApplicationShutdown {
  readonly topics: TopicNames;
  readonly store: SoarStore;
  readonly runner: Runner;
  readonly soarMetrics: SoarMetrics;
  readonly playbooks: Playbook[];
  readonly redis: Redis;
  readonly audit: AuditPublisher;
  private readonly producer: Producer;
  private readonly consumer: BatchConsumer;
  private readonly kafka;

  constructor(
    @Inject(CONFIG) readonly config: SoarConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(METRICS) readonly metrics: Metrics,
    @Inject(HEALTH) health: Health,
  ) {
    const env = config.env;
    const settings = kafkaSettings(env, 'vigil-soar');
    this.kafka = createKafka(settings, logger);
    this.topics = topicNames(settings.namespace);
    this.producer = new Producer(this.kafka, logger, metrics);
    this.redis = createRedis(env, logger, 'vigil-soar', process.env, metrics);
    this.soarMetrics = new SoarMetrics(metrics);
    this.store = new SoarStore(this.redis, {
      prefix: env.REDIS_KEY_PREFIX,
      runRetentionMs: env.SOAR_RUN_RETENTION_SECONDS * 1000,
      idempotencyTtlMs: env.SOAR_IDEMPOTENCY_TTL_SECONDS * 1000,
      offenderWindowMs: env.SOAR_OFFENDER_WINDOW_SECONDS * 1000,
    });
    const connectors = buildConnectors(config, this.redis, this.producer, this.topics.alerts);
    this.playbooks = config.playbooks;
    this.audit = new AuditPublisher(this.producer, this.topics.responses);
    this.runner = new Runner(this.store, connectors, this.audit, this.soarMetrics, logger, {
      concurrency: env.SOAR_RUNNER_CONCURRENCY,
      pollMs: env.SOAR_POLL_MS,
      leaseMs: env.SOAR_LEASE_MS,
      retry: { maxAttempts: env.SOAR_STEP_MAX_ATTEMPTS, baseDelayMs: env.SOAR_RETRY_BASE_MS, maxDelayMs: env.SOAR_RETRY_MAX_MS },
    });
    const intake = new AlertIntake(
      config,
      this.topics,
      this.playbooks,
      this.store,
      this.producer,
      this.runner,
      metrics,
      this.soarMetrics,
      logger,
    );
    this.consumer = new BatchConsumer(this.kafka, {
      groupId: consumerGroup(env.VIGIL_TOPIC_NAMESPACE, env.SOAR_GROUP_ID, 'vigil-soar'),
      maxWaitTimeMs: env.KAFKA_FETCH_MAX_WAIT_MS,
      minFetchIntervalMs: env.KAFKA_FETCH_MIN_INTERVAL_MS,
      topics: [this.topics.alerts],
      handler: (messages) => intake.handle(messages),
      logger,
      metrics,
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
        only: ['alerts', 'alertsDlq', 'responses'],
      });
    }
    await this.producer.connect();
    this.runner.start();
    await this.consumer.start();
    this.logger.info(
      {
        service: SERVICE,
        from: this.topics.alerts,
        audit: this.topics.responses,
        playbooks: this.playbooks.map((p) => p.id),
        dryRun: env.SOAR_DRY_RUN,
      },
      'soar running',
    );
  }

  async onApplicationShutdown(): Promise<void> {
    await this.consumer.stop();
    await this.runner.stop();
    await this.producer.disconnect();
    await this.redis.quit().catch(() => undefined);
    this.logger.info('soar stopped');
  }
}
