/**
 * The baseline: a plain kafkajs consume → produce pass-through with the same client settings as
 * Vigil's services (eachBatch, two partitions at a time, idempotent acks=all producer), doing no
 * work on the messages. Run as its own process, like a service. KAFKAJS_DIR picks the kafkajs copy
 * (the published one, see kafkajs-published.ts); without it, the one Vigil installs (patched).
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { Kafka, Partitioners, logLevel } = require(process.env.KAFKAJS_DIR ?? 'kafkajs') as typeof import('kafkajs');
export {};

const [from, to, groupId] = [process.env.FROM!, process.env.TO!, process.env.GROUP!];
const kafka = new Kafka({
  clientId: 'passthrough',
  brokers: (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(','),
  logLevel: logLevel.NOTHING,
});

async function main(): Promise<void> {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100, maxBytesPerPartition: 1024 * 1024 });
  await producer.connect();
  await consumer.connect();
  await consumer.subscribe({ topic: from, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: 2,
    eachBatch: async ({ batch, resolveOffset, commitOffsetsIfNecessary }) => {
      if (batch.messages.length === 0) return;
      await producer.send({ topic: to, acks: -1, messages: batch.messages.map((m) => ({ key: m.key, value: m.value })) });
      const last = batch.lastOffset();
      resolveOffset(last);
      await commitOffsetsIfNecessary({
        topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: (BigInt(last) + 1n).toString() }] }],
      });
    },
  });
  const shutdown = () =>
    void consumer
      .disconnect()
      .then(() => producer.disconnect())
      .then(() => process.exit(0));
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
