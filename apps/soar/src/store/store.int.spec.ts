import { Redis } from '@vigil/redis';
import { testRedisUrl, uniqueName } from '@vigil/testing';
import { SoarStore } from './store';

describe('SoarStore on the real Redis', () => {
  let redis: Redis;
  let store: SoarStore;
  beforeEach(() => {
    redis = new Redis(testRedisUrl());
    store = new SoarStore(redis, {
      prefix: `${uniqueName('t')}:`,
      runRetentionMs: 60_000,
      idempotencyTtlMs: 60_000,
      offenderWindowMs: 10_000,
    });
  });
  afterEach(() => redis.quit());

  it('lets one claimer run an action; another waits until the lease of a crashed claimer runs out', async () => {
    const key = store.actionKey('alert-1', 'block_ip', '203.0.113.7', 'firewall');
    expect((await store.claimAction(key, 'run-1', 'proc-A', 1_000, 5_000)).state).toBe('acquired');
    expect((await store.claimAction(key, 'run-1', 'proc-B', 2_000, 5_000)).state).toBe('busy');
    // proc-A died holding the claim: once its lease is over, proc-B takes the action over.
    expect((await store.claimAction(key, 'run-1', 'proc-B', 6_001, 5_000)).state).toBe('acquired');
    await store.settleAction(key, { state: 'done', owner: 'run-1', summary: 'blocked', at: 7_000 });
    const again = await store.claimAction(key, 'run-2', 'proc-C', 8_000, 5_000);
    expect(again).toMatchObject({ state: 'done', record: { owner: 'run-1', summary: 'blocked' } });
  });

  it.each<[boolean, string]>([
    [true, 'acquired'],
    [false, 'failed'],
  ])('after a failure with retriable=%s the next claim is %s', async (retriable, state) => {
    const key = store.actionKey('alert-2', 'disable_user', 'alice', 'scim');
    await store.claimAction(key, 'run-1', 'proc-A', 1_000, 5_000);
    await store.settleAction(key, { state: 'failed', owner: 'run-1', retriable, error: 'HTTP 503', at: 1_500 });
    expect((await store.claimAction(key, 'run-1', 'proc-B', 2_000, 5_000)).state).toBe(state);
  });

  it('hands each due work item to exactly one of several concurrent claimers, with a lease', async () => {
    for (let i = 0; i < 50; i++) await store.enqueue(`r:${i}`, 1_000 + i);
    await store.enqueue('r:later', 99_000);
    const claims = await Promise.all(Array.from({ length: 5 }, () => store.claimDue(2_000, 20, 12_000)));
    const all = claims.flat();
    expect(all).toHaveLength(50);
    expect(new Set(all).size).toBe(50);
    expect(all).not.toContain('r:later');
    expect(await store.claimDue(2_000, 100, 12_000)).toEqual([]);
    // The lease runs out: the item is due again for anyone.
    expect(await store.claimDue(12_000, 100, 22_000)).toHaveLength(50);
  });

  it('finishes a work item only while its lease is still ours', async () => {
    await store.enqueue('r:x', 1_000);
    await store.claimDue(1_000, 1, 5_000);
    await store.enqueue('r:x', 1_500); // an approval asked for it sooner meanwhile
    expect(await store.finish('r:x', 5_000, null)).toBe(false);
    expect(await store.dueAt('r:x')).toBe(1_500);
  });

  it('keeps the later undo when the same target is blocked again', async () => {
    const base = {
      key: 'firewall|unblock_ip|203.0.113.7',
      action: 'unblock_ip' as const,
      connector: 'firewall' as const,
      target: '203.0.113.7',
      playbook_id: 'p',
      step_index: 0,
      attempts: 0,
      dry_run: false,
    };
    expect(await store.scheduleUndo({ ...base, alert_id: 'a1', run_id: 'r1', due_at: 10_000 })).toBe(true);
    expect(await store.scheduleUndo({ ...base, alert_id: 'a2', run_id: 'r2', due_at: 50_000 })).toBe(true);
    expect(await store.scheduleUndo({ ...base, alert_id: 'a3', run_id: 'r3', due_at: 20_000 })).toBe(false);
    expect(await store.getUndo(base.key)).toMatchObject({ alert_id: 'a2', due_at: 50_000 });
    expect(await store.dueAt(`u:${base.key}`)).toBe(50_000);
  });

  it('counts earlier offences by a target inside the window, not the current alert twice', async () => {
    expect(await store.priorOffences('block_ip', '203.0.113.7', 'a1', 1_000)).toBe(0);
    expect(await store.priorOffences('block_ip', '203.0.113.7', 'a1', 1_500)).toBe(0);
    expect(await store.priorOffences('block_ip', '203.0.113.7', 'a2', 2_000)).toBe(1);
    expect(await store.priorOffences('block_ip', '203.0.113.7', 'a3', 30_000)).toBe(0);
  });
});
