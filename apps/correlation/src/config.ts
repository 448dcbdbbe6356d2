import { join } from 'node:path';
import { z } from 'zod';
import { DEFAULT_DECODE_LIMITS } from '@vigil/contracts';
import { kafkaEnvShape } from '@vigil/kafka';
import { redisEnvShape } from '@vigil/redis';
import { envBool, envInt, envLogLevel, envPort } from '@vigil/runtime';

/** The rules shipped with the service (apps/correlation/rules), relative to dist/ or src/. */
export const SHIPPED_RULES_DIR = join(__dirname, '..', 'rules');

/** Every correlation setting, from the environment, validated once at boot (docs/correlation.md). */
export const CorrelationEnvSchema = z.object({
  ...kafkaEnvShape,
  ...redisEnvShape,
  LOG_LEVEL: envLogLevel,
  HTTP_HOST: z.string().default('0.0.0.0'),
  HTTP_PORT: envPort(8082),
  /** Consumer group; default vigil-correlation (under VIGIL_TOPIC_NAMESPACE when set). */
  CORRELATION_GROUP_ID: z.string().min(1).optional(),
  CORRELATION_RULES_DIR: z.string().min(1).default(SHIPPED_RULES_DIR),
  CORRELATION_RULES_WATCH: envBool(true),
  CORRELATION_ALLOWED_LATENESS_SECONDS: envInt(60, 0, 86_400),
  CORRELATION_MAX_FUTURE_SECONDS: envInt(300, 0, 86_400),
  CORRELATION_MAX_MESSAGE_BYTES: envInt(DEFAULT_DECODE_LIMITS.maxBytes, 1024, 8 * 1024 * 1024),
  CORRELATION_MAX_DEPTH: envInt(DEFAULT_DECODE_LIMITS.maxDepth, 4, 256),
  CORRELATION_PARTITIONS_CONCURRENTLY: envInt(2, 1, 64),
  /**
   * Batches in evaluation at once while the consumer fetches on (0: one fetch's batches at a
   * time): Node decodes and plans one batch while Redis runs the window script of another.
   */
  CORRELATION_PIPELINE_DEPTH: envInt(8, 0, 64),
});
export type CorrelationEnv = z.infer<typeof CorrelationEnvSchema>;

export interface CorrelationConfig {
  env: CorrelationEnv;
  /** Raw environment, for secrets read after parsing (REDIS_PASSWORD[_FILE], KAFKA_SASL_PASSWORD[_FILE]). */
  raw: Record<string, string | undefined>;
}
