import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { topicNames, type TopicNames } from '@vigil/contracts';
import { Producer, createKafka, errorMessage, kafkaSettings, type OutMessage } from '@vigil/kafka';
import { CONFIG, HEALTH, LOGGER, METRICS, type Health, type Logger, type Metrics } from '@vigil/runtime';
import type { IngestConfig } from '../config';

const RECONNECT_MS = 2_000;

export class SendTimeout extends Error {
  constructor(ms: number) {
    super(`Kafka did not acknowledge within ${ms} ms`);
    this.name = 'SendTimeout';
  }
}

/**
 * The HTTP endpoints' way onto the raw topic: its own idempotent acks=all producer. It connects in
 * the background (the endpoints answer "busy" until it has), and remembers whether the last send
 * failed, which is what the health endpoint reports.
 */
@Injectable()
export class RawEventProducer implements OnApplicationBootstrap, OnApplicationShutdown {
  readonly topics: TopicNames;
  private readonly producer: Producer;
  private connected = false;
  private lastSendFailed = false;
  private stopping = false;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    @Inject(CONFIG) private readonly config: IngestConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(METRICS) metrics: Metrics,
    @Inject(HEALTH) health: Health,
  ) {
    const settings = kafkaSettings(config.env, 'vigil-ingest-http');
    this.topics = topicNames(settings.namespace);
    this.producer = new Producer(createKafka(settings, logger), logger, metrics);
    health.register('kafka_producer_http', () => this.healthy);
  }

  /** Connected at least once (kafkajs reconnects by itself on the next send after that). */
  get canSend(): boolean {
    return this.connected;
  }

  /** What the health endpoint reports: connected, and the last send did not fail. */
  get healthy(): boolean {
    return this.connected && !this.lastSendFailed;
  }

  onApplicationBootstrap(): void {
    void this.connect();
  }

  private async connect(): Promise<void> {
    if (this.stopping) return;
    try {
      await this.producer.connect();
      this.connected = true;
      this.logger.info({ topic: this.topics.eventsRaw }, 'http ingest producer connected');
    } catch (err) {
      this.logger.warn({ err: errorMessage(err) }, 'http ingest producer cannot reach Kafka; answering busy and retrying');
      this.timer = setTimeout(() => void this.connect(), RECONNECT_MS);
      this.timer.unref();
    }
  }

  /** Resolves once every message is acknowledged by all in-sync replicas; rejects on failure or timeout. */
  async send(messages: readonly OutMessage[]): Promise<void> {
    if (messages.length === 0) return;
    const ms = this.config.http!.sendTimeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new SendTimeout(ms)), ms);
    });
    try {
      await Promise.race([this.producer.send(messages), timeout]);
      this.lastSendFailed = false;
    } catch (err) {
      this.lastSendFailed = true;
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    // Also stops a connect attempt still retrying against an unreachable broker.
    await this.producer.disconnect().catch(() => undefined);
  }
}
