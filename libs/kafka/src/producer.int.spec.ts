import type { Kafka } from 'kafkajs';
import { silentLogger } from '@vigil/runtime';
import { freshTopics, readTopic, testBrokers, testKafka, uniqueName } from '@vigil/testing';
import { createKafka } from './client';
import { Producer } from './producer';

jest.setTimeout(60_000);

const logger = silentLogger();

/** A client whose producers count the Produce requests they send. */
function countingKafka(): { kafka: Kafka; produceRequests: () => number } {
  const kafka = createKafka(
    { brokers: testBrokers(), clientId: uniqueName('p'), partitions: 1, replication: 1, createTopics: false },
    logger,
  );
  let n = 0;
  const make = kafka.producer.bind(kafka);
  kafka.producer = (opts) => {
    const p = make(opts);
    p.on(p.events.REQUEST, (e) => {
      if (e.payload.apiName === 'Produce') n++;
    });
    return p;
  };
  return { kafka, produceRequests: () => n };
}

/** A topic whose broker refuses any record batch over 2 KiB: a partition that fails on demand. */
async function smallRecordsTopic(namespace: string): Promise<string> {
  const topic = `${namespace}.small-records`;
  const admin = testKafka().admin();
  await admin.connect();
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic, numPartitions: 1, replicationFactor: 1, configEntries: [{ name: 'max.message.bytes', value: '2048' }] }],
    });
  } finally {
    await admin.disconnect();
  }
  return topic;
}

describe('Producer', () => {
  it('sends that arrive while a request is in flight go together in the next one, in arrival order', async () => {
    const { topics } = await freshTopics(1, ['events']);
    const { kafka, produceRequests } = countingKafka();
    const producer = new Producer(kafka, logger);
    await producer.connect();
    try {
      const sends = Array.from({ length: 20 }, (_, i) =>
        producer.send(Array.from({ length: 5 }, (_, j) => ({ topic: topics.events, key: 'k', value: `${i}.${j}` }))),
      );
      await Promise.all(sends);
      // The first went alone; the other nineteen waited for it and went as one request.
      expect(produceRequests()).toBe(2);
      const read = await readTopic(topics.events, 100, { settleMs: 300 });
      expect(read.map((m) => m.value.toString())).toEqual(Array.from({ length: 100 }, (_, k) => `${Math.floor(k / 5)}.${k % 5}`));
    } finally {
      await producer.disconnect();
    }
  });

  it('a message the broker refuses fails its own send only; the sends merged with it succeed', async () => {
    const { namespace, topics } = await freshTopics(1, ['events']);
    const small = await smallRecordsTopic(namespace);
    const { kafka, produceRequests } = countingKafka();
    const producer = new Producer(kafka, logger);
    await producer.connect();
    try {
      const first = producer.send([{ topic: topics.events, value: 'first' }]);
      const before = producer.send([{ topic: topics.events, value: 'before' }]);
      const poison = producer.send([{ topic: small, value: 'x'.repeat(4096) }]);
      const after = producer.send([{ topic: topics.events, value: 'after' }]);
      const outcomes = await Promise.allSettled([first, before, poison, after]);
      expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
      expect(String((outcomes[2] as PromiseRejectedResult).reason)).toMatch(/larger than the max message size/);
      // first alone, the three merged (refused), then each of the three alone.
      expect(produceRequests()).toBe(5);
      // The producer is not wedged: kafkajs kept no sequence numbers for the partition the refused
      // requests did write, and only a new producer id lets it write there again.
      await producer.send([{ topic: topics.events, value: 'later' }]);
      const read = (await readTopic(topics.events, 6, { settleMs: 500 })).map((m) => m.value.toString());
      // The merged attempt wrote its good partition before the refusal; the retry alone wrote it again.
      expect(read).toEqual(['first', 'before', 'after', 'before', 'after', 'later']);
    } finally {
      await producer.disconnect();
    }
  });

  it('a send that failed on one partition does not wedge the others (a new producer id after a failure)', async () => {
    const { namespace, topics } = await freshTopics(1, ['events']);
    const small = await smallRecordsTopic(namespace);
    const producer = new Producer(countingKafka().kafka, logger);
    await producer.connect();
    try {
      await producer.send([{ topic: topics.events, value: 'a' }]);
      // One request, two partitions: the good one is written, the other refused, the send rejected.
      await expect(
        producer.send([
          { topic: topics.events, value: 'b' },
          { topic: small, value: 'x'.repeat(4096) },
        ]),
      ).rejects.toThrow(/larger than the max message size/);
      await producer.send([{ topic: topics.events, value: 'c' }]);
      expect(producer.isConnected).toBe(true);
      expect((await readTopic(topics.events, 3, { settleMs: 300 })).map((m) => m.value.toString())).toEqual(['a', 'b', 'c']);
    } finally {
      await producer.disconnect();
    }
  });

  it('an idle producer sends at once, a send at a time', async () => {
    const { topics } = await freshTopics(1, ['events']);
    const { kafka, produceRequests } = countingKafka();
    const producer = new Producer(kafka, logger);
    await producer.connect();
    try {
      await producer.send([{ topic: topics.events, value: 'a' }]);
      await producer.send([{ topic: topics.events, value: 'b' }]);
      expect(produceRequests()).toBe(2);
      expect((await readTopic(topics.events, 2)).map((m) => m.value.toString())).toEqual(['a', 'b']);
    } finally {
      await producer.disconnect();
    }
  });
});
