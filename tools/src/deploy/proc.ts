import { spawn } from 'node:child_process';

/** A failed check: the message says what and where; deploy-check prints it and exits 1. */
export class CheckError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CheckError';
  }
}

export function say(msg: string): void {
  process.stdout.write(`[deploy-check] ${msg}\n`);
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  /** Use only `env`, not this process's environment. */
  cleanEnv?: boolean;
  input?: string;
  /** Printed every 15 s while the command runs, so a long first build never looks hung. */
  heartbeat?: string;
  /** Most bytes of stdout kept (rendered manifests are large; tool chatter is not). */
  maxOutput?: number;
}

/**
 * Runs a program (never a shell: arguments are passed as they are) and collects its output.
 * Resolves with the exit code; rejects only when the program cannot be started.
 */
export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const max = opts.maxOutput ?? 64 * 1024 * 1024;
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.cleanEnv ? opts.env : { ...process.env, ...opts.env },
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outBytes = 0;
    let errBytes = 0;
    child.stdout!.on('data', (c: Buffer) => {
      if (outBytes < max) out.push(c);
      outBytes += c.length;
    });
    child.stderr!.on('data', (c: Buffer) => {
      if (errBytes < 1024 * 1024) err.push(c);
      errBytes += c.length;
    });
    const started = Date.now();
    const timer = opts.heartbeat
      ? setInterval(() => say(`${opts.heartbeat} (${Math.round((Date.now() - started) / 1000)} s)`), 15_000)
      : undefined;
    child.on('error', (e) => {
      if (timer) clearInterval(timer);
      reject(new CheckError(`cannot run ${cmd}: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      if (timer) clearInterval(timer);
      resolve({
        code: code ?? (signal ? 128 : 1),
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
    if (opts.input !== undefined) child.stdin!.end(opts.input);
  });
}

/** Runs and throws a CheckError with the tail of the output when the exit code is not 0. */
export async function runOk(what: string, cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) throw new CheckError(`${what} failed (exit ${r.code}):\n${tail(r.stderr || r.stdout, 40)}`);
  return r;
}

export function tail(text: string, lines: number): string {
  const all = text.trimEnd().split('\n');
  return all.slice(-lines).join('\n');
}

/** Times one step and prints its duration. */
export async function step<T>(name: string, fn: () => Promise<T>, timings: Array<[string, number]>): Promise<T> {
  const started = Date.now();
  say(`${name} ...`);
  const result = await fn();
  const ms = Date.now() - started;
  timings.push([name, ms]);
  say(`${name}: ok (${(ms / 1000).toFixed(1)} s)`);
  return result;
}
