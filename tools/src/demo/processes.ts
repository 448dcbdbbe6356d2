import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface ServiceSpec {
  name: string;
  script: string;
  env: Record<string, string>;
  /** Health port, for the readiness wait. */
  port: number;
}

interface Running {
  spec: ServiceSpec;
  child: ChildProcess;
}

/**
 * The demo's service processes. Children stay in our process group and are stopped on exit, on
 * Ctrl-C and on a crash of the launcher, so nothing is left behind.
 */
export class ServiceSet {
  private readonly running: Running[] = [];

  start(spec: ServiceSpec, onLog: (name: string, line: string) => void): void {
    const child = spawn(process.execPath, [spec.script], { env: { ...process.env, ...spec.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    createInterface({ input: child.stdout! }).on('line', (l) => onLog(spec.name, l));
    createInterface({ input: child.stderr! }).on('line', (l) => onLog(spec.name, l));
    child.on('exit', (code, signal) => {
      if (code !== 0 && signal !== 'SIGTERM') onLog(spec.name, `{"level":"error","msg":"exited with ${code ?? signal}"}`);
    });
    this.running.push({ spec, child });
  }

  /** Process id of a running service, or undefined when it is not running. */
  pid(name: string): number | undefined {
    const r = this.find(name);
    return r && r.child.exitCode === null && r.child.signalCode === null ? r.child.pid : undefined;
  }

  /** Sends `signal` to one service (fault tests: SIGKILL mid-batch) and resolves once it has exited. */
  async kill(name: string, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const r = this.find(name);
    if (!r) throw new Error(`no service named ${name}`);
    const { child } = r;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    await exited;
  }

  /** Starts a service that has exited again, with the same spec (fault tests). */
  restart(name: string, onLog: (name: string, line: string) => void): void {
    const i = this.running.findIndex((x) => x.spec.name === name);
    const r = this.running[i];
    if (!r) throw new Error(`no service named ${name}`);
    if (r.child.exitCode === null && r.child.signalCode === null) throw new Error(`${name} is still running`);
    this.running.splice(i, 1);
    this.start(r.spec, onLog);
  }

  private find(name: string): Running | undefined {
    return this.running.find((x) => x.spec.name === name);
  }

  /** Resolves when every service answers /readyz with 200, or throws naming the laggards. */
  async waitReady(timeoutMs: number): Promise<void> {
    const until = Date.now() + timeoutMs;
    const pending = new Set(this.running.map((r) => r.spec));
    while (pending.size > 0) {
      for (const spec of [...pending]) {
        const r = this.running.find((x) => x.spec === spec)!;
        if (r.child.exitCode !== null) throw new Error(`${spec.name} exited during start-up (code ${r.child.exitCode})`);
        try {
          const res = await fetch(`http://127.0.0.1:${spec.port}/readyz`);
          if (res.status === 200) pending.delete(spec);
        } catch {
          // not listening yet
        }
      }
      if (pending.size === 0) break;
      if (Date.now() > until) throw new Error(`not ready after ${timeoutMs / 1000} s: ${[...pending].map((s) => s.name).join(', ')}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  async stopAll(): Promise<void> {
    await Promise.all(
      this.running.map(
        ({ child }) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
            child.once('exit', () => {
              clearTimeout(t);
              resolve();
            });
            child.kill('SIGTERM');
          }),
      ),
    );
  }
}
