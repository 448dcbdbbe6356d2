import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { topicNames, type TopicNames } from '@vigil/contracts';
import { createKafka, ensureTopics } from '@vigil/kafka';
import { createLogger } from '@vigil/runtime';
import { ServiceSet, type ServiceSpec } from './processes';

/** Demo credentials for the APIs; only their SHA-256 reaches the services. */
export const DEMO_TOKENS = {
  admin: 'vigil-demo-admin-token',
  analyst: 'vigil-demo-analyst-token',
  silences: 'vigil-demo-silences-token',
} as const;

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

export const SERVICE_PORTS = { ingest: 8081, correlation: 8082, 'siem-forwarder': 8083, 'alert-router': 8084, soar: 8085 } as const;
export type ServiceName = keyof typeof SERVICE_PORTS;

export interface PipelineOptions {
  root: string;
  brokers: string;
  redisUrl: string;
  /** Topic namespace and Redis key prefix of this run: a fresh one means fresh state. */
  namespace: string;
  /** Environment that points the services at the SaaS stand-ins (startStandins().env). */
  standinsEnv: Record<string, string>;
  /** Per-service overrides (e.g. a test's own playbooks folder). */
  overrides?: Partial<Record<ServiceName, Record<string, string>>>;
  /** Port offset, so a test run does not collide with a demo on the default ports. */
  portOffset?: number;
  /** Start only these services (a bench of part of the pipeline); default all five. */
  only?: readonly ServiceName[];
  logLevel?: string;
  onLog: (service: string, line: string) => void;
}

export interface RunningPipeline {
  topics: TopicNames;
  ports: Record<ServiceName, number>;
  services: ServiceSet;
  stop(): Promise<void>;
}

/**
 * Starts the five services as processes against one Kafka and Redis, wired to the stand-ins,
 * after creating their topics (the admin step, so no two services race to create them).
 */
export async function startPipeline(o: PipelineOptions): Promise<RunningPipeline> {
  const topics = topicNames(o.namespace);
  const logger = createLogger({ service: 'launcher', level: 'warn' });
  await ensureTopics(
    createKafka({ brokers: o.brokers.split(','), clientId: 'vigil-launcher', partitions: 3, replication: 1, createTopics: true }, logger),
    logger,
    {
      namespace: o.namespace,
      partitions: 3,
      replication: 1,
    },
  );
  const offset = o.portOffset ?? 0;
  const ports = Object.fromEntries(Object.entries(SERVICE_PORTS).map(([k, p]) => [k, p + offset])) as Record<ServiceName, number>;
  const common: Record<string, string> = {
    ...o.standinsEnv,
    KAFKA_BROKERS: o.brokers,
    REDIS_URL: o.redisUrl,
    VIGIL_TOPIC_NAMESPACE: o.namespace,
    REDIS_KEY_PREFIX: `vigil:${o.namespace}:`,
    KAFKA_CREATE_TOPICS: 'false',
    LOG_LEVEL: o.logLevel ?? 'warn',
    HTTP_HOST: '127.0.0.1',
  };
  const perService: Record<ServiceName, Record<string, string>> = {
    ingest: {},
    correlation: {},
    'siem-forwarder': { SIEM_SINKS: 'splunk,elasticsearch,sentinel', SIEM_FORWARD_ALERTS: 'true', SIEM_FLUSH_INTERVAL_MS: '500' },
    'alert-router': {
      ROUTER_ROUTES_FILE: join(o.root, 'deploy/local/routes.yaml'),
      ROUTER_API_TOKENS: `demo:${sha256(DEMO_TOKENS.silences)}`,
    },
    soar: {
      SOAR_API_TOKENS: `admin:admin:${sha256(DEMO_TOKENS.admin)},analyst:analyst:${sha256(DEMO_TOKENS.analyst)}`,
      SOAR_CONNECTOR_IP: 'firewall',
      SOAR_DENYLIST_KEY: `vigil:${o.namespace}:denylist`,
    },
  };
  const set = new ServiceSet();
  const names = (Object.keys(SERVICE_PORTS) as ServiceName[]).filter((name) => !o.only || o.only.includes(name));
  const specs: ServiceSpec[] = names.map((name) => ({
    name,
    script: join(o.root, 'apps', name, 'dist', 'main.js'),
    port: ports[name],
    env: { ...common, ...perService[name], ...(o.overrides?.[name] ?? {}), HTTP_PORT: String(ports[name]) },
  }));
  for (const spec of specs) set.start(spec, o.onLog);
  try {
    await set.waitReady(120_000);
  } catch (err) {
    await set.stopAll();
    throw err;
  }
  return { topics, ports, services: set, stop: () => set.stopAll() };
}

export function demoKafka(brokers: string): Kafka {
  return new Kafka({ clientId: 'vigil-demo', brokers: brokers.split(','), logLevel: logLevel.NOTHING });
}
