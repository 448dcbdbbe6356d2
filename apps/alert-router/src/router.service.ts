import { topicNames, type TopicNames } from '@vigil/contracts';
import { BatchConsumer, Producer, createKafka, ensureTopics, kafkaSettings, consumerGroup } from '@vigil/kafka';
import { createRedis, redisReady, type Redis } from '@vigil/redis';
import type { Health, Logger, Metrics } from '@vigil/runtime';
import type { RouterConfig } from './config';
import { Deliverer, SERVICE } from './delivery/deliverer';
import { AlertIntake } from './intake';
import { RouterMetrics } from './metrics';
import { RoutingHolder } from './routing/holder';
import { Scheduler } from './scheduler';
import { RouterStore } from './state/store';

export { SERVICE };
export const ROUTER = Symbol('vigil.alert-router');

/**
 * The alert router as one object: the alerts consumer (intake into Redis groups), the scheduler
 * (group timers and deliveries), the channels and the stores. Nest wraps it; tests and the
 * benchmark run several of them side by side.
 */
export class AlertRouterService {
  readonly topics: TopicNames;
  readonly routing: RoutingHolder;
  readonly store: RouterStore;
  readonly metrics: RouterMetrics;
  readonly scheduler: Scheduler;
  readonly deliverer: Deliverer;
  readonly intake: AlertIntake;
  private readonly kafka;
  private readonly producer: Producer;
  private readonly consumer: BatchConsumer;
  private readonly redis: Redis;
  private gaugeTimer: NodeJS.Timeout | null = null;

  constructor(
    readonly config: RouterConfig,
    readonly logger: Logger,
    metrics: Metrics,
    health?: Health,
    readonly clock: () => number = Date.now,
  ) {
    const env = config.env;
    const settings = kafkaSettings(env, 'vigil-alert-router');
    this.kafka = createKafka(settings, logger);
    this.topics = topicNames(settings.namespace);
    this.metrics = new RouterMetrics(metrics);
    // A bad routes file stops start-up here, with the file and path in the message.
    this.routing = new RoutingHolder(env.ROUTER_ROUTES_FILE, config.readSecret, logger, this.metrics.reloads);
    this.redis = createRedis(env, logger, 'vigil-alert-router', process.env, metrics);
    this.store = new RouterStore(this.redis, env.REDIS_KEY_PREFIX, env.ROUTER_NFLOG_TTL_SECONDS * 1000);
    this.producer = new Producer(this.kafka, logger, metrics);
    this.deliverer = new Deliverer(
      this.store,
      this.routing,
      this.producer,
      { notifications: this.topics.notifications, notificationsDlq: this.topics.notificationsDlq },
      {
        maxAttempts: env.ROUTER_MAX_ATTEMPTS,
        maxAgeMs: env.ROUTER_MAX_DELIVERY_AGE_SECONDS * 1000,
        backoff: { initialMs: env.ROUTER_BACKOFF_INITIAL_MS, maxMs: env.ROUTER_BACKOFF_MAX_MS, jitter: 1 },
        circuitFailures: env.ROUTER_CIRCUIT_FAILURES,
        circuitOpenMs: env.ROUTER_CIRCUIT_OPEN_MS,
      },
      this.metrics,
      logger,
      clock,
    );
    this.scheduler = new Scheduler(
      this.store,
      this.routing,
      this.deliverer,
      this.metrics,
      logger,
      {
        pollMs: env.ROUTER_POLL_INTERVAL_MS,
        claimBatch: env.ROUTER_CLAIM_BATCH,
        leaseMs: env.ROUTER_LEASE_MS,
        concurrency: env.ROUTER_DELIVERY_CONCURRENCY,
      },
      clock,
    );
    this.intake = new AlertIntake(
      this.store,
      this.routing,
      this.producer,
      this.topics.alertsDlq,
      { maxBytes: env.ROUTER_MAX_MESSAGE_BYTES, maxDepth: 32 },
      this.metrics,
      logger,
      clock,
    );
    this.consumer = new BatchConsumer(this.kafka, {
      groupId: consumerGroup(env.VIGIL_TOPIC_NAMESPACE, env.ROUTER_GROUP_ID, 'vigil-alert-router'),
      maxWaitTimeMs: env.KAFKA_FETCH_MAX_WAIT_MS,
      minFetchIntervalMs: env.KAFKA_FETCH_MIN_INTERVAL_MS,
      topics: [this.topics.alerts],
      handler: async (messages) => {
        await this.intake.handle(messages);
        this.scheduler.wake(); // recorded: a group due now is flushed now, not at the next poll
      },
      logger,
      metrics,
      partitionsConsumedConcurrently: env.ROUTER_PARTITIONS_CONCURRENTLY,
    });
    health?.register('kafka_producer', () => this.producer.isConnected);
    health?.register('kafka_consumer', () => this.consumer.isReady);
    health?.register('redis', redisReady(this.redis));
    if (config.apiTokens.length === 0) logger.warn('ROUTER_API_TOKENS is not set: the silences API refuses every request');
  }

  get isConsuming(): boolean {
    return this.consumer.isReady;
  }

  async start(): Promise<void> {
    const env = this.config.env;
    if (env.KAFKA_CREATE_TOPICS) {
      await ensureTopics(this.kafka, this.logger, {
        namespace: env.VIGIL_TOPIC_NAMESPACE,
        partitions: env.KAFKA_TOPIC_PARTITIONS,
        replication: env.KAFKA_TOPIC_REPLICATION,
        only: ['alerts', 'alertsDlq', 'notifications', 'notificationsDlq'],
      });
    }
    await this.producer.connect();
    await this.consumer.start();
    this.scheduler.start();
    this.gaugeTimer = setInterval(() => void this.scheduler.observe().catch(() => undefined), 5_000);
    this.gaugeTimer.unref();
    this.logger.info(
      { from: this.topics.alerts, records: this.topics.notifications, routes: this.routing.current.config.version },
      'alert router running',
    );
  }

  /** Re-reads the routes file (SIGHUP); a bad file keeps the old config. */
  reload(): boolean {
    return this.routing.reload();
  }

  /** Stops consuming (committing what is recorded), then the scheduler (finishing deliveries in flight). */
  async stop(): Promise<void> {
    if (this.gaugeTimer) clearInterval(this.gaugeTimer);
    await this.consumer.stop();
    await this.scheduler.stop();
    await this.producer.disconnect();
    await this.routing.close();
    this.redis.disconnect();
    this.logger.info('alert router stopped');
  }
}
