import type { Kafka } from 'kafkajs';
import { silentLogger } from '@vigil/runtime';
import { BatchConsumer } from './consumer';

/**
 * kafkajs gives up on a consumer after some errors (e.g. "Failed to find group coordinator" once
 * its retries are spent after a broker restart) and emits CRASH with restart: false. The recovery
 * is Vigil's; the real-broker check of it is the fault suite's kafka-restart. Here a scripted
 * stand-in for the kafkajs consumer object drives the events, so the test is exact and fast.
 */
type Listener = (e: { payload: Record<string, unknown> }) => void;
const EVENTS = { GROUP_JOIN: 'join', CRASH: 'crash', REBALANCING: 'rebalancing', STOP: 'stop' };

type Behaviour = 'crash-for-good' | 'crash-and-kafkajs-restarts' | 'join' | 'hand-a-batch-then-crash-for-good';

function scriptedKafka(script: Behaviour[]) {
  const made: Array<{ disconnected: boolean; commits: string[] }> = [];
  const kafka = {
    consumer: () => {
      const behaviour = script[made.length] ?? 'join';
      const listeners = new Map<string, Listener>();
      const state = { disconnected: false, crashed: false, commits: [] as string[] };
      made.push(state);
      const crash = () => {
        state.crashed = true;
        listeners.get('crash')!({
          payload: { error: new Error('Failed to find group coordinator'), restart: behaviour === 'crash-and-kafkajs-restarts' },
        });
      };
      return {
        events: EVENTS,
        on: (name: string, cb: Listener) => listeners.set(name, cb),
        connect: async () => undefined,
        subscribe: async () => undefined,
        disconnect: async () => {
          state.disconnected = true;
        },
        // kafkajs refuses to pause a consumer whose group is gone
        pause: () => {
          if (state.crashed) throw new Error('Consumer group was not initialized, consumer#run must be called first');
        },
        commitOffsets: async (offsets: Array<{ offset: string }>) => {
          state.commits.push(...offsets.map((o) => o.offset));
        },
        run: async (opts: { eachBatch: (payload: unknown) => Promise<void> }) => {
          setTimeout(() => {
            if (behaviour === 'join') listeners.get('join')!({ payload: { memberAssignment: {} } });
            else if (behaviour === 'hand-a-batch-then-crash-for-good') {
              listeners.get('join')!({ payload: { memberAssignment: {} } });
              const message = { offset: '7', key: null, value: Buffer.from('x'), timestamp: '0', headers: {} };
              void opts
                .eachBatch({
                  batch: { topic: 't', partition: 0, messages: [message], lastOffset: () => '7', offsetLag: () => '0' },
                  heartbeat: async () => undefined,
                  isRunning: () => !state.crashed,
                  isStale: () => false,
                  resolveOffset: () => undefined,
                  commitOffsetsIfNecessary: async () => undefined,
                })
                .then(crash);
            } else crash();
          }, 10);
        },
      };
    },
  };
  return { kafka: kafka as unknown as Kafka, made };
}

const options = { groupId: 'g', topics: ['t'], handler: async () => undefined, logger: silentLogger() };

async function until(check: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('BatchConsumer after a crash kafkajs does not restart from', () => {
  it('starts a new consumer in the same group, after a backoff, and is ready again once it joins', async () => {
    const { kafka, made } = scriptedKafka(['crash-for-good', 'join']);
    const c = new BatchConsumer(kafka, options);
    await c.start();
    await until(() => made.length === 2 && c.isReady);
    expect(c.restarts).toBe(1);
    expect(made[0]!.disconnected).toBe(true);
    await c.stop();
  });

  it('leaves a crash kafkajs restarts from to kafkajs', async () => {
    const { kafka, made } = scriptedKafka(['crash-and-kafkajs-restarts']);
    const c = new BatchConsumer(kafka, options);
    await c.start();
    await new Promise((r) => setTimeout(r, 1_500));
    expect(made).toHaveLength(1);
    expect(c.restarts).toBe(0);
    await c.stop();
  });

  it('stops cleanly with a pipelined batch still in the handler after the crash: waits for it and commits it', async () => {
    const { kafka, made } = scriptedKafka(['hand-a-batch-then-crash-for-good']);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let handed = false;
    const c = new BatchConsumer(kafka, {
      ...options,
      pipelineDepth: 2,
      handler: async () => {
        handed = true;
        await gate;
      },
    });
    await c.start();
    await until(() => handed && !c.isReady); // handed over, then kafkajs gave up on the consumer
    const stopped = c.stop();
    await new Promise((r) => setTimeout(r, 100));
    release();
    await stopped;
    expect(made[0]!.commits).toEqual(['8']);
    expect(made).toHaveLength(1); // stopping: no replacement
  });

  it('does not restart a consumer that is stopping', async () => {
    const { kafka, made } = scriptedKafka(['crash-for-good']);
    const c = new BatchConsumer(kafka, options);
    await c.start();
    await new Promise((r) => setTimeout(r, 50));
    await c.stop();
    await new Promise((r) => setTimeout(r, 1_500));
    expect(made).toHaveLength(1);
  });
});
