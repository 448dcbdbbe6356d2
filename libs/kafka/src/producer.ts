import type { Kafka, Producer as KafkaProducer, TopicMessages } from 'kafkajs';
import type { Logger } from 'pino';
import type { Metrics } from '@vigil/runtime';
import { errorMessage } from './errors';
import { FastDefaultPartitioner } from './partitioner';

export interface OutMessage {
  topic: string;
  key?: string | Buffer | null;
  value: string | Buffer;
  headers?: Record<string, string>;
}

/** Largest sum of value bytes merged into one request from several sends (one send may exceed it alone). */
export const MAX_MERGED_BYTES = 512 * 1024;

interface Pending {
  messages: readonly OutMessage[];
  bytes: number;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * An idempotent producer with acks=all. `send` resolves only when every message is acknowledged
 * by all in-sync replicas: the point after which a consumer may commit what caused them.
 *
 * One request is in flight at a time (ordering and kafkajs's idempotent sequence numbers), and
 * sends that arrive meanwhile wait for it. They then go together, in arrival order, as one request
 * (up to MAX_MERGED_BYTES of values): a pipelined consumer's batches, or a service's several
 * consumers, no longer cost one produce request each. Nothing waits for company: an idle
 * producer sends at once. If a merged request fails, each of its sends is tried again on its own,
 * so that a message the broker refuses (too large, say) fails its own send and not its
 * neighbours'; a partition the merged attempt did write may then hold those messages twice
 * (at-least-once, as any retry). After any failed send the next goes through a new kafkajs
 * producer (renew).
 */
export class Producer {
  private producer: KafkaProducer;
  private connected = false;
  /** A send failed: the next one goes through a fresh kafkajs producer (see renew). */
  private stale = false;
  private readonly queue: Pending[] = [];
  private draining = false;

  constructor(
    private readonly kafka: Kafka,
    private readonly logger: Logger,
    private readonly metrics?: Metrics,
  ) {
    this.producer = this.create();
  }

  private create(): KafkaProducer {
    const p = this.kafka.producer({
      idempotent: true,
      // One in flight keeps kafkajs's idempotent sequence numbers simple and ordering strict;
      // throughput comes from batching many messages per request instead.
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      // kafkajs's DefaultPartitioner's choice, computed without its 64-bit Long arithmetic.
      createPartitioner: FastDefaultPartitioner,
      retry: { initialRetryTime: 200, maxRetryTime: 5_000, retries: 8 },
    });
    p.on(p.events.DISCONNECT, () => {
      if (p === this.producer) this.connected = false;
    });
    p.on(p.events.CONNECT, () => {
      if (p === this.producer) this.connected = true;
    });
    return p;
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

  /**
   * After a failed send, a new kafkajs producer (a new producer id, sequence numbers from zero).
   * When one partition of a request fails, kafkajs rejects the whole send without recording the
   * sequence numbers the other partitions' writes used, and every later send to those partitions
   * is refused with OUT_OF_ORDER_SEQUENCE_NUMBER, for the life of the producer (seen against
   * Kafka 4.1: a refused record next to a good one wedged the good partition). Messages a retry
   * sends again are then not recognised as duplicates by the broker: at-least-once, as documented.
   */
  private async renew(): Promise<void> {
    const old = this.producer;
    const fresh = this.create();
    await fresh.connect();
    this.producer = fresh;
    this.connected = true;
    this.stale = false;
    await old.disconnect().catch(() => undefined);
    this.logger.info('producer renewed after a failed send');
  }

  /** Sends all messages (any mix of topics), acks=all; see the class comment for merging. */
  send(messages: readonly OutMessage[]): Promise<void> {
    if (messages.length === 0) return Promise.resolve();
    let bytes = 0;
    for (const m of messages) bytes += typeof m.value === 'string' ? Buffer.byteLength(m.value) : m.value.byteLength;
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ messages, bytes, resolve, reject });
      if (!this.draining) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.queue.length > 0) {
        const group = [this.queue.shift()!];
        let bytes = group[0]!.bytes;
        while (this.queue.length > 0 && bytes + this.queue[0]!.bytes <= MAX_MERGED_BYTES) {
          const next = this.queue.shift()!;
          bytes += next.bytes;
          group.push(next);
        }
        await this.sendGroup(group);
      }
    } finally {
      this.draining = false;
    }
  }

  private async sendGroup(group: Pending[]): Promise<void> {
    if (group.length > 1) {
      try {
        await this.sendNow(group.flatMap((p) => p.messages));
        for (const p of group) p.resolve();
        return;
      } catch (err) {
        this.logger.debug({ sends: group.length, err: errorMessage(err) }, 'merged produce failed; each send alone');
      }
    }
    for (const p of group) {
      try {
        await this.sendNow(p.messages);
        p.resolve();
      } catch (err) {
        p.reject(err);
      }
    }
  }

  /** One request per broker for all messages. */
  private async sendNow(messages: readonly OutMessage[]): Promise<void> {
    if (this.stale) await this.renew();
    const byTopic = new Map<string, TopicMessages>();
    for (const m of messages) {
      let tm = byTopic.get(m.topic);
      if (!tm) {
        tm = { topic: m.topic, messages: [] };
        byTopic.set(m.topic, tm);
      }
      tm.messages.push({ key: m.key ?? null, value: m.value, ...(m.headers ? { headers: m.headers } : {}) });
    }
    try {
      await this.producer.sendBatch({ acks: -1, topicMessages: [...byTopic.values()] });
    } catch (err) {
      this.stale = true;
      throw err;
    }
    if (this.metrics) for (const tm of byTopic.values()) this.metrics.produced.inc({ topic: tm.topic }, tm.messages.length);
    this.logger.trace({ count: messages.length }, 'produced');
  }
}
