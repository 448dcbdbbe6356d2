import { silentLogger } from '@vigil/runtime';
import type { Deliverer } from './delivery/deliverer';
import type { RouterMetrics } from './metrics';
import type { RoutingHolder } from './routing/holder';
import { Scheduler, WAKE_MIN_GAP_MS } from './scheduler';
import type { RouterStore } from './state/store';

/**
 * When the scheduler ticks (the Redis side of a tick is the integration tests'). A stand-in store
 * counts the ticks: each starts by claiming due groups, and nothing is ever due here.
 */
function counting(tickMs = 0) {
  const starts: number[] = [];
  const store = {
    claimDueGroups: async () => {
      starts.push(Date.now());
      if (tickMs > 0) await new Promise((r) => setTimeout(r, tickMs));
      return [];
    },
    claimDueJobs: async () => [],
  } as unknown as RouterStore;
  const scheduler = new Scheduler(store, {} as RoutingHolder, {} as Deliverer, {} as RouterMetrics, silentLogger(), {
    pollMs: 60_000,
    claimBatch: 10,
    leaseMs: 1_000,
    concurrency: 1,
  });
  return { scheduler, starts };
}

/** Fake time (Date.now and timers), so the assertions are about order, not the machine's speed. */
const sleep = (ms: number) => jest.advanceTimersByTimeAsync(ms);

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

describe('Scheduler.wake (new alerts recorded)', () => {
  it('brings the next tick forward instead of waiting for the poll, at least the minimum gap after the last', async () => {
    const { scheduler, starts } = counting();
    scheduler.start();
    await sleep(5);
    expect(starts).toHaveLength(1); // the first tick; the next poll is a minute away
    scheduler.wake();
    await sleep(WAKE_MIN_GAP_MS - 6);
    expect(starts).toHaveLength(1);
    await sleep(2);
    expect(starts).toHaveLength(2);
    expect(starts[1]! - starts[0]!).toBe(WAKE_MIN_GAP_MS);
    await sleep(59_000);
    expect(starts).toHaveLength(2);
    await sleep(1_000);
    expect(starts).toHaveLength(3); // the poll again, a minute after the woken tick
    const stopped = scheduler.stop();
    await sleep(0);
    await stopped;
  });

  it('folds many wakes into one tick, and a wake during a tick into one tick after it', async () => {
    const { scheduler, starts } = counting(30);
    scheduler.start();
    await sleep(5); // first tick in progress (it takes 30 ms)
    scheduler.wake();
    scheduler.wake();
    await sleep(30);
    expect(starts).toHaveLength(2); // right after the first (the gap is already over)
    for (let i = 0; i < 10; i++) scheduler.wake(); // during the second tick
    await sleep(35);
    expect(starts).toHaveLength(3);
    await sleep(10_000);
    expect(starts).toHaveLength(3); // then back to the minute-long poll
    const stopped = scheduler.stop();
    await sleep(30);
    await stopped;
  });

  it('does nothing once stopped', async () => {
    const { scheduler, starts } = counting();
    scheduler.start();
    await sleep(5);
    await scheduler.stop();
    scheduler.wake();
    await sleep(120_000);
    expect(starts).toHaveLength(1);
  });
});
