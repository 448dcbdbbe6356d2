import type { Kafka, Producer as KafkaProducer, TopicMessages } from 'kafkajs';
import type { Logger } from 'pino';
import type { Metrics } from '@vigil/runtime';
import { FastDefaultPartitioner } from './partitioner';

export interface OutMessage {
  topic: string;
  key?: string | Buffer | null;
  value: string | Buffer;
  headers?: Record<string, string>;
}

/**
 * An idempotent producer with acks=all. `send` resolves only when every message is acknowledged
 * by all in-sync replicas: the point after which a consumer may commit what caused them.
 */
export class Producer {
  private readonly producer: KafkaProducer;
  private connected = false;

  constructor(
    kafka: Kafka,
    private readonly logger: Logger,
    private readonly metrics?: Metrics,
    opts: { transactionalId?: string } = {},
  ) {
    this.producer = kafka.producer({
      idempotent: true,
      // One in flight keeps kafkajs's idempotent sequence numbers simple and ordering strict;
      // throughput comes from batching many messages per request instead.
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      // kafkajs's DefaultPartitioner's choice, computed without its 64-bit Long arithmetic.
      createPartitioner: FastDefaultPartitioner,
      retry: { initialRetryTime: 200, maxRetryTime: 5_000, retries: 8 },
      ...(opts.transactionalId ? { transactionalId: opts.transactionalId } : {}),
    });
    this.producer.on(this.producer.events.DISCONNECT, () => {
      this.connected = false;
    });
    this.producer.on(this.producer.events.CONNECT, () => {
      this.connected = true;
    });
  }

  get isConnected(): boolean {
    return this.connected;
  }

  async connect(): Promise<void> {
    await this.producer.connect();
    this.connected = true;
  }

  async disconnect(): Promise<void> {
    await this.producer.disconnect();
    this.connected = false;
  }

  /** Sends all messages (any mix of topics) in one request per broker; acks=all. */
  async send(messages: readonly OutMessage[]): Promise<void> {
    if (messages.length === 0) return;
    const byTopic = new Map<string, TopicMessages>();
    for (const m of messages) {
      let tm = byTopic.get(m.topic);
      if (!tm) {
        tm = { topic: m.topic, messages: [] };
        byTopic.set(m.topic, tm);
      }
      tm.messages.push({ key: m.key ?? null, value: m.value, ...(m.headers ? { headers: m.headers } : {}) });
    }
    await this.producer.sendBatch({ acks: -1, topicMessages: [...byTopic.values()] });
    if (this.metrics) for (const tm of byTopic.values()) this.metrics.produced.inc({ topic: tm.topic }, tm.messages.length);
    this.logger.trace({ count: messages.length }, 'produced');
  }
}
