import { spawn, spawnSync } from 'node:child_process';
import { existsSync, openSync, readFileSync, rmSync, writeFileSync, closeSync } from 'node:fs';
import { createConnection } from 'node:net';

/** A failure the user can act on: printed as one clear message, no stack. */
export class InfraError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InfraError';
  }
}

export function say(component: string, message: string): void {
  process.stdout.write(`[${component}] ${message}\n`);
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The command line of a process, to make sure a pid file still names our process. */
export function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}

export function readPid(file: string, mustContain: string): number | null {
  if (!existsSync(file)) return null;
  const pid = Number(readFileSync(file, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 1 || !isAlive(pid) || !cmdline(pid).includes(mustContain)) {
    rmSync(file, { force: true });
    return null;
  }
  return pid;
}

/** True when something accepts TCP connections on 127.0.0.1:port. */
export function portOpen(port: number, host = '127.0.0.1', timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createConnection({ port, host });
    const done = (v: boolean) => {
      sock.destroy();
      resolve(v);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

/** Who listens on a port, when `ss` can tell (for the "port taken" message). */
export function portOwner(port: number): string {
  const r = spawnSync('ss', ['-ltnpH', `sport = :${port}`], { encoding: 'utf8' });
  const m = /users:\(\("([^"]+)",pid=(\d+)/.exec(r.stdout ?? '');
  return m ? `${m[1]} (pid ${m[2]})` : 'another process';
}

/**
 * Starts a long-running server in its own process group, output to a log file. The pid file lets
 * `down` stop exactly what `up` started, and nothing else.
 */
export function spawnDaemon(
  cmd: string,
  args: string[],
  opts: { logFile: string; pidFile: string; cwd?: string; env?: NodeJS.ProcessEnv },
): number {
  const fd = openSync(opts.logFile, 'a');
  const child = spawn(cmd, args, { detached: true, stdio: ['ignore', fd, fd], cwd: opts.cwd, env: opts.env ?? process.env });
  closeSync(fd);
  if (child.pid === undefined) throw new InfraError(`could not start ${cmd}`);
  child.unref();
  writeFileSync(opts.pidFile, String(child.pid));
  return child.pid;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** SIGTERM to the process group, then SIGKILL if it has not gone after `graceMs`. */
export async function stopGroup(pid: number, graceMs: number): Promise<'stopped' | 'killed'> {
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-pid, sig);
    } catch {
      try {
        process.kill(pid, sig);
      } catch {
        // already gone
      }
    }
  };
  signal('SIGTERM');
  const until = Date.now() + graceMs;
  while (Date.now() < until) {
    if (!isAlive(pid)) return 'stopped';
    await sleep(200);
  }
  signal('SIGKILL');
  while (isAlive(pid)) await sleep(100);
  return 'killed';
}

/** Last lines of a log file, to show why a server failed to start. */
export function tail(file: string, lines = 25): string {
  if (!existsSync(file)) return '(no log)';
  const all = readFileSync(file, 'utf8').trimEnd().split('\n');
  return all.slice(-lines).join('\n');
}

export function which(bin: string): string | null {
  const r = spawnSync('sh', ['-c', 'command -v "$0"', bin], { encoding: 'utf8' });
  const out = r.stdout?.trim();
  return r.status === 0 && out ? out : null;
}
