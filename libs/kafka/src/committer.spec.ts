import { silentLogger } from '@vigil/runtime';
import { OffsetCommitter, type PartitionOffset } from './committer';

/** A scripted OffsetCommit: each call waits for the test to answer it. */
function scriptedCommit() {
  const calls: Array<{ offsets: PartitionOffset[]; answer: (err?: Error) => void }> = [];
  const commit = (offsets: PartitionOffset[]) =>
    new Promise<void>((resolve, reject) => calls.push({ offsets, answer: (err) => (err ? reject(err) : resolve()) }));
  return { calls, commit };
}

const tick = () => new Promise((r) => setImmediate(r));
const short = (offsets: PartitionOffset[]) => offsets.map((o) => `${o.topic}/${o.partition}@${o.offset}`).sort();

describe('OffsetCommitter', () => {
  // Fake timers (the retry and interval waits); setImmediate stays real to let promises settle.
  beforeEach(() => jest.useFakeTimers({ doNotFake: ['setImmediate'] }));
  afterEach(() => jest.useRealTimers());
  it('keeps one commit in flight and sends the newest offset of every partition marked meanwhile in the next', async () => {
    const { calls, commit } = scriptedCommit();
    const c = new OffsetCommitter(commit, silentLogger(), 0);
    c.mark('t', 0, '5');
    await tick();
    expect(calls.map((x) => short(x.offsets))).toEqual([['t/0@5']]);
    c.mark('t', 0, '9');
    c.mark('t', 1, '3');
    c.mark('t', 0, '12');
    await tick();
    expect(calls).toHaveLength(1); // the first is still in flight
    calls[0]!.answer();
    await tick();
    expect(calls.map((x) => short(x.offsets))).toEqual([['t/0@5'], ['t/0@12', 't/1@3']]);
    calls[1]!.answer();
    await c.flush();
    expect(calls).toHaveLength(2);
    expect(c.waiting).toBe(0);
  });

  it('tries a failed commit again unless a newer offset of the partition was marked meanwhile', async () => {
    const { calls, commit } = scriptedCommit();
    const c = new OffsetCommitter(commit, silentLogger(), 0);
    c.mark('t', 0, '5');
    c.mark('t', 1, '7');
    await tick();
    c.mark('t', 0, '6');
    calls[0]!.answer(new Error('coordinator moved'));
    await tick();
    jest.advanceTimersByTime(1_000);
    await tick();
    expect(short(calls[1]!.offsets)).toEqual(['t/0@6', 't/1@7']);
    calls[1]!.answer();
    await tick();
    expect(calls).toHaveLength(2);
  });

  it('gives up after five failures in a row, so a dead consumer cannot keep it busy, and commits later marks afresh', async () => {
    const { calls, commit } = scriptedCommit();
    const c = new OffsetCommitter(commit, silentLogger(), 0);
    c.mark('t', 0, '5');
    for (let i = 0; i < 5; i++) {
      await tick();
      calls[i]!.answer(new Error('not a member'));
      await tick();
      jest.advanceTimersByTime(1_000);
    }
    await tick();
    expect(calls).toHaveLength(5);
    c.mark('t', 0, '8');
    await tick();
    expect(calls.map((x) => short(x.offsets))[5]).toEqual(['t/0@8']);
    calls[5]!.answer();
  });

  it('starts commits at least the interval apart; a flush ends a wait already begun, then waits no more', async () => {
    const { calls, commit } = scriptedCommit();
    const c = new OffsetCommitter(commit, silentLogger(), 100);
    c.mark('t', 0, '1');
    await tick();
    calls[0]!.answer();
    await tick();
    c.mark('t', 0, '2');
    await tick();
    jest.advanceTimersByTime(60);
    await tick();
    expect(calls).toHaveLength(1);
    jest.advanceTimersByTime(40);
    await tick();
    expect(short(calls[1]!.offsets)).toEqual(['t/0@2']);
    calls[1]!.answer();
    await tick();
    c.mark('t', 0, '3');
    const f = c.flush();
    jest.advanceTimersByTime(100); // the wait begun before the flush
    await tick();
    expect(short(calls[2]!.offsets)).toEqual(['t/0@3']);
    calls[2]!.answer();
    await f;
  });

  it('flush waits for the commit in flight and for what was marked during it; after flush a failure is not retried', async () => {
    const { calls, commit } = scriptedCommit();
    const c = new OffsetCommitter(commit, silentLogger(), 0);
    c.mark('t', 0, '1');
    await tick();
    c.mark('t', 0, '2');
    let flushed = false;
    const f = c.flush().then(() => (flushed = true));
    calls[0]!.answer();
    await tick();
    expect(flushed).toBe(false);
    expect(short(calls[1]!.offsets)).toEqual(['t/0@2']);
    calls[1]!.answer(new Error('leaving'));
    await f;
    expect(calls).toHaveLength(2);
  });
});
