import { Metrics, silentLogger } from '@vigil/runtime';
import {
  TEST_PRODUCER_OPTIONS,
  committedTotal,
  freshTopics,
  produceRaw,
  readTopic,
  sleep,
  testBrokers,
  testKafka,
  uniqueName,
  waitFor,
} from '@vigil/testing';
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

  it.each([
    ['one fetch at a time', 0],
    ['pipelined: the handed batch', 2],
  ])('finishes and commits the in-flight batch when stopped (%s)', async (_mode, pipelineDepth) => {
    const { topics } = await freshTopics(1, ['eventsRaw']);
    await produceRaw(topics.eventsRaw, ['x', 'y']);
    const groupId = uniqueName('g');
    let entered = false;
    let finished = false;
    const consumer = new BatchConsumer(kafka(), {
      groupId,
      topics: [topics.eventsRaw],
      logger,
      pipelineDepth,
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

  describe('pipelined (pipelineDepth)', () => {
    it('fetches on while a batch is in the handler, and commits a partition in order: a finished later batch waits for the earlier one', async () => {
      const { topics } = await freshTopics(1, ['eventsRaw']);
      const groupId = uniqueName('g');
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const seen: string[] = [];
      const consumer = new BatchConsumer(kafka(), {
        groupId,
        topics: [topics.eventsRaw],
        logger,
        pipelineDepth: 4,
        handler: async (msgs) => {
          const values = msgs.map((m) => m.value!.toString());
          seen.push(...values);
          if (values.includes('a')) await gate; // the first batch hangs
        },
      });
      await consumer.start();
      try {
        await produceRaw(topics.eventsRaw, ['a', 'b']);
        await waitFor('first batch in the handler', () => seen.includes('a'));
        await produceRaw(topics.eventsRaw, ['c', 'd']);
        await waitFor('second batch handled while the first is still in the handler', () => seen.includes('d'));
        await sleep(500);
        expect(await committedTotal(groupId, topics.eventsRaw)).toBe(0);
        release();
        await waitFor('both committed', async () => (await committedTotal(groupId, topics.eventsRaw)) === 4);
        expect(seen).toEqual(['a', 'b', 'c', 'd']);
      } finally {
        release();
        await consumer.stop();
      }
    });

    it('retries a failing batch without committing past it, and commits everything once it succeeds', async () => {
      const { topics } = await freshTopics(3, ['eventsRaw']);
      const groupId = uniqueName('g');
      const handled = new Map<string, number>();
      let failures = 0;
      const consumer = new BatchConsumer(kafka(), {
        groupId,
        topics: [topics.eventsRaw],
        logger,
        pipelineDepth: 3,
        retryInitialMs: 20,
        retryMaxMs: 50,
        handler: async (msgs) => {
          await sleep(Math.floor(Math.random() * 30));
          if (failures < 5 && Math.random() < 0.5) {
            failures++;
            throw new Error('sink unavailable');
          }
          for (const m of msgs) handled.set(m.value!.toString(), (handled.get(m.value!.toString()) ?? 0) + 1);
        },
      });
      await consumer.start();
      const values = Array.from({ length: 600 }, (_, i) => `m${i}`);
      try {
        for (let i = 0; i < values.length; i += 50) await produceRaw(topics.eventsRaw, values.slice(i, i + 50), `k${i}`);
        await waitFor('all committed', async () => (await committedTotal(groupId, topics.eventsRaw)) === values.length);
        expect(values.filter((v) => !handled.has(v))).toEqual([]);
        expect(failures).toBeGreaterThan(0);
      } finally {
        await consumer.stop();
      }
    });
  });

  it('labels the consumer families with the group, so two groups on one topic keep their own lag and counts', async () => {
    const { topics } = await freshTopics(1, ['eventsRaw']);
    await produceRaw(topics.eventsRaw, ['a', 'b', 'c', 'd']);
    const metrics = new Metrics('test', { defaultMetrics: false });
    const fast = uniqueName('g-fast');
    const slow = uniqueName('g-slow');
    let slowBatches = 0;
    const consumers = [
      new BatchConsumer(kafka(), { groupId: fast, topics: [topics.eventsRaw], logger, metrics, handler: async () => undefined }),
      new BatchConsumer(kafka(), {
        groupId: slow,
        topics: [topics.eventsRaw],
        logger,
        metrics,
        retryInitialMs: 50,
        retryMaxMs: 50,
        // fails once, so the slow group also records a retry the fast one must not show
        handler: async () => {
          if (++slowBatches === 1) throw new Error('sink unavailable');
        },
      }),
    ];
    for (const c of consumers) await c.start();
    try {
      const series = async (name: string) => (await metrics.registry.getSingleMetric(name)!.get()).values;
      const countsByGroup = async (name: string, sample: string) =>
        new Map((await series(name)).filter((v) => v.metricName === sample).map((v) => [v.labels.group, v.value]));
      // A batch's duration is observed last, after its commit and lag: equal counts mean every batch is recorded.
      await waitFor('both groups committed and every batch recorded', async () => {
        const [f, s] = await Promise.all([committedTotal(fast, topics.eventsRaw), committedTotal(slow, topics.eventsRaw)]);
        const sized = await countsByGroup('vigil_batch_size', 'vigil_batch_size_count');
        const timed = await countsByGroup('vigil_batch_duration_seconds', 'vigil_batch_duration_seconds_count');
        return f === 4 && s === 4 && [fast, slow].every((g) => (sized.get(g) ?? 0) > 0 && sized.get(g) === timed.get(g));
      });
      const consumed = await series('vigil_messages_consumed_total');
      expect(consumed.map((v) => [v.labels.group, v.value]).sort()).toEqual([
        [fast, 4],
        [slow, 4],
      ]);
      const lag = await series('vigil_consumer_lag');
      expect(lag.map((v) => v.labels).sort((a, b) => String(a.group).localeCompare(String(b.group)))).toEqual([
        { topic: topics.eventsRaw, partition: '0', group: fast },
        { topic: topics.eventsRaw, partition: '0', group: slow },
      ]);
      const retries = await series('vigil_batch_retries_total');
      expect(retries.map((v) => [v.labels.group, v.value])).toEqual([[slow, 1]]);
      const sizes = await countsByGroup('vigil_batch_size', 'vigil_batch_size_sum');
      expect([sizes.get(fast), sizes.get(slow)]).toEqual([4, 4]);
    } finally {
      for (const c of consumers) await c.stop();
    }
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

  describe('minFetchIntervalMs', () => {
    /** A started consumer on a fresh one-partition topic that records the size of each batch. */
    async function counting(opts: { minFetchIntervalMs: number; maxBytesPerPartition?: number }, fill?: (topic: string) => Promise<void>) {
      const { topics } = await freshTopics(1, ['eventsRaw']);
      const topic = topics.eventsRaw;
      await fill?.(topic);
      const groupId = uniqueName('g');
      const batches: number[] = [];
      const consumer = new BatchConsumer(kafka(), {
        groupId,
        topics: [topic],
        logger,
        ...opts,
        handler: async (msgs) => {
          batches.push(msgs.length);
        },
      });
      await consumer.start();
      const consumed = () => batches.reduce((a, b) => a + b, 0);
      return { topic, groupId, batches, consumer, consumed };
    }

    it('under a trickle, starts fetches no closer than the interval: fewer, fuller batches, nothing lost', async () => {
      const { topic, groupId, batches, consumer, consumed } = await counting({ minFetchIntervalMs: 200 });
      const producer = testKafka().producer(TEST_PRODUCER_OPTIONS);
      await producer.connect();
      try {
        await waitFor('joined', () => consumer.isReady);
        const started = Date.now();
        for (let i = 0; i < 60; i++) {
          await producer.send({ topic, acks: -1, messages: [{ value: `t${i}` }] });
          await sleep(10);
        }
        await waitFor('all 60 consumed', () => consumed() === 60);
        const elapsed = Date.now() - started;
        // Fetch starts at least 200 ms apart: at most one batch per started interval, plus the fetch
        // already in flight when the first record came.
        expect(batches.length).toBeLessThanOrEqual(Math.ceil(elapsed / 200) + 2);
        expect(consumer.heldFetches).toBeGreaterThan(0);
        await waitFor('committed', async () => (await committedTotal(groupId, topic)) === 60);
      } finally {
        await producer.disconnect();
        await consumer.stop();
      }
    });

    it('never holds a fetch that left records behind', async () => {
      // 20 record batches of two; a fetch returns whole record batches, a few per 2 KiB, so the
      // partition has more after each.
      const { batches, consumer, consumed } = await counting({ minFetchIntervalMs: 1000, maxBytesPerPartition: 2048 }, async (topic) => {
        for (let i = 0; i < 20; i++) await produceRaw(topic, [`backlog-${i}a-${'x'.repeat(400)}`, `backlog-${i}b-${'x'.repeat(400)}`]);
      });
      try {
        await waitFor('all 40 consumed', () => consumed() === 40);
        expect(batches.length).toBeGreaterThan(3);
        // Only the batch that caught up may hold the next fetch.
        expect(consumer.heldFetches).toBeLessThanOrEqual(1);
      } finally {
        await consumer.stop();
      }
    });
  });
});
