import { randomBytes } from 'node:crypto';
import { Kafka, logLevel, type KafkaMessage } from 'kafkajs';
import { TopicIds, TopicSpecs, awaitLeaders, topicNames, type TopicId, type TopicNames } from '@vigil/contracts';

/** Brokers of the real Kafka the tests run against (the infra script exports KAFKA_BROKERS). */
export function testBrokers(): string[] {
  return (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',').map((s) => s.trim());
}

export function testRedisUrl(): string {
  return process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
}

/** A name no other test (or earlier run) has used: tests never share topics or groups. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}

export function testKafka(clientId = uniqueName('test')): Kafka {
  return new Kafka({ clientId, brokers: testBrokers(), logLevel: logLevel.NOTHING });
}

/**
 * Producer options for tests' own producers: idempotent, so a request kafkajs retries whole (one
 * partition's leader not serving yet, a broker restart) does not write its other partitions'
 * messages twice and add records a test then counts.
 */
export const TEST_PRODUCER_OPTIONS = { allowAutoTopicCreation: false, idempotent: true, maxInFlightRequests: 1 } as const;

/** Creates a fresh namespace with every Vigil topic in it (3 partitions each). */
export async function freshTopics(partitions = 3, only: readonly TopicId[] = TopicIds): Promise<{ namespace: string; topics: TopicNames }> {
  const namespace = uniqueName('t');
  const topics = topicNames(namespace);
  const admin = testKafka().admin();
  await admin.connect();
  try {
    await admin.createTopics({
      waitForLeaders: false, // kafkajs' wait gives up on a broker still starting; awaitLeaders waits it out
      topics: only.map((id) => ({
        topic: topics[id],
        numPartitions: partitions,
        replicationFactor: 1,
        configEntries: [{ name: 'max.message.bytes', value: String(TopicSpecs[id].maxMessageBytes) }],
      })),
    });
    await awaitLeaders(
      admin,
      only.map((id) => topics[id]),
    );
  } finally {
    await admin.disconnect();
  }
  return { namespace, topics };
}

export interface ReadMessage {
  partition: number;
  offset: string;
  key: string | null;
  value: Buffer;
  headers: Record<string, string>;
}

/**
 * Reads a topic from the beginning with a throwaway group until `count` messages arrived, or the
 * timeout passed (then returns what it has, so the assertion shows the difference), plus a short
 * settle time to catch extras (duplicates) when `settleMs` is set.
 */
export async function readTopic(
  topic: string,
  count: number,
  opts: { timeoutMs?: number; settleMs?: number } = {},
): Promise<ReadMessage[]> {
  const consumer = testKafka().consumer({ groupId: uniqueName('reader'), maxWaitTimeInMs: 100 });
  const out: ReadMessage[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    let resolveDone!: () => void;
    const done = new Promise<void>((r) => (resolveDone = r));
    await consumer.run({
      eachMessage: async ({ partition, message }: { partition: number; message: KafkaMessage }) => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(message.headers ?? {})) if (v !== undefined) headers[k] = String(Array.isArray(v) ? v[0] : v);
        out.push({
          partition,
          offset: message.offset,
          key: message.key?.toString() ?? null,
          value: message.value ?? Buffer.alloc(0),
          headers,
        });
        if (out.length >= count) resolveDone();
      },
    });
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<void>((r) => (timer = setTimeout(r, opts.timeoutMs ?? 30_000)));
    await Promise.race([done, timedOut]);
    clearTimeout(timer);
    if (opts.settleMs) await sleep(opts.settleMs);
  } finally {
    await consumer.disconnect();
  }
  return out;
}

export async function produceRaw(topic: string, values: Array<Buffer | string>, key?: string): Promise<void> {
  const producer = testKafka().producer(TEST_PRODUCER_OPTIONS);
  await producer.connect();
  try {
    await producer.send({ topic, acks: -1, messages: values.map((value) => ({ key: key ?? null, value })) });
  } finally {
    await producer.disconnect();
  }
}

/** Committed offsets of a group on a topic, summed over partitions: a broker-side fact. */
export async function committedTotal(groupId: string, topic: string): Promise<number> {
  const admin = testKafka().admin();
  await admin.connect();
  try {
    const [res] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return (res?.partitions ?? []).reduce((n, p) => n + Math.max(0, Number(p.offset)), 0);
  } finally {
    await admin.disconnect();
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls until `check` returns a truthy value, or throws with `what` after the timeout. */
export async function waitFor<T>(what: string, check: () => T | Promise<T>, timeoutMs = 30_000, everyMs = 100): Promise<NonNullable<T>> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < until) {
    try {
      const v = await check();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    await sleep(everyMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}
