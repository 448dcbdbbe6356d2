import { readFileSync } from 'node:fs';
import { Redis, type Cluster, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import { z } from 'zod';
import { ConfigError, envBool, readSecret, type Metrics } from '@vigil/runtime';
import { instrumentRedis } from './metrics';

export { Redis } from 'ioredis';
export * from './metrics';

/** The Redis part of a service's environment. */
export const redisEnvShape = {
  REDIS_URL: z
    .string()
    .default('redis://127.0.0.1:6379')
    .refine((v) => /^rediss?:\/\//.test(v), { message: 'must start with redis:// or rediss://' }),
  /** Prefix for every key this deployment writes (several environments on one Redis). */
  REDIS_KEY_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:._-]{0,64}$/)
    .default('vigil:'),
  REDIS_TLS_CA_FILE: z.string().optional(),
  REDIS_TLS_REJECT_UNAUTHORIZED: envBool(true),
};

export const RedisEnvSchema = z.object(redisEnvShape);
export type RedisEnv = z.infer<typeof RedisEnvSchema>;

/**
 * An ioredis client for a service. Commands fail after a few reconnect attempts instead of waiting
 * forever, so a batch handler sees the error and the consumer retries the batch without committing.
 * The password may come from REDIS_PASSWORD or REDIS_PASSWORD_FILE and is never logged.
 * With `metrics`, every command and round trip is counted in the shared Redis families
 * (`vigil_redis_commands_total`, `vigil_redis_round_trips_total`; see instrumentRedis).
 */
export function createRedis(
  env: RedisEnv,
  logger: Logger,
  name: string,
  raw: Record<string, string | undefined> = process.env,
  metrics?: Metrics,
): Redis {
  const password = readSecret(raw, 'REDIS_PASSWORD');
  const tls = env.REDIS_URL.startsWith('rediss://');
  let ca: string | undefined;
  if (env.REDIS_TLS_CA_FILE) {
    try {
      ca = readFileSync(env.REDIS_TLS_CA_FILE, 'utf8');
    } catch {
      throw new ConfigError('REDIS_TLS_CA_FILE', `cannot read ${env.REDIS_TLS_CA_FILE}`);
    }
  }
  const options: RedisOptions = {
    connectionName: name,
    maxRetriesPerRequest: 2,
    enableReadyCheck: true,
    retryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 5), 2_000),
    reconnectOnError: (err) => err.message.startsWith('READONLY'),
    ...(password ? { password } : {}),
    ...(tls ? { tls: { rejectUnauthorized: env.REDIS_TLS_REJECT_UNAUTHORIZED, ...(ca ? { ca } : {}) } } : {}),
  };
  const client = new Redis(env.REDIS_URL, options);
  if (metrics) instrumentRedis(client, metrics);
  const log = logger.child({ component: 'redis' });
  let wasReady = false;
  client.on('ready', () => {
    log.info({ reconnect: wasReady }, 'redis ready');
    wasReady = true;
  });
  client.on('error', (err: Error) => log.warn({ err: err.message }, 'redis error'));
  client.on('end', () => log.info('redis connection closed'));
  return client;
}

/** Readiness check for Health.register. */
export function redisReady(client: Redis): () => boolean {
  return () => client.status === 'ready';
}

/** Lua scripts by command name: [number of keys (absent: the caller passes it first), source]. */
export type ScriptTable = Readonly<Record<string, readonly [numberOfKeys: number | undefined, lua: string]>>;

/**
 * Defines each script once per client as an ioredis command, so each call sends EVALSHA (the
 * script's hash, not its text) and EVAL only after a NOSCRIPT (a Redis that restarted or flushed
 * its script cache). A name the client already has is left as it is: stores built on the same
 * client share the definitions.
 */
export function defineScripts(client: Redis | Cluster, scripts: ScriptTable): void {
  const has = client as unknown as Record<string, unknown>;
  for (const [name, [numberOfKeys, lua]] of Object.entries(scripts)) {
    if (typeof has[name] !== 'function') client.defineCommand(name, numberOfKeys === undefined ? { lua } : { numberOfKeys, lua });
  }
}
