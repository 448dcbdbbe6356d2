import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError, envBool, envInt, readSecret } from '@vigil/runtime';

const HOST_PORT = /^[A-Za-z0-9.-]+:\d{1,5}$|^\[[0-9a-fA-F:]+\]:\d{1,5}$/;

/**
 * How long the broker may hold a fetch when there is nothing new. A fetch returns as soon as any
 * record arrives, so this costs no latency under traffic; idle, it sets how often every consumer
 * asks (and the broker answers) for nothing, and how long a stop or a rebalance may wait for the
 * fetch in flight. Kafka's own consumer defaults to 500 ms.
 */
export const DEFAULT_FETCH_MAX_WAIT_MS = 500;

/**
 * While a consumer is caught up, the shortest time between the starts of two of its fetches
 * (BatchConsumerOptions.minFetchIntervalMs): under a steady trickle, fewer and fuller batches.
 */
export const DEFAULT_FETCH_MIN_INTERVAL_MS = 0;

/** The Kafka part of every service's environment. */
export const kafkaEnvShape = {
  KAFKA_BROKERS: z
    .string()
    .default('127.0.0.1:9092')
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.string().regex(HOST_PORT, 'each broker must be host:port')).min(1, 'needs at least one broker')),
  KAFKA_CLIENT_ID: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,100}$/)
    .optional(),
  KAFKA_SSL: envBool(false),
  KAFKA_SSL_CA_FILE: z.string().optional(),
  KAFKA_SSL_CERT_FILE: z.string().optional(),
  KAFKA_SSL_KEY_FILE: z.string().optional(),
  KAFKA_SSL_REJECT_UNAUTHORIZED: envBool(true),
  KAFKA_SASL_MECHANISM: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']).optional(),
  KAFKA_SASL_USERNAME: z.string().optional(),
  /** Topic namespace: prefixes every topic name (tests, several environments on one cluster). */
  VIGIL_TOPIC_NAMESPACE: z
    .string()
    .regex(/^[a-zA-Z0-9][a-zA-Z0-9._-]{0,100}$/)
    .optional(),
  KAFKA_TOPIC_PARTITIONS: envInt(6, 1, 1000),
  KAFKA_TOPIC_REPLICATION: envInt(1, 1, 10),
  /** Let the service create its topics at start (the admin step); off when an operator owns them. */
  KAFKA_CREATE_TOPICS: envBool(true),
  KAFKA_FETCH_MAX_WAIT_MS: envInt(DEFAULT_FETCH_MAX_WAIT_MS, 10, 10_000),
  KAFKA_FETCH_MIN_INTERVAL_MS: envInt(DEFAULT_FETCH_MIN_INTERVAL_MS, 0, 1_000),
};

export const KafkaEnvSchema = z.object(kafkaEnvShape);
export type KafkaEnv = z.infer<typeof KafkaEnvSchema>;

export interface KafkaSettings {
  brokers: string[];
  clientId: string;
  ssl?: { ca?: string; cert?: string; key?: string; rejectUnauthorized: boolean } | undefined;
  sasl?: { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string } | undefined;
  namespace?: string | undefined;
  partitions: number;
  replication: number;
  createTopics: boolean;
}

function readPem(variable: string, file: string | undefined): string | undefined {
  if (!file) return undefined;
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(variable, `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}

/** Turns parsed env into client settings; reads TLS files and the SASL password (or its _FILE). */
export function kafkaSettings(
  env: KafkaEnv,
  defaultClientId: string,
  raw: Record<string, string | undefined> = process.env,
): KafkaSettings {
  let sasl: KafkaSettings['sasl'];
  if (env.KAFKA_SASL_MECHANISM) {
    const password = readSecret(raw, 'KAFKA_SASL_PASSWORD');
    if (!env.KAFKA_SASL_USERNAME) throw new ConfigError('KAFKA_SASL_USERNAME', 'is required when KAFKA_SASL_MECHANISM is set');
    if (!password) throw new ConfigError('KAFKA_SASL_PASSWORD', 'is required when KAFKA_SASL_MECHANISM is set');
    sasl = { mechanism: env.KAFKA_SASL_MECHANISM, username: env.KAFKA_SASL_USERNAME, password };
  }
  const ssl = env.KAFKA_SSL
    ? {
        ca: readPem('KAFKA_SSL_CA_FILE', env.KAFKA_SSL_CA_FILE),
        cert: readPem('KAFKA_SSL_CERT_FILE', env.KAFKA_SSL_CERT_FILE),
        key: readPem('KAFKA_SSL_KEY_FILE', env.KAFKA_SSL_KEY_FILE),
        rejectUnauthorized: env.KAFKA_SSL_REJECT_UNAUTHORIZED,
      }
    : undefined;
  return {
    brokers: env.KAFKA_BROKERS,
    clientId: env.KAFKA_CLIENT_ID ?? defaultClientId,
    ssl,
    sasl,
    namespace: env.VIGIL_TOPIC_NAMESPACE,
    partitions: env.KAFKA_TOPIC_PARTITIONS,
    replication: env.KAFKA_TOPIC_REPLICATION,
    createTopics: env.KAFKA_CREATE_TOPICS,
  };
}

/**
 * The consumer group a service joins. A group set explicitly is used as is; otherwise the
 * service's default group goes under the topic namespace, so that two deployments (or a test and a
 * demo) sharing a cluster never share a group and never take each other's partitions.
 */
export function consumerGroup(namespace: string | undefined, configured: string | undefined, fallback: string): string {
  if (configured) return configured;
  return namespace ? `${namespace}.${fallback}` : fallback;
}
