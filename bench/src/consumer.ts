/**
 * One hop's latency at a light, steady load: produced (acks=all) → in the handler, for
 *   1. a plain kafkajs consumer (eachBatch, its default auto-commit after every batch),
 *   2. Vigil's BatchConsumer one batch at a time (router, SOAR, forwarder lanes),
 *   3. BatchConsumer pipelined (ingest, correlation),
 * each on its own fresh 6-partition topic, 10 messages every 10 ms for 10 s (about 800/s),
 * one after another. Every service adds one such hop, so the figure is the floor a light load sees
 * per hop. What it shows: a Kafka 4 broker holds each offset commit up to its
 * group.coordinator.append.linger.ms (10 ms by default) and answers one request per connection at
 * a time, so a consumer that waits for a commit per batch fetches tens of ms apart.
 */
import type { Producer } from 'kafkajs';
import { BatchConsumer } from '@vigil/kafka';
import { silentLogger } from '@vigil/runtime';
import { freshTopics, uniqueName } from '@vigil/testing';
import { fmt, kafka, pct, table } from './lib';

const SECONDS = Number(process.env.BENCH_CONSUMER_SECONDS ?? 10);
const PARTITIONS = 6;

interface Consumer {
  start(onMessage: (value: Buffer | null) => void): Promise<void>;
  stop(): Promise<void>;
}

function plainKafkajs(topic: string): Consumer {
  const c = kafka().consumer({ groupId: uniqueName('bench-plain'), maxWaitTimeInMs: 100 });
  return {
    async start(onMessage) {
      await c.connect();
      await c.subscribe({ topic, fromBeginning: true });
      await c.run({
        partitionsConsumedConcurrently: 2,
        eachBatch: async ({ batch }) => {
          for (const m of batch.messages) onMessage(m.value);
        },
      });
    },
    stop: () => c.disconnect(),
  };
}

function batchConsumer(topic: string, pipelineDepth: number): Consumer {
  let c: BatchConsumer | null = null;
  return {
    async start(onMessage) {
      c = new BatchConsumer(kafka(), {
        groupId: uniqueName('bench-batch'),
        topics: [topic],
        logger: silentLogger(),
        pipelineDepth,
        handler: async (messages) => {
          for (const m of messages) onMessage(m.value);
        },
      });
      await c.start();
    },
    stop: async () => c?.stop(),
  };
}

async function measure(make: (topic: string) => Consumer, producer: Producer): Promise<number[]> {
  const { topics } = await freshTopics(PARTITIONS, ['events']);
  const latencies: number[] = [];
  const consumer = make(topics.events);
  await consumer.start((value) => latencies.push(Date.now() - Number(value?.toString())));
  try {
    await new Promise((r) => setTimeout(r, 3_000)); // joined and fetching
    const end = Date.now() + SECONDS * 1000;
    for (let i = 0; Date.now() < end;) {
      const sentAt = String(Date.now());
      const messages = Array.from({ length: 10 }, () => ({ key: String(i++), value: sentAt }));
      await producer.send({ topic: topics.events, messages, acks: -1 });
      await new Promise((r) => setTimeout(r, 10));
    }
    await new Promise((r) => setTimeout(r, 1_000));
  } finally {
    await consumer.stop();
  }
  return latencies.sort((a, b) => a - b);
}

export async function run(): Promise<void> {
  const producer = kafka().producer();
  await producer.connect();
  try {
    const rows: Array<Record<string, string>> = [];
    for (const [name, make] of [
      ['plain kafkajs (commit after each batch)', plainKafkajs],
      ['BatchConsumer, one batch at a time', (t: string) => batchConsumer(t, 0)],
      ['BatchConsumer, pipelined (depth 4)', (t: string) => batchConsumer(t, 4)],
    ] as const) {
      const l = await measure(make, producer);
      rows.push({
        consumer: name,
        messages: fmt(l.length),
        'produced → handler p50/p95/p99/max ms': [50, 95, 99, 100].map((p) => fmt(pct(l, p))).join(' / '),
      });
    }
    console.log(`${SECONDS} s each at about 800 messages/s (10 every 10 ms, acks=all), ${PARTITIONS} partitions`);
    table(rows);
  } finally {
    await producer.disconnect();
  }
}
