import { Schedule, messageSource } from './load';

// The generator builds the fault load's messages before its schedule starts and only stamps them
// as it sends. What it sends must be, byte for byte, what building each message at send time gives.

describe('the load messages, prebuilt and stamped at send', () => {
  const plan = { runId: '3f8a1c2e-9b7d-4e6f-8a1b-2c3d4e5f6a7b', rate: 1000, count: 3_000, attackEvery: 200, junkEvery: 50 };
  const schedule = new Schedule(plan);
  const stamp = (i: number) => new Date(Date.UTC(2026, 11, 8) + i * 7).toISOString();

  it('are the messages built at send time, for background, attack and malformed ones alike', () => {
    const prebuilt = messageSource(schedule, plan.count, plan.count);
    let attacks = 0;
    let junk = 0;
    for (let i = 0; i < plan.count; i++) {
      expect(prebuilt(i, stamp(i))).toEqual(schedule.message(i, stamp(i)));
      if (schedule.isAttack(i)) attacks++;
      if (schedule.isJunk(i)) junk++;
    }
    // The comparison covered every kind of message the load has.
    expect(attacks).toBeGreaterThan(0);
    expect(junk).toBeGreaterThan(0);
  });

  it('carry the timestamp they are sent with', () => {
    const prebuilt = messageSource(schedule, plan.count, plan.count);
    const background = [...Array(plan.count).keys()].find((i) => !schedule.isAttack(i) && !schedule.isJunk(i))!;
    const a = JSON.parse(prebuilt(background, '2026-12-08T01:00:00.000Z').value) as { timestamp: string };
    const b = JSON.parse(prebuilt(background, '2026-12-08T02:00:00.000Z').value) as { timestamp: string };
    expect([a.timestamp, b.timestamp]).toEqual(['2026-12-08T01:00:00.000Z', '2026-12-08T02:00:00.000Z']);
  });

  it('are built at send time above the prebuild limit', () => {
    const onDemand = messageSource(schedule, plan.count, 10);
    expect(onDemand(42, stamp(42))).toEqual(schedule.message(42, stamp(42)));
  });
});
