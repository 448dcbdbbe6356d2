import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { ResponseRecordSchema, type Alert, type ResponseRecord } from '@vigil/contracts';
import { Redis } from '@vigil/redis';
import { Health, Metrics, createLogger, parseEnv, startService } from '@vigil/runtime';
import { produceRaw, readTopic, testBrokers, testRedisUrl, uniqueName } from '@vigil/testing';
import { SoarModule } from '../src/app.module';
import { SoarEnvSchema, hashToken, soarConfig } from '../src/config';
import { SoarService } from '../src/service';

export const ANALYST_TOKEN = `analyst-${randomBytes(16).toString('hex')}`;
export const ADMIN_TOKEN = `admin-${randomBytes(16).toString('hex')}`;

export interface RunningSoar {
  app: INestApplication;
  url: string;
  service: SoarService;
  close(): Promise<void>;
}

/** Writes playbook files into a fresh folder and returns it. */
export function playbookDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'soar-pb-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

/** A unique Redis key prefix per test: runs, approvals and undos of one test never meet another's. */
export function redisPrefix(): string {
  return `${uniqueName('t')}:`;
}

/** Starts the real soar service (Nest, Kafka, Redis) in this process on a free port. */
export async function startSoar(env: Record<string, string>): Promise<RunningSoar> {
  const raw: Record<string, string> = {
    KAFKA_BROKERS: testBrokers().join(','),
    REDIS_URL: testRedisUrl(),
    KAFKA_CREATE_TOPICS: 'false',
    LOG_LEVEL: process.env.SOAR_TEST_LOG_LEVEL ?? 'silent',
    HTTP_HOST: '127.0.0.1',
    HTTP_PORT: '0',
    SOAR_POLL_MS: '100',
    SOAR_LEASE_MS: '3000',
    SOAR_RETRY_BASE_MS: '200',
    SOAR_RETRY_MAX_MS: '1000',
    SOAR_API_TOKENS: `carol:analyst:${hashToken(ANALYST_TOKEN)},root-admin:admin:${hashToken(ADMIN_TOKEN)}`,
    ...env,
  };
  const config = soarConfig(parseEnv(SoarEnvSchema, raw), raw);
  const logger = createLogger({ service: 'soar-test', level: raw.LOG_LEVEL });
  const metrics = new Metrics('soar', { defaultMetrics: false });
  const health = new Health();
  const app = await startService(SoarModule.forRoot({ config, logger, metrics, health }), {
    logger,
    health,
    port: 0,
    host: '127.0.0.1',
    bodyLimit: '16kb',
  });
  const addr = app.getHttpServer().address() as { port: number };
  return {
    app,
    url: `http://127.0.0.1:${addr.port}`,
    service: app.get(SoarService),
    close: () => app.close(),
  };
}

export function makeAlert(over: Partial<Alert> = {}): Alert {
  const now = new Date().toISOString();
  return {
    schema_version: 1,
    alert_id: randomUUID(),
    dedup_key: 'auth.brute_force|203.0.113.7',
    rule: {
      id: 'auth.brute_force',
      name: 'Brute force against login',
      description: 'Many failed logins from one address',
      kind: 'threshold',
    },
    severity: 'high',
    group: { 'source.ip': '203.0.113.7' },
    event_count: 25,
    first_event_at: now,
    last_event_at: now,
    sample_events: [],
    action: 'block_ip',
    tags: ['auth'],
    created_at: now,
    ...over,
  };
}

export async function publishAlerts(topic: string, alerts: Array<Alert | string>): Promise<void> {
  await produceRaw(
    topic,
    alerts.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))),
  );
}

/** Audit records on the responses topic, parsed with the contract (a record that does not parse fails the test). */
export async function readResponses(
  topic: string,
  count: number,
  opts: { timeoutMs?: number; settleMs?: number } = {},
): Promise<ResponseRecord[]> {
  const msgs = await readTopic(topic, count, {
    timeoutMs: opts.timeoutMs ?? 15_000,
    ...(opts.settleMs ? { settleMs: opts.settleMs } : {}),
  });
  return msgs.map((m) => ResponseRecordSchema.parse(JSON.parse(m.value.toString('utf8'))));
}

export async function api(
  base: string,
  path: string,
  token: string | null,
  init: { method?: string; body?: unknown } = {},
): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const res = await fetch(base + path, {
    method: init.method ?? 'GET',
    headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), 'Content-Type': 'application/json' },
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {}, headers: res.headers };
}

export function testRedis(): Redis {
  return new Redis(testRedisUrl(), { maxRetriesPerRequest: 2 });
}
