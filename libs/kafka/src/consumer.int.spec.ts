import { silentLogger } from '@vigil/runtime';
import { committedTotal, freshTopics, produceRaw, readTopic, sleep, testBrokers, uniqueName, waitFor } from '@vigil/testing';
import { createKafka } from './client';
import { BatchConsumer, type ConsumedMessage } from './consumer';
import { dlqMessage } from './dlq';
import { Producer } from './producer';

const logger = silentLogger();
const kafka = () =>
  createKafka({ brokers: testBrokers(), clientId: uniqueName('c'), partitions: 1, replication: 1, createTopics: false }, logger);

describe('BatchConsumer', () => {
  it('commits nothing while the handler fails, retries the same batch, and commits once it succeeds', async () => {
    const { topics } = await freshTopics(1, ['eventsRaw']);
    await produceRaw(topics.eventsRaw, ['a', 'b', 'c']);
    const groupId = uniqueName('g');
    let attempts = 0;
    const seen: string[][] = [];
    let allow = false;
    const consumer = new BatchConsumer(kafka(), {
      groupId,
      topics: [topics.eventsRaw],
      logger,
      retryInitialMs: 50,
      retryMaxMs: 100,
      handler: async (msgs: ConsumedMessage[]) => {
        attempts++;
        seen.push(msgs.map((m) => m.value!.toString()));
        if (!allow) throw new Error('sink unavailable');
      },
    });
    await consumer.start();
    try {
      await waitFor('three failed attempts', () => attempts >= 3);
      expect(await committedTotal(groupId, topics.eventsRaw)).toBe(0);
      allow = true;
      await waitFor('commit after success', async () => (await committedTotal(groupId, topics.eventsRaw)) === 3);
      // every attempt saw the whole batch again, never a later one
      expect(seen.every((s) => s.join() === 'a,b,c')).toBe(true);
    } finally {
      await consumer.stop();
    }
  });

  it('finishes and commits the in-flight batch when stopped', async () => {
    const { topics } = await freshTopics(1, ['eventsRaw']);
    await produceRaw(topics.eventsRaw, ['x', 'y']);
    const groupId = uniqueName('g');
    let entered = false;
    let finished = false;
    const consumer = new BatchConsumer(kafka(), {
      groupId,
      topics: [topics.eventsRaw],
      logger,
      handler: async () => {
        entered = true;
        await sleep(1500);
        finished = true;
      },
    });
    await consumer.start();
    await waitFor('handler running', () => entered);
    await consumer.stop();
    expect(finished).toBe(true);
    expect(await committedTotal(groupId, topics.eventsRaw)).toBe(2);
  });

  it('sends DLQ records and outputs through one acks=all producer', async () => {
    const { topics } = await freshTopics(1, ['eventsRaw', 'eventsDlq']);
    const producer = new Producer(kafka(), logger);
    await producer.connect();
    try {
      const msg: ConsumedMessage = {
        topic: topics.eventsRaw,
        partition: 0,
        offset: '41',
        key: Buffer.from('k'),
        value: Buffer.from([0xff]),
        timestamp: '0',
        headers: {},
      };
      await producer.send([dlqMessage(topics.eventsDlq, 'test', msg, { kind: 'invalid_utf8', reason: 'message is not valid UTF-8' })]);
    } finally {
      await producer.disconnect();
    }
    const [rec] = await readTopic(topics.eventsDlq, 1);
    expect(rec!.key).toBe('k');
    expect(rec!.headers['vigil-error-kind']).toBe('invalid_utf8');
    expect(JSON.parse(rec!.value.toString())).toMatchObject({
      error_kind: 'invalid_utf8',
      original_base64: '/w==',
      source: { offset: '41' },
    });
  });
});
