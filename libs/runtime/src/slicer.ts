/**
 * Lets the event loop run during a long synchronous pass over a batch. A batch of a backlog holds
 * thousands of records; decoded in one go it keeps the thread for a hundred milliseconds or more,
 * while socket answers, heartbeats, timers and other consumers in the process wait. In the loop:
 *
 *     const slicer = new TimeSlicer(10);
 *     for (const m of messages) {
 *       if (slicer.due()) await slicer.pause();
 *       ...
 *     }
 *
 * The clock is read only every `checkEvery` calls, so a due() costs a counter increment.
 */
export class TimeSlicer {
  private readonly now: () => number;
  private readonly checkEvery: number;
  private sliceStart: number;
  private calls = 0;
  /** Times pause() gave the loop a turn. */
  pauses = 0;

  constructor(
    private readonly sliceMs: number,
    opts: { now?: () => number; checkEvery?: number } = {},
  ) {
    this.now = opts.now ?? (() => performance.now());
    this.checkEvery = Math.max(1, opts.checkEvery ?? 64);
    this.sliceStart = this.now();
  }

  /** True once this slice has run for sliceMs (looked at every checkEvery calls). */
  due(): boolean {
    if (++this.calls % this.checkEvery !== 0) return false;
    return this.now() - this.sliceStart >= this.sliceMs;
  }

  /** Lets everything already waiting on the event loop (I/O, timers, immediates) run, then starts a new slice. */
  async pause(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.pauses++;
    this.sliceStart = this.now();
  }
}
