import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { testBrokers, testRedisUrl } from '@vigil/testing';
import { DEFAULT_SUITE, FAULTS, runFault, type FaultResult } from '../../tools/src/faults';

/**
 * The CI smoke of the fault suite (the full suite is `./vigil faults`, docs/faults.md): one fault,
 * kill -9 of a service mid-batch under a short generated load, on the shared Kafka and Redis, then
 * every event, alert, notification and action accounted for by id.
 * FAULTS_SMOKE picks another fault that does not stop Kafka or Redis (default kill-correlation).
 */
const ROOT = resolve(__dirname, '..', '..');
const NAME = process.env.FAULTS_SMOKE ?? 'kill-correlation';

describe(`fault suite smoke: ${NAME} under load, everything accounted for`, () => {
  let r: FaultResult;

  beforeAll(async () => {
    if (!existsSync(join(ROOT, 'tools', 'dist', 'faults', 'generator.js')))
      throw new Error('tools/dist/faults/generator.js is missing: build first (pnpm exec tsc -b tsconfig.build.json)');
    const spec = FAULTS.find((f) => f.name === NAME && !f.needsPrivateInfra);
    if (!spec) throw new Error(`FAULTS_SMOKE=${NAME} is not a fault the smoke can run on shared infra`);
    r = await runFault(spec, {
      ...DEFAULT_SUITE,
      root: ROOT,
      brokers: testBrokers().join(','),
      redisUrl: testRedisUrl(),
      infra: null,
      rate: 1_000,
      seconds: 15,
      standinsPortBase: 29_400,
      portOffset: 21_400,
      drainTimeoutMs: 240_000,
      say: () => undefined,
    });
    console.log(`${r.name}: ${r.timeline.join('; ')}`);
  });

  it('delivers every event to the validated topic and every SIEM, with no duplicate Elasticsearch document', () => {
    const a = r.account;
    expect(r.complete).toBe(true);
    expect(r.generator.acked).toBe(a.produced.events + a.produced.junk);
    expect([a.validated.missing, a.validated.unexpected]).toEqual([0, 0]);
    expect(a.dlq.records).toBeGreaterThanOrEqual(a.dlq.expected);
    expect([a.elasticsearch.missing, a.elasticsearch.duplicates]).toEqual([0, 0]);
    expect([a.splunk.missing, a.sentinel.missing]).toEqual([0, 0]);
  });

  it('raises each expected alert once (a republished alert keeps its id) and no other', () => {
    const a = r.account.alerts;
    expect(a.expected).toBeGreaterThan(0);
    expect([a.missing, a.unexpected, a.duplicateAlerts]).toEqual([[], [], 0]);
  });

  it('notifies each alert once per channel and runs no action twice', () => {
    const { notifications: n, actions } = r.account;
    for (const c of [n.slack, n.pagerduty, n.webhook]) expect([c.missing, c.duplicates]).toEqual([0, 0]);
    expect([actions.missing, actions.runTwice, actions.disables]).toEqual([0, 0, 0]);
    expect(actions.soarNotifications.duplicates).toBe(0);
  });
});
