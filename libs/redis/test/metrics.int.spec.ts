import type { Metrics } from '@vigil/runtime';
import { testRedisUrl, uniqueName, waitFor } from '@vigil/testing';
import { Redis, instrumentRedis } from '../src';
import { closeTestRedis, connectTestRedis, snapshot, type Counts } from './harness';

function delta(after: Counts, before: Counts): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of after) if (v !== (before.get(k) ?? 0)) out[k] = v - (before.get(k) ?? 0);
  return out;
}

describe('Redis metrics (createRedis with metrics)', () => {
  let metrics: Metrics;
  let redis: Redis;
  const key = (k: string) => `${uniqueName('redis-metrics')}:${k}`;

  beforeEach(async () => {
    ({ redis, metrics } = await connectTestRedis());
  });

  afterEach(() => closeTestRedis(redis));

  const measure = async (work: () => Promise<unknown>) => {
    const [c0, r0] = [await snapshot(metrics, 'vigil_redis_commands_total'), await snapshot(metrics, 'vigil_redis_round_trips_total')];
    await work();
    const [c1, r1] = [await snapshot(metrics, 'vigil_redis_commands_total'), await snapshot(metrics, 'vigil_redis_round_trips_total')];
    return { commands: delta(c1, c0), roundTrips: delta(r1, r0)[''] ?? 0 };
  };

  it('counts the connection handshake the client sends on its own', async () => {
    const commands = await snapshot(metrics, 'vigil_redis_commands_total');
    expect(commands.get('command=client,outcome=ok')).toBe(1); // CLIENT SETNAME vigil-test
    expect(commands.get('command=info,outcome=ok')).toBeGreaterThanOrEqual(1); // ready check
  });

  it('counts a command sent on its own as one command and one round trip', async () => {
    const k = key('single');
    expect(await measure(() => redis.set(k, 'v', 'PX', 10_000))).toEqual({ commands: { 'command=set,outcome=ok': 1 }, roundTrips: 1 });
  });

  it('counts every command of a pipeline but the pipeline as one round trip', async () => {
    const k = key('pipe');
    const r = await measure(() => redis.pipeline().set(k, '1', 'PX', 10_000).incr(k).get(k).exec());
    expect(r).toEqual({
      commands: { 'command=set,outcome=ok': 1, 'command=incr,outcome=ok': 1, 'command=get,outcome=ok': 1 },
      roundTrips: 1,
    });
  });

  it('counts MULTI, the queued commands and EXEC as one round trip', async () => {
    const k = key('multi');
    const r = await measure(() => redis.multi().set(k, 'a', 'PX', 10_000).get(k).exec());
    expect(r).toEqual({
      commands: { 'command=multi,outcome=ok': 1, 'command=set,outcome=ok': 1, 'command=get,outcome=ok': 1, 'command=exec,outcome=ok': 1 },
      roundTrips: 1,
    });
  });

  it('counts an error answer as outcome="error" and still as a round trip', async () => {
    const k = key('wrongtype');
    await redis.set(k, 'not a number', 'PX', 10_000);
    const r = await measure(() => redis.incr(k).catch((err: Error) => err.message));
    expect(r).toEqual({ commands: { 'command=incr,outcome=error': 1 }, roundTrips: 1 });
  });

  it('counts a Lua script as EVAL the first time on a connection, EVALSHA after', async () => {
    redis.defineCommand('vigilTestEcho', { numberOfKeys: 0, lua: 'return ARGV[1]' });
    const echo = (v: string) => (redis as unknown as { vigilTestEcho(v: string): Promise<string> }).vigilTestEcho(v);
    const r = await measure(async () => {
      expect(await echo('a')).toBe('a');
      expect(await echo('b')).toBe('b');
    });
    expect(r).toEqual({ commands: { 'command=eval,outcome=ok': 1, 'command=evalsha,outcome=ok': 1 }, roundTrips: 2 });
  });

  it('counts a command that got no answer as outcome="unavailable" and no round trip', async () => {
    await redis.quit();
    await waitFor('closed', () => redis.status === 'end');
    const r = await measure(() => redis.get(key('closed')).catch((err: Error) => err.message));
    expect(r).toEqual({ commands: { 'command=get,outcome=unavailable': 1 }, roundTrips: 0 });
  });

  it('shares the families between clients, and counts a command queued before the connection was up once', async () => {
    const other = new Redis(testRedisUrl(), { lazyConnect: true });
    instrumentRedis(other, metrics);
    try {
      // Sent before connecting: ioredis queues it offline and sends it again once ready.
      const r = await measure(async () => {
        await other.ping();
        await redis.ping();
      });
      expect(r.commands['command=ping,outcome=ok']).toBe(2);
    } finally {
      await other.quit();
    }
  });
});
