import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { GeneratorConfig, GeneratorReport } from './generator';

/**
 * The load generator as a child process (its own event loop and CPU share, like a real producer),
 * with its progress reports in the parent: how many messages are acknowledged, how far behind.
 */
export class LoadProcess {
  last: GeneratorReport = { acked: 0, lagMs: 0, failedSends: 0 };
  readonly errors: string[] = [];
  readonly finished: Promise<GeneratorReport>;
  /** When the schedule's first message is due (epoch ms); undefined if the generator ended first. */
  readonly startsAt: Promise<number | undefined>;
  private readonly child: ChildProcess;
  private onStart: (at: number | undefined) => void = () => undefined;

  constructor(cfg: GeneratorConfig) {
    // Built next to this file; when this file runs from source (jest), the build's copy.
    const built = join(__dirname, 'generator.js');
    const script = existsSync(built) ? built : resolve(__dirname, '..', '..', 'dist', 'faults', 'generator.js');
    this.startsAt = new Promise((resolve) => (this.onStart = resolve));
    this.child = spawn(process.execPath, [script], {
      env: { ...process.env, VIGIL_LOAD: JSON.stringify(cfg) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      try {
        const r = JSON.parse(line) as GeneratorReport;
        if (r.error && this.errors.length < 20) this.errors.push(r.error);
        if (r.startsAt !== undefined) this.onStart(r.startsAt);
        this.last = r;
      } catch {
        // not a report line
      }
    });
    createInterface({ input: this.child.stderr! }).on('line', (line) => {
      if (this.errors.length < 20) this.errors.push(line);
    });
    this.finished = new Promise((resolve) => {
      this.child.once('exit', (code) => {
        this.onStart(undefined);
        resolve(this.last.done ? this.last : { ...this.last, done: true, error: `generator exited with ${code}` });
      });
    });
  }

  get acked(): number {
    return this.last.acked;
  }

  /** Resolves once `n` messages are acknowledged (or the generator ended). */
  async untilAcked(n: number): Promise<void> {
    let ended = false;
    void this.finished.then(() => (ended = true));
    while (this.last.acked < n && !ended) await new Promise((r) => setTimeout(r, 20));
  }

  stop(): void {
    if (this.child.exitCode === null) this.child.kill('SIGTERM');
  }
}
