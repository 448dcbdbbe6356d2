import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { z } from 'zod';
import { DEFAULT_DECODE_LIMITS } from '@vigil/contracts';
import { kafkaEnvShape } from '@vigil/kafka';
import { redisEnvShape } from '@vigil/redis';
import { ConfigError, envInt, envLogLevel, envPort, readSecret } from '@vigil/runtime';

/** The routes file shipped with the service: critical/high → PagerDuty + Slack, medium → Slack, all → webhook. */
export const DEFAULT_ROUTES_FILE = resolve(__dirname, '../config/routes.yaml');

/** Every alert-router setting from the environment, validated once at boot (docs/alert-router.md). */
export const RouterEnvSchema = z.object({
  ...kafkaEnvShape,
  ...redisEnvShape,
  LOG_LEVEL: envLogLevel,
  HTTP_HOST: z.string().default('0.0.0.0'),
  HTTP_PORT: envPort(8084),
  /** Consumer group; default vigil-alert-router (under VIGIL_TOPIC_NAMESPACE when set). */
  ROUTER_GROUP_ID: z.string().min(1).optional(),
  ROUTER_ROUTES_FILE: z.string().min(1).default(DEFAULT_ROUTES_FILE),
  ROUTER_MAX_MESSAGE_BYTES: envInt(DEFAULT_DECODE_LIMITS.maxBytes, 1024, 16 * 1024 * 1024),
  ROUTER_PARTITIONS_CONCURRENTLY: envInt(2, 1, 64),
  /** How often each instance polls Redis for due groups and due deliveries. */
  ROUTER_POLL_INTERVAL_MS: envInt(250, 10, 60_000),
  /** Most groups or deliveries one poll claims. */
  ROUTER_CLAIM_BATCH: envInt(50, 1, 1_000),
  /** A claimed group or delivery is another instance's to take over after this long. */
  ROUTER_LEASE_MS: envInt(120_000, 1_000, 3_600_000),
  ROUTER_DELIVERY_CONCURRENCY: envInt(8, 1, 256),
  /** Give up on a notification after this many failed attempts (429 / Retry-After answers not counted) ... */
  ROUTER_MAX_ATTEMPTS: envInt(8, 1, 100),
  /** ... or once it is this old, whichever comes first. */
  ROUTER_MAX_DELIVERY_AGE_SECONDS: envInt(3_600, 1, 7 * 86_400),
  ROUTER_BACKOFF_INITIAL_MS: envInt(1_000, 1, 3_600_000),
  ROUTER_BACKOFF_MAX_MS: envInt(300_000, 1, 3_600_000),
  /** Consecutive failures that open a receiver's circuit, and how long it stays open. */
  ROUTER_CIRCUIT_FAILURES: envInt(5, 1, 1_000),
  ROUTER_CIRCUIT_OPEN_MS: envInt(30_000, 100, 3_600_000),
  /** How long the notification log remembers a settled notification. */
  ROUTER_NFLOG_TTL_SECONDS: envInt(7 * 86_400, 60, 90 * 86_400),
});
export type RouterEnv = z.infer<typeof RouterEnvSchema>;

/** A silences-API token: its name (recorded on the silences it creates) and the sha256 of its value. */
export interface ApiToken {
  name: string;
  sha256: Buffer;
}

export interface RouterConfig {
  env: RouterEnv;
  apiTokens: ApiToken[];
  /** Resolves ${NAME} in the routes file: NAME or NAME_FILE from the process environment. */
  readSecret: (name: string) => string | undefined;
}

/**
 * ROUTER_API_TOKENS (or ROUTER_API_TOKENS_FILE): comma-separated `name:sha256hex` pairs. Only the
 * hashes are configured, so the environment never holds a usable token; make one with
 * `printf %s "$TOKEN" | sha256sum`.
 */
export function parseApiTokens(text: string | undefined): ApiToken[] {
  if (!text) return [];
  const out: ApiToken[] = [];
  for (const part of text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const m = /^([A-Za-z0-9._-]{1,64}):([0-9a-fA-F]{64})$/.exec(part);
    if (!m) throw new ConfigError('ROUTER_API_TOKENS', 'each entry must be name:sha256hex (64 hex digits)');
    if (out.some((t) => t.name === m[1])) throw new ConfigError('ROUTER_API_TOKENS', `token name "${m[1]}" appears twice`);
    out.push({ name: m[1]!, sha256: Buffer.from(m[2]!, 'hex') });
  }
  return out;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function routerConfig(env: RouterEnv, raw: Record<string, string | undefined> = process.env): RouterConfig {
  return {
    env,
    apiTokens: parseApiTokens(readSecret(raw, 'ROUTER_API_TOKENS')),
    readSecret: (name) => readSecret(raw, name),
  };
}
