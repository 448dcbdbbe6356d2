import { z } from 'zod';
import { DEFAULT_DECODE_LIMITS } from '@vigil/contracts';
import { kafkaEnvShape } from '@vigil/kafka';
import { ConfigError, envInt, envLogLevel, envPort, readSecret } from '@vigil/runtime';
import type { IntegrityMode } from './domain/validate';
import { httpIngestEnvShape, httpIngestSettings, type HttpIngestSettings } from './http/config';

/** Every ingest setting, from the environment, validated once at boot (docs/configuration.md). */
export const IngestEnvSchema = z.object({
  ...kafkaEnvShape,
  LOG_LEVEL: envLogLevel,
  HTTP_HOST: z.string().default('0.0.0.0'),
  HTTP_PORT: envPort(8081),
  /** Consumer group; default vigil-ingest (under VIGIL_TOPIC_NAMESPACE when set). */
  INGEST_GROUP_ID: z.string().min(1).optional(),
  INGEST_MAX_MESSAGE_BYTES: envInt(DEFAULT_DECODE_LIMITS.maxBytes, 1024, 4 * 1024 * 1024),
  INGEST_MAX_DEPTH: envInt(DEFAULT_DECODE_LIMITS.maxDepth, 4, 256),
  INGEST_FUTURE_TOLERANCE_SECONDS: envInt(300, 0, 86_400),
  INGEST_INTEGRITY: z.enum(['off', 'verify', 'require']).optional(),
  INGEST_PARTITIONS_CONCURRENTLY: envInt(2, 1, 64),
  /** Worker threads that validate batches; 0 validates on the consumer's thread. */
  INGEST_WORKERS: envInt(1, 0, 16),
  /**
   * Raw batches being validated and produced at once, across partitions, while the consumer
   * fetches on (0: one fetch's batches at a time). Each is up to 1 MiB of raw events.
   */
  INGEST_PIPELINE_DEPTH: envInt(4, 0, 64),
  ...httpIngestEnvShape,
});
export type IngestEnv = z.infer<typeof IngestEnvSchema>;

export interface IngestConfig {
  env: IngestEnv;
  integrity: IntegrityMode;
  keys: Map<string, Buffer>;
  /** HEC / NDJSON over HTTP: set when INGEST_HEC_TOKENS is. */
  http?: HttpIngestSettings | undefined;
}

/**
 * INGEST_HMAC_KEYS (or INGEST_HMAC_KEYS_FILE): comma-separated `key_id=base64secret` pairs.
 * Several ids at once is how keys rotate: add the new one, move producers, drop the old one.
 */
export function parseHmacKeys(text: string | undefined): Map<string, Buffer> {
  const keys = new Map<string, Buffer>();
  if (!text) return keys;
  for (const part of text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const eq = part.indexOf('=');
    const id = eq > 0 ? part.slice(0, eq) : '';
    const secret = eq > 0 ? Buffer.from(part.slice(eq + 1), 'base64') : Buffer.alloc(0);
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(id)) throw new ConfigError('INGEST_HMAC_KEYS', 'each entry must be key_id=base64secret');
    if (secret.length < 32) throw new ConfigError('INGEST_HMAC_KEYS', `key "${id}" must decode to at least 32 bytes`);
    keys.set(id, secret);
  }
  return keys;
}

export function ingestConfig(env: IngestEnv, raw: Record<string, string | undefined> = process.env): IngestConfig {
  const keys = parseHmacKeys(readSecret(raw, 'INGEST_HMAC_KEYS'));
  const integrity: IntegrityMode = env.INGEST_INTEGRITY ?? (keys.size > 0 ? 'require' : 'off');
  if (integrity !== 'off' && keys.size === 0) throw new ConfigError('INGEST_HMAC_KEYS', `is required when INGEST_INTEGRITY=${integrity}`);
  return { env, integrity, keys, http: httpIngestSettings(env, raw) };
}
