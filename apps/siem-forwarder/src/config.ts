import { z } from 'zod';
import { kafkaEnvShape } from '@vigil/kafka';
import { ConfigError, envBool, envInt, envLogLevel, envPort, type BackoffPolicy } from '@vigil/runtime';
import { SINK_NAMES, type SinkName } from './delivery/sink';
import type { RunnerSettings } from './delivery/runner';
import { archiveEnvShape, archiveSettings, type ArchiveSettings } from './sinks/archive/config';
import { elasticsearchEnvShape, elasticsearchSettings, type ElasticsearchSettings } from './sinks/elasticsearch/config';
import { sentinelEnvShape, sentinelSettings, type SentinelSettings } from './sinks/sentinel/config';
import { splunkEnvShape, splunkSettings, type SplunkSettings } from './sinks/splunk/config';

/** Every forwarder setting, from the environment, validated once at boot (docs/siem-forwarder.md). */
export const ForwarderEnvSchema = z.object({
  ...kafkaEnvShape,
  LOG_LEVEL: envLogLevel,
  HTTP_HOST: z.string().default('0.0.0.0'),
  HTTP_PORT: envPort(8083),
  /** Which sinks run, comma-separated: splunk, elasticsearch, sentinel, archive. */
  SIEM_SINKS: z
    .string()
    .transform((v) => [
      ...new Set(
        v
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      ),
    ])
    .pipe(z.array(z.enum(SINK_NAMES, { message: `each sink must be one of ${SINK_NAMES.join(', ')}` })).min(1, 'name at least one sink')),
  /** Forward alerts (security.alerts.v1) as well as events. */
  SIEM_FORWARD_ALERTS: envBool(false),
  /** Consumer group per sink: <prefix>-<sink>; default prefix vigil-siem-forwarder (under VIGIL_TOPIC_NAMESPACE when set). */
  SIEM_GROUP_ID_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,200}$/)
    .optional(),
  /**
   * per-sink: one consumer group per sink reads the input (every event fetched and decoded once per
   * sink). shared: one group reads it once for every sink; a sink that has not taken its share of a
   * batch within SIEM_SPILL_AFTER_MS (down, slow) gets it through siem.forward.spill.v1 instead.
   */
  SIEM_READ_MODE: z.enum(['per-sink', 'shared']).default('shared'),
  /** Shared reading: how long a batch waits for a sink before that sink's unsent share is spilled. */
  SIEM_SPILL_AFTER_MS: envInt(10_000, 100, 600_000),
  SIEM_PARTITIONS_CONCURRENTLY: envInt(8, 1, 64),
  /** How long the group waits for a silent member before handing its partitions to others. */
  SIEM_SESSION_TIMEOUT_MS: envInt(30_000, 6_000, 300_000),
  SIEM_FETCH_MAX_BYTES_PER_PARTITION: envInt(1024 * 1024, 64 * 1024, 64 * 1024 * 1024),
  SIEM_MAX_MESSAGE_BYTES: envInt(4 * 1024 * 1024, 1024, 16 * 1024 * 1024),
  SIEM_MAX_DEPTH: envInt(32, 4, 256),
  SIEM_BATCH_MAX_EVENTS: envInt(500, 1, 10_000),
  SIEM_FLUSH_INTERVAL_MS: envInt(1_000, 1, 60_000),
  SIEM_MAX_IN_FLIGHT: envInt(2, 1, 64),
  SIEM_REQUEST_TIMEOUT_MS: envInt(30_000, 100, 600_000),
  SIEM_MAX_ATTEMPTS: envInt(10, 1, 1_000),
  SIEM_BACKOFF_INITIAL_MS: envInt(250, 1, 60_000),
  SIEM_BACKOFF_MAX_MS: envInt(30_000, 1, 3_600_000),
  SIEM_BREAKER_FAILURES: envInt(5, 1, 1_000),
  SIEM_BREAKER_OPEN_MS: envInt(30_000, 10, 3_600_000),
  SIEM_SHUTDOWN_GRACE_MS: envInt(5_000, 0, 120_000),
  /** Permit http:// sink URLs (local stand-ins, demos). TLS is the default. */
  SIEM_ALLOW_PLAINTEXT_HTTP: envBool(false),
  ...splunkEnvShape,
  ...elasticsearchEnvShape,
  ...sentinelEnvShape,
  ...archiveEnvShape,
});
export type ForwarderEnv = z.infer<typeof ForwarderEnvSchema>;

export interface ForwarderConfig {
  env: ForwarderEnv;
  sinks: SinkName[];
  splunk?: SplunkSettings;
  elasticsearch?: ElasticsearchSettings;
  sentinel?: SentinelSettings;
  archive?: ArchiveSettings;
  runner: RunnerSettings;
  /** Transport-security warnings, logged at start. */
  warnings: string[];
}

export function forwarderConfig(env: ForwarderEnv, raw: Record<string, string | undefined> = process.env): ForwarderConfig {
  // An outage must open the circuit (which stops spending attempts) before any item runs out of them.
  if (env.SIEM_MAX_ATTEMPTS < env.SIEM_BREAKER_FAILURES) {
    throw new ConfigError(
      'SIEM_MAX_ATTEMPTS',
      `must be at least SIEM_BREAKER_FAILURES (${env.SIEM_BREAKER_FAILURES}), or an outage dead-letters events before the circuit opens`,
    );
  }
  if (env.SIEM_BACKOFF_MAX_MS < env.SIEM_BACKOFF_INITIAL_MS)
    throw new ConfigError('SIEM_BACKOFF_MAX_MS', 'must be at least SIEM_BACKOFF_INITIAL_MS');
  const plain = env.SIEM_ALLOW_PLAINTEXT_HTTP;
  const config: ForwarderConfig = {
    env,
    sinks: env.SIEM_SINKS,
    runner: runnerSettings(env),
    warnings: [],
  };
  if (env.SIEM_SINKS.includes('splunk')) config.splunk = splunkSettings(env, plain, raw);
  if (env.SIEM_SINKS.includes('elasticsearch')) config.elasticsearch = elasticsearchSettings(env, plain, raw);
  if (env.SIEM_SINKS.includes('sentinel')) config.sentinel = sentinelSettings(env, plain, env.SIEM_FORWARD_ALERTS, raw);
  if (env.SIEM_SINKS.includes('archive')) config.archive = archiveSettings(env, raw);
  config.warnings = [...(config.splunk?.warnings ?? []), ...(config.elasticsearch?.warnings ?? []), ...(config.sentinel?.warnings ?? [])];
  return config;
}

function runnerSettings(env: ForwarderEnv): RunnerSettings {
  const backoff: BackoffPolicy = { initialMs: env.SIEM_BACKOFF_INITIAL_MS, maxMs: env.SIEM_BACKOFF_MAX_MS, jitter: 1 };
  return {
    lingerMs: env.SIEM_FLUSH_INTERVAL_MS,
    maxAttempts: env.SIEM_MAX_ATTEMPTS,
    backoff,
    breakerFailures: env.SIEM_BREAKER_FAILURES,
    breakerOpenMs: env.SIEM_BREAKER_OPEN_MS,
    maxInFlight: env.SIEM_MAX_IN_FLIGHT,
    shutdownGraceMs: env.SIEM_SHUTDOWN_GRACE_MS,
  };
}
