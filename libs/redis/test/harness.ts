import { Metrics, silentLogger } from '@vigil/runtime';
import { testRedisUrl, waitFor } from '@vigil/testing';
import { Redis, RedisEnvSchema, createRedis } from '../src';

/** A client on the test Redis (REDIS_URL or the local one), instrumented into its own registry, once ready. */
export async function connectTestRedis(): Promise<{ redis: Redis; metrics: Metrics }> {
  const metrics = new Metrics('test', { defaultMetrics: false });
  const redis = createRedis(RedisEnvSchema.parse({ REDIS_URL: testRedisUrl() }), silentLogger(), 'vigil-test', {}, metrics);
  await waitFor('redis ready', () => redis.status === 'ready');
  return { redis, metrics };
}

export async function closeTestRedis(redis: Redis): Promise<void> {
  if (redis.status !== 'end') await redis.quit();
}

export type Counts = Map<string, number>;

/** Every series of a counter as "label=value,...", for deltas. */
export async function snapshot(metrics: Metrics, name: string): Promise<Counts> {
  const out: Counts = new Map();
  for (const v of (await metrics.registry.getSingleMetric(name)!.get()).values) {
    const key = Object.entries(v.labels)
      .filter(([k]) => k !== 'service')
      .map(([k, x]) => `${k}=${x}`)
      .join(',');
    out.set(key, v.value);
  }
  return out;
}
