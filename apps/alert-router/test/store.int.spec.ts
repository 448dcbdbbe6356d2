import type { OutMessage, Producer } from '@vigil/kafka';
import { Metrics, silentLogger } from '@vigil/runtime';
import { Redis } from '@vigil/redis';
import { testRedisUrl, uniqueName } from '@vigil/testing';
import { sampleNotification } from '../src/channels/testing';
import type { Channel, SendResult } from '../src/channels/types';
import { Deliverer } from '../src/delivery/deliverer';
import { RouterMetrics } from '../src/metrics';
import type { RoutingHolder } from '../src/routing/holder';
import { RouterStore, type DeliveryJob } from '../src/state/store';

// The delivery job and its notification log entry are read in one call against a real Redis:
// what the deliverer decides from (send, publish, or nothing left to do).

const NOW = 1_000_000;

function job(): DeliveryJob {
  const notification = sampleNotification([{}], { receiver: 'hook' });
  return {
    id: notification.notification_id,
    receiver: 'hook',
    channel: 'webhook',
    notification,
    source: { topic: 'alerts', partition: 0, offset: '0' },
    created_ms: NOW,
    attempts: 0,
    first_attempt_ms: null,
    done: [],
  };
}

class CountingChannel implements Channel {
  readonly kind = 'webhook' as const;
  readonly receiver = 'hook';
  sends = 0;
  async send(): Promise<SendResult> {
    this.sends++;
    return { ok: true, done: [] };
  }
}

describe('RouterStore delivery jobs on a real Redis', () => {
  let redis: Redis;
  let store: RouterStore;

  beforeEach(() => {
    redis = new Redis(testRedisUrl(), { lazyConnect: false, maxRetriesPerRequest: 2 });
    store = new RouterStore(redis, `${uniqueName('store')}:`, 60_000);
  });
  afterEach(() => redis.disconnect());

  function deliverer(channel: Channel, sent: OutMessage[]): Deliverer {
    return new Deliverer(
      store,
      { current: { channels: new Map([['hook', channel]]) } } as unknown as RoutingHolder,
      { send: async (out: readonly OutMessage[]) => void sent.push(...out) } as unknown as Producer,
      { notifications: 'notifications', notificationsDlq: 'notifications.dlq' },
      { maxAttempts: 3, maxAgeMs: 3_600_000, backoff: { initialMs: 1, maxMs: 1, jitter: 0 }, circuitFailures: 5, circuitOpenMs: 1_000 },
      new RouterMetrics(new Metrics('alert-router', { defaultMetrics: false })),
      silentLogger(),
      () => NOW,
    );
  }

  it('reads a job with its log: absent, created, settled, finished', async () => {
    const j = job();
    expect(await store.readJob(j.id)).toEqual({ job: null, logged: false });
    expect(await store.commitFlush(0, 'g', null, [j], NOW)).toBe(1);
    expect(await store.readJob(j.id)).toEqual({ job: j, logged: false });
    const settled = { ...j, settled: { outcome: 'delivered' as const, at_ms: NOW } };
    await store.settleJob(settled);
    expect(await store.readJob(j.id)).toEqual({ job: settled, logged: true });
    await store.finishJob(j.id);
    expect(await store.readJob(j.id)).toEqual({ job: null, logged: true });
  });

  it('delivers a new job once: sent, recorded, removed', async () => {
    const j = job();
    await store.commitFlush(0, 'g', null, [j], NOW);
    const channel = new CountingChannel();
    const sent: OutMessage[] = [];
    await deliverer(channel, sent).deliver(j.id);
    expect(channel.sends).toBe(1);
    expect(sent.map((m) => m.topic)).toEqual(['notifications']);
    expect(await store.readJob(j.id)).toEqual({ job: null, logged: true });
  });

  it('sends nothing and records nothing for a job another instance has settled, and removes it', async () => {
    const j = job();
    await store.commitFlush(0, 'g', null, [j], NOW);
    // Another instance settles it; a retry on this one then writes its unsettled copy back.
    await store.settleJob({ ...j, settled: { outcome: 'delivered', at_ms: NOW } });
    await store.rescheduleJob({ ...j, attempts: 1 }, NOW);
    expect(await store.readJob(j.id)).toMatchObject({ job: { attempts: 1 }, logged: true });
    const channel = new CountingChannel();
    const sent: OutMessage[] = [];
    await deliverer(channel, sent).deliver(j.id);
    expect(channel.sends).toBe(0);
    expect(sent).toEqual([]);
    expect(await store.readJob(j.id)).toEqual({ job: null, logged: true });
    expect(await redis.zscore(store.keys.jobs, j.id)).toBeNull();
  });
});
