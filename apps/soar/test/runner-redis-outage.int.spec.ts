import { randomUUID } from 'node:crypto';
import { Redis } from '@vigil/redis';
import { Metrics, silentLogger } from '@vigil/runtime';
import { testRedisUrl, uniqueName } from '@vigil/testing';
import type { AuditPublisher } from '../src/audit';
import type { ActionRequest, ActionResult, Connector } from '../src/connectors/types';
import { planRun } from '../src/domain/run';
import { SoarMetrics } from '../src/metrics';
import { parsePlaybook } from '../src/playbooks/loader';
import { Runner } from '../src/runner';
import { SoarStore, type ActionRecord } from '../src/store/store';
import { makeAlert } from './harness';

/** The real store on the real Redis, except that recording an action's outcome fails while `down` is set. */
class StoreLosingRedisAtSettle extends SoarStore {
  down = false;
  async settleAction(key: string, rec: ActionRecord): Promise<void> {
    if (this.down) throw new Error('Connection is closed.');
    return super.settleAction(key, rec);
  }
}

class CountingFirewall implements Connector {
  readonly name = 'firewall' as const;
  readonly actions = ['block_ip', 'unblock_ip'] as const;
  readonly calls: ActionRequest[] = [];
  /** Called after the block is in place: the moment Redis goes away in the test. */
  afterCall: () => void = () => undefined;
  async execute(req: ActionRequest): Promise<ActionResult> {
    this.calls.push(req);
    this.afterCall();
    return { request: { method: req.action === 'block_ip' ? 'PUT' : 'DELETE' }, summary: `${req.action} ${req.target}` };
  }
}

const PLAYBOOK = `
id: contain
trigger: { rule_id: [auth.brute_force] }
steps:
  - action: block_ip
    target: '{{ group["source.ip"] }}'
    duration: 1h
`;

describe('soar runner when Redis goes away between an action and its record', () => {
  let redis: Redis;
  let store: StoreLosingRedisAtSettle;
  let firewall: CountingFirewall;
  let runner: Runner;

  beforeEach(() => {
    redis = new Redis(testRedisUrl());
    store = new StoreLosingRedisAtSettle(redis, {
      prefix: `${uniqueName('t')}:`,
      runRetentionMs: 60_000,
      idempotencyTtlMs: 60_000,
      offenderWindowMs: 60_000,
    });
    firewall = new CountingFirewall();
    const audit = { publish: async () => undefined } as unknown as AuditPublisher;
    runner = new Runner(
      store,
      new Map([['firewall', firewall]]),
      audit,
      new SoarMetrics(new Metrics('soar', { defaultMetrics: false })),
      silentLogger(),
      { concurrency: 1, pollMs: 1000, leaseMs: 60_000, retry: { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 100 } },
    );
  });
  afterEach(() => redis.quit());

  async function startRun(): Promise<string> {
    const playbook = parsePlaybook(PLAYBOOK, 'contain.yaml', {
      available: new Set(['firewall', 'alert_router']),
      defaults: {
        block_ip: 'firewall',
        unblock_ip: 'firewall',
        disable_user: 'scim',
        enable_user: 'scim',
        isolate_host: 'edr',
        release_host: 'edr',
        notify: 'alert_router',
      },
    });
    const run = planRun({
      runId: randomUUID(),
      playbook,
      alert: makeAlert(),
      now: Date.now(),
      dryRun: false,
      defaultApprovalTtlMs: 60_000,
      defaultConnectors: {
        block_ip: 'firewall',
        unblock_ip: 'firewall',
        disable_user: 'scim',
        enable_user: 'scim',
        isolate_host: 'edr',
        release_host: 'edr',
        notify: 'alert_router',
      },
      policy: { ip: { neverBlock: [], minPrefixV4: 24, minPrefixV6: 48 }, neverDisable: new Set(), neverIsolate: new Set() },
    });
    expect(await store.createRun(run, [])).toBe(true);
    return run.run_id;
  }

  it('records the done action on the retry instead of blocking the address a second time', async () => {
    const runId = await startRun();
    firewall.afterCall = () => {
      store.down = true; // once, right after the first block
      firewall.afterCall = () => undefined;
    };
    await runner.advanceRun(runId).catch(() => undefined);
    expect(firewall.calls).toHaveLength(1);

    // Redis is back; the work item comes round again (our claim on the action is still ours).
    store.down = false;
    await new Promise((r) => setTimeout(r, 20));
    await runner.advanceRun(runId);
    expect(firewall.calls).toHaveLength(1);
    const stored = await store.getRun(runId);
    expect(stored?.run.steps[0]).toMatchObject({ status: 'succeeded', result: 'block_ip 203.0.113.7' });
    const key = store.actionKey(stored!.run.alert_id, 'block_ip', '203.0.113.7', 'firewall');
    expect((await store.claimAction(key, 'another-run', 'another-process', Date.now(), 1000)).state).toBe('done');
  });

  it('still runs the action when it had failed before Redis went away (only done actions are remembered)', async () => {
    const runId = await startRun();
    const failing = firewall.execute.bind(firewall);
    let fail = true;
    firewall.execute = async (req) => {
      if (fail) {
        fail = false;
        firewall.calls.push(req);
        throw new Error('connect ECONNREFUSED');
      }
      return failing(req);
    };
    await runner.advanceRun(runId); // failed, retriable: a retry is scheduled
    await new Promise((r) => setTimeout(r, 20));
    await runner.advanceRun(runId);
    expect(firewall.calls).toHaveLength(2);
    expect((await store.getRun(runId))?.run.steps[0]?.status).toBe('succeeded');
  });
});
