import { mkdirSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import type { InfraSettings } from './settings';
import { InfraError, readPid, say, sleep, spawnDaemon, stopGroup, tail } from './proc';
import { REDIS, ensureDebianPackages } from './packages';
import type { Started } from './kafka';

const C = 'redis';

function redisPaths(s: InfraSettings) {
  const home = join(s.dir, 'redis');
  return { home, log: join(home, 'redis.log'), pid: join(home, 'redis.pid') };
}

/** Sends PING and expects +PONG: the cheapest proof that a Redis answers. */
export function redisPing(host: string, port: number, timeoutMs = 1500): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createConnection({ host, port });
    let buf = '';
    const done = (v: boolean) => {
      sock.destroy();
      resolve(v);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.once('connect', () => sock.write('PING\r\n'));
    sock.on('data', (d) => {
      buf += d.toString();
      if (buf.includes('\r\n')) done(buf.startsWith('+PONG'));
    });
    sock.once('error', () => done(false));
  });
}

function parseRedisUrl(url: string): { host: string; port: number } {
  try {
    const u = new URL(url);
    return { host: u.hostname || '127.0.0.1', port: Number(u.port || 6379) };
  } catch {
    throw new InfraError(`REDIS_URL=${url} is not a URL (expected redis://host:port)`);
  }
}

export async function redisUp(s: InfraSettings): Promise<Started> {
  if (s.externalRedis) {
    const { host, port } = parseRedisUrl(s.externalRedis);
    if (!(await redisPing(host, port))) throw new InfraError(`REDIS_URL=${s.externalRedis} is set but nothing there answers PING`);
    say(C, `using REDIS_URL=${s.externalRedis}`);
    return { address: s.externalRedis, startedHere: false };
  }
  const url = `redis://127.0.0.1:${s.redisPort}`;
  const p = redisPaths(s);
  const ours = readPid(p.pid, 'redis-server');
  if (await redisPing('127.0.0.1', s.redisPort)) {
    say(C, ours ? `already running (pid ${ours}) on ${url}` : `reusing the Redis that answers on ${url}`);
    return { address: url, startedHere: false };
  }
  if (ours) await stopGroup(ours, 2_000);
  ensureDebianPackages([REDIS]);
  mkdirSync(p.home, { recursive: true });
  // No persistence locally unless asked for (VIGIL_REDIS_APPENDONLY, used by the fault suite to
  // run Redis as production should: docs/correlation.md, "Persistence").
  const pid = spawnDaemon(
    'redis-server',
    [
      '--port',
      String(s.redisPort),
      '--bind',
      '127.0.0.1',
      '--protected-mode',
      'yes',
      '--save',
      '',
      '--appendonly',
      s.redisAppendOnly ? 'yes' : 'no',
      '--appendfsync',
      'everysec',
      '--dir',
      p.home,
      '--daemonize',
      'no',
    ],
    { logFile: p.log, pidFile: p.pid },
  );
  for (let i = 0; i < 100; i++) {
    if (await redisPing('127.0.0.1', s.redisPort)) {
      say(C, `ready (pid ${pid}) on ${url}`);
      return { address: url, startedHere: true };
    }
    if (!readPid(p.pid, 'redis-server')) throw new InfraError(`redis-server exited during start-up:\n${tail(p.log)}`);
    await sleep(100);
  }
  await stopGroup(pid, 2_000);
  throw new InfraError(`redis-server did not answer PING within 10 s:\n${tail(p.log)}`);
}

export async function redisDown(s: InfraSettings): Promise<void> {
  const p = redisPaths(s);
  const pid = readPid(p.pid, 'redis-server');
  if (!pid) {
    say(C, 'not running (or not started by this script)');
    return;
  }
  await stopGroup(pid, 10_000);
  rmSync(p.pid, { force: true });
  say(C, `stopped (pid ${pid})`);
}

export async function redisStatus(s: InfraSettings): Promise<string> {
  if (s.externalRedis) {
    const { host, port } = parseRedisUrl(s.externalRedis);
    return `external REDIS_URL=${s.externalRedis} (${(await redisPing(host, port)) ? 'answering' : 'NOT answering'})`;
  }
  const pid = readPid(redisPaths(s).pid, 'redis-server');
  const answering = await redisPing('127.0.0.1', s.redisPort);
  return `${pid ? `pid ${pid}` : answering ? 'not ours' : 'not running'} on redis://127.0.0.1:${s.redisPort}${answering ? ' (answering)' : ''}`;
}
