import { Metrics, silentLogger } from '@vigil/runtime';
import { testRedisUrl, uniqueName, waitFor } from '@vigil/testing';
import { Redis, RedisEnvSchema, createRedis, defineScripts } from './index';

type WithScripts = Redis & {
  vigilTestIncrBy(key: string, by: number): Promise<number>;
  vigilTestEcho(numberOfKeys: number, ...keysAndArgs: string[]): Promise<string[]>;
};

describe('defineScripts: Lua scripts as ioredis commands', () => {
  let redis: Redis;
  let metrics: Metrics;
  beforeEach(async () => {
    metrics = new Metrics('test', { defaultMetrics: false });
    redis = createRedis(RedisEnvSchema.parse({ REDIS_URL: testRedisUrl() }), silentLogger(), 'vigil-test', {}, metrics);
    await waitFor('redis ready', () => redis.status === 'ready');
  });
  afterEach(async () => {
    if (redis.status !== 'end') await redis.quit();
  });

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
    const calls = async (command: string) =>
      (await metrics.registry.getSingleMetric('vigil_redis_commands_total')!.get()).values
        .filter((v) => v.labels.command === command && v.labels.outcome === 'ok')
        .reduce((n, v) => n + v.value, 0);
    expect(await calls('evalsha')).toBeGreaterThan(0);
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
