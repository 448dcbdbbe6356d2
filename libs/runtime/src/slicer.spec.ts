import { TimeSlicer } from './slicer';

describe('TimeSlicer', () => {
  it('is due only once a slice has run its time, looking at the clock every checkEvery calls', () => {
    let t = 1_000;
    const reads: number[] = [];
    const slicer = new TimeSlicer(10, {
      now: () => {
        reads.push(t);
        return t;
      },
      checkEvery: 4,
    });
    reads.length = 0;
    const seen: boolean[] = [];
    for (let i = 0; i < 8; i++) {
      t += 2; // each step "takes" 2 ms
      seen.push(slicer.due());
    }
    // the clock is read at calls 4 (t = 1 008: 8 ms in, not due) and 8 (t = 1 016: due)
    expect(seen).toEqual([false, false, false, false, false, false, false, true]);
    expect(reads).toEqual([1_008, 1_016]);
  });

  it('starts a new slice after a pause, and counts the pauses', async () => {
    let t = 0;
    const slicer = new TimeSlicer(5, { now: () => t, checkEvery: 1 });
    t = 6;
    expect(slicer.due()).toBe(true);
    await slicer.pause();
    expect(slicer.due()).toBe(false); // the slice restarted at t = 6
    t = 11;
    expect(slicer.due()).toBe(true);
    expect(slicer.pauses).toBe(1);
  });

  it('lets what waits on the event loop run during a pause', async () => {
    const order: string[] = [];
    const slicer = new TimeSlicer(0, { checkEvery: 1 });
    setImmediate(() => order.push('immediate queued before the pause'));
    const timer = new Promise<void>((resolve) => setTimeout(() => (order.push('timer that came due'), resolve()), 0));
    const started = Date.now();
    while (Date.now() - started < 5); // the timer is due by now
    if (slicer.due()) await slicer.pause();
    order.push('after the pause');
    await timer;
    expect(order.indexOf('immediate queued before the pause')).toBeLessThan(order.indexOf('after the pause'));
    expect(order.indexOf('timer that came due')).toBeLessThan(order.indexOf('after the pause'));
  });
});
