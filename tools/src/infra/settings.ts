import { resolve } from 'node:path';
import { z } from 'zod';
import { envBool, envInt, parseEnv } from '@vigil/runtime';

/** Where the infra script keeps jars, data, logs and pid files (git-ignored). */
export const InfraEnvSchema = z.object({
  VIGIL_INFRA_DIR: z.string().optional(),
  VIGIL_KAFKA_VERSION: z
    .string()
    .regex(/^4\.\d+\.\d+$/, 'must be a Kafka 4.x version such as 4.1.1')
    .default('4.1.1'),
  VIGIL_KAFKA_PORT: envInt(9092, 1, 65535),
  VIGIL_KAFKA_CONTROLLER_PORT: envInt(0, 0, 65535),
  VIGIL_KAFKA_HEAP: z
    .string()
    .regex(/^\d+[mg]$/, 'must look like 512m or 1g')
    .default('1g'),
  VIGIL_REDIS_PORT: envInt(6379, 1, 65535),
  /** Start Redis with an append-only file (appendfsync everysec), as production should run it. */
  VIGIL_REDIS_APPENDONLY: envBool(false),
  /** Set to use an existing broker instead of starting one. */
  KAFKA_BROKERS: z.string().optional(),
  /** Set to use an existing Redis instead of starting one. */
  REDIS_URL: z.string().optional(),
  /** Seconds to wait for the broker to answer a metadata request. */
  VIGIL_KAFKA_START_TIMEOUT: envInt(120, 5, 900),
});

export interface InfraSettings {
  root: string;
  dir: string;
  kafkaVersion: string;
  kafkaPort: number;
  controllerPort: number;
  kafkaHeap: string;
  redisPort: number;
  redisAppendOnly: boolean;
  externalBrokers: string | undefined;
  externalRedis: string | undefined;
  kafkaStartTimeoutMs: number;
}

export function infraSettings(root: string, env: Record<string, string | undefined> = process.env): InfraSettings {
  const e = parseEnv(InfraEnvSchema, env);
  return {
    root,
    dir: resolve(root, e.VIGIL_INFRA_DIR ?? '.cache/infra'),
    kafkaVersion: e.VIGIL_KAFKA_VERSION,
    kafkaPort: e.VIGIL_KAFKA_PORT,
    controllerPort: e.VIGIL_KAFKA_CONTROLLER_PORT || e.VIGIL_KAFKA_PORT + 1,
    kafkaHeap: e.VIGIL_KAFKA_HEAP,
    redisPort: e.VIGIL_REDIS_PORT,
    redisAppendOnly: e.VIGIL_REDIS_APPENDONLY,
    externalBrokers: e.KAFKA_BROKERS,
    externalRedis: e.REDIS_URL,
    kafkaStartTimeoutMs: e.VIGIL_KAFKA_START_TIMEOUT * 1000,
  };
}
