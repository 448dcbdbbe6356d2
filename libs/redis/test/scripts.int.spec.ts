import type { Metrics } from '@vigil/runtime';
import { uniqueName } from '@vigil/testing';
import { Redis, defineScripts } from '../src';
import { closeTestRedis, connectTestRedis, snapshot } from './harness';

type WithScripts = Redis & {
  vigilTestIncrBy(key: string, by: number): Promise<number>;
  vigilTestEcho(numberOfKeys: number, ...keysAndArgs: string[]): Promise<string[]>;
};

describe('defineScripts: Lua scripts as ioredis commands', () => {
  let redis: Redis;
  let metrics: Metrics;
  beforeEach(async () => {
    ({ redis, metrics } = await connectTestRedis());
  });
  afterEach(() => closeTestRedis(redis));

  it('defines fixed-key and caller-counted scripts that run as EVALSHA once Redis has them', async () => {
    defineScripts(redis, {
      vigilTestIncrBy: [1, "return redis.call('INCRBY', KEYS[1], ARGV[1])"],
      vigilTestEcho: [undefined, 'return {KEYS[1], ARGV[1]}'],
    });
    const r = redis as WithScripts;
    const key = uniqueName('scripts');
    expect(await r.vigilTestIncrBy(key, 2)).toBe(2);
    expect(await r.vigilTestIncrBy(key, 3)).toBe(5);
    expect(await r.vigilTestEcho(1, key, 'x')).toEqual([key, 'x']);
    expect((await snapshot(metrics, 'vigil_redis_commands_total')).get('command=evalsha,outcome=ok')).toBeGreaterThan(0);
    await redis.del(key);
  });

  it('leaves a name the client already has as it is', async () => {
    defineScripts(redis, { vigilTestIncrBy: [1, "return redis.call('INCRBY', KEYS[1], ARGV[1])"] });
    const first = (redis as WithScripts).vigilTestIncrBy;
    defineScripts(redis, { vigilTestIncrBy: [1, 'return -1'] });
    expect((redis as WithScripts).vigilTestIncrBy).toBe(first);
    const key = uniqueName('scripts');
    expect(await (redis as WithScripts).vigilTestIncrBy(key, 4)).toBe(4);
    await redis.del(key);
  });
});
