import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { freshTopics, testBrokers } from '@vigil/testing';
import { LoadProcess } from '../../tools/src/faults/load-process';
import { Schedule, type LoadPlan } from '../../tools/src/faults/load';

/**
 * The load generator's own report, which `bench latency` reads to measure from the send as well
 * as from the schedule: every attack step once, never sent before it was due.
 */
const ROOT = resolve(__dirname, '..', '..');

describe('load generator', () => {
  beforeAll(() => {
    if (!existsSync(join(ROOT, 'tools', 'dist', 'faults', 'generator.js')))
      throw new Error('tools/dist/faults/generator.js is missing: build first (pnpm exec tsc -b tsconfig.build.json)');
  });

  const plan = (runId: string): LoadPlan => ({ runId, rate: 1_000, count: 1_500, attackEvery: 100, junkEvery: 0 });

  it('reports when it sent each attack step, once each, in order and not before the step was due', async () => {
    const { topics } = await freshTopics(1, ['eventsRaw']);
    const p = plan('generator-sends');
    const started = Date.now();
    const load = new LoadProcess({
      plan: p,
      brokers: testBrokers().join(','),
      topic: topics.eventsRaw,
      maxSeconds: 60,
      reportAttackSends: true,
    });
    const report = await load.finished;
    const ended = Date.now();
    expect(report.acked).toBe(p.count);
    // It said when its schedule starts: after it was spawned, once its messages were built.
    const startsAt = (await load.startsAt)!;
    expect(startsAt).toBeGreaterThanOrEqual(started);

    const schedule = new Schedule(p);
    const steps = Array.from({ length: p.count }, (_, i) => i).filter((i) => schedule.isAttack(i));
    expect(steps.length).toBeGreaterThan(20);
    const sends = report.attackSends ?? [];
    expect(sends.map(([i]) => i)).toEqual(steps);
    // Step i is due i / rate seconds after the schedule's start, and is not sent before.
    for (const [i, at] of sends) {
      expect(at).toBeGreaterThanOrEqual(startsAt + Math.floor((i * 1000) / p.rate));
      expect(at).toBeLessThanOrEqual(ended);
    }
    for (let k = 1; k < sends.length; k++) expect(sends[k]![1]).toBeGreaterThanOrEqual(sends[k - 1]![1]);
  });

  it('reports no sends unless asked (the fault suite keeps its reports small)', async () => {
    const { topics } = await freshTopics(1, ['eventsRaw']);
    const p = { ...plan('generator-quiet'), count: 300 };
    const report = await new LoadProcess({ plan: p, brokers: testBrokers().join(','), topic: topics.eventsRaw, maxSeconds: 60 }).finished;
    expect(report.acked).toBe(p.count);
    expect(report.attackSends).toBeUndefined();
  });
});
