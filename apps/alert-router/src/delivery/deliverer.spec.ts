import type { OutMessage, Producer } from '@vigil/kafka';
import { Metrics, silentLogger } from '@vigil/runtime';
import { sampleNotification } from '../channels/testing';
import type { Channel, SendResult } from '../channels/types';
import { RouterMetrics } from '../metrics';
import type { RoutingHolder } from '../routing/holder';
import type { DeliveryJob, RouterStore } from '../state/store';
import { Deliverer } from './deliverer';

/** The job table of RouterStore, in memory: what Deliverer reads and writes. */
class FakeStore {
  readonly jobs = new Map<string, DeliveryJob>();
  async readJob(id: string) {
    const j = this.jobs.get(id);
    return { job: j ? (JSON.parse(JSON.stringify(j)) as DeliveryJob) : null, logged: false };
  }
  async rescheduleJob(job: DeliveryJob) {
    this.jobs.set(job.id, job);
  }
  async settleJob(job: DeliveryJob) {
    this.jobs.set(job.id, job);
  }
  async finishJob(id: string) {
    this.jobs.delete(id);
  }
}

/** A receiver whose next answers the test scripts; it records the circuit gauge at each send. */
class ScriptedChannel implements Channel {
  readonly kind = 'webhook' as const;
  readonly receiver = 'hook';
  readonly answers: SendResult[] = [];
  readonly gaugeAtSend: Array<number | undefined> = [];
  constructor(private readonly gauge: () => Promise<number | undefined>) {}
  async send(): Promise<SendResult> {
    this.gaugeAtSend.push(await this.gauge());
    return this.answers.shift() ?? { ok: true, done: [] };
  }
}

const down: SendResult = { ok: false, retriable: true, status: 503, error: 'HTTP 503', done: [] };

describe('Deliverer metrics', () => {
  it('shows the receiver circuit as 0 closed, 1 open, 2 half-open (during its trial send), and counts attempts by outcome', async () => {
    const metrics = new RouterMetrics(new Metrics('alert-router', { defaultMetrics: false }));
    const series = async (m: { get(): Promise<{ values: Array<{ labels: Record<string, unknown>; value: number }> }> }) =>
      Object.fromEntries((await m.get()).values.map((v) => [String(v.labels.outcome ?? v.labels.receiver), v.value]));
    const gauge = async () => (await series(metrics.circuitState)).hook;
    const channel = new ScriptedChannel(gauge);
    channel.answers.push(down, down);
    const store = new FakeStore();
    const sent: OutMessage[] = [];
    let now = 1_000_000;
    const deliverer = new Deliverer(
      store as unknown as RouterStore,
      { current: { channels: new Map([['hook', channel]]) } } as unknown as RoutingHolder,
      { send: async (out: readonly OutMessage[]) => void sent.push(...out) } as unknown as Producer,
      { notifications: 'notifications', notificationsDlq: 'notifications.dlq' },
      { maxAttempts: 10, maxAgeMs: 3_600_000, backoff: { initialMs: 10, maxMs: 10, jitter: 0 }, circuitFailures: 2, circuitOpenMs: 1_000 },
      metrics,
      silentLogger(),
      () => now,
    );
    const notification = sampleNotification([{}], { receiver: 'hook' });
    const id = notification.notification_id;
    store.jobs.set(id, {
      id,
      receiver: 'hook',
      channel: 'webhook',
      notification,
      source: { topic: 'alerts', partition: 0, offset: '0' },
      created_ms: now,
      attempts: 0,
      first_attempt_ms: null,
      done: [],
    });

    await deliverer.deliver(id); // fails: one failure, still closed
    expect(await gauge()).toBe(0);
    await deliverer.deliver(id); // fails: the second in a row opens it
    expect(await gauge()).toBe(1);
    now += 10;
    await deliverer.deliver(id); // not sent while open
    expect(await gauge()).toBe(1);
    now += 1_000;
    await deliverer.deliver(id); // the trial: half-open while it is out, then closed
    expect(channel.gaugeAtSend).toEqual([0, 0, 2]);
    expect(await gauge()).toBe(0);

    expect(await series(metrics.attempts)).toEqual({ retriable: 2, circuit_open: 1, success: 1 });
    expect(await series(metrics.notifications)).toEqual({ delivered: 1 });
    expect(sent.map((m) => m.topic)).toEqual(['notifications']);
    expect(store.jobs.size).toBe(0);
  });
});

describe('Deliverer attempt cap', () => {
  const throttled: SendResult = { ok: false, retriable: true, status: 429, retryAfterMs: 1_000, error: 'HTTP 429', done: [] };

  function setup(answers: SendResult[]) {
    const channel = new ScriptedChannel(async () => undefined);
    channel.answers.push(...answers);
    const store = new FakeStore();
    const sent: OutMessage[] = [];
    let now = 1_000_000;
    const deliverer = new Deliverer(
      store as unknown as RouterStore,
      { current: { channels: new Map([['hook', channel]]) } } as unknown as RoutingHolder,
      { send: async (out: readonly OutMessage[]) => void sent.push(...out) } as unknown as Producer,
      { notifications: 'notifications', notificationsDlq: 'notifications.dlq' },
      {
        maxAttempts: 3,
        maxAgeMs: 3_600_000,
        backoff: { initialMs: 10, maxMs: 10, jitter: 0 },
        circuitFailures: 1_000,
        circuitOpenMs: 1_000,
      },
      new RouterMetrics(new Metrics('alert-router', { defaultMetrics: false })),
      silentLogger(),
      () => now,
    );
    const notification = sampleNotification([{}], { receiver: 'hook' });
    const id = notification.notification_id;
    store.jobs.set(id, {
      id,
      receiver: 'hook',
      channel: 'webhook',
      notification,
      source: { topic: 'alerts', partition: 0, offset: '0' },
      created_ms: now,
      attempts: 0,
      first_attempt_ms: null,
      done: [],
    });
    const attempt = async () => {
      now += 60_000;
      await deliverer.deliver(id);
    };
    return { attempt, sent, store, id };
  }

  it('keeps a notification that the channel throttles (429 Retry-After) more times than the attempt cap, and delivers it once let through', async () => {
    const { attempt, sent, store } = setup([throttled, throttled, throttled, throttled, throttled]);
    for (let i = 0; i < 6; i++) await attempt();
    expect(sent.map((m) => [m.topic, (JSON.parse(String(m.value)) as { outcome: string }).outcome])).toEqual([
      ['notifications', 'delivered'],
    ]);
    expect(store.jobs.size).toBe(0);
  });

  it('gives up after the attempt cap when the channel fails (5xx), to the DLQ', async () => {
    const { attempt, sent } = setup([down, down, down, down]);
    for (let i = 0; i < 3; i++) await attempt();
    expect(sent.map((m) => m.topic).sort()).toEqual(['notifications', 'notifications.dlq']);
  });

  it('still gives up a throttled notification at the age cap', async () => {
    const { attempt, sent } = setup(Array.from({ length: 100 }, () => throttled));
    for (let i = 0; i < 61; i++) await attempt(); // one a minute: the hour runs out
    expect(sent.map((m) => m.topic).sort()).toEqual(['notifications', 'notifications.dlq']);
  });
});
