import { Test } from '@nestjs/testing';
import type { INestApplication } from '@nestjs/common';
import { AlertSchema, uuidV5, type Alert, type SecurityEvent } from '@vigil/contracts';
import { Health, Metrics, parseEnv, silentLogger } from '@vigil/runtime';
import { TEST_PRODUCER_OPTIONS, readTopic, testBrokers, testKafka, testRedisUrl, uniqueName } from '@vigil/testing';
import { CorrelationModule } from '../src/app.module';
import { CorrelationEnvSchema, SHIPPED_RULES_DIR } from '../src/config';
import { CorrelationMetrics } from '../src/metrics';
import { RuleRegistry } from '../src/rules/loader';

/** Integration-test harness: a correlation instance on the real broker and Redis, and a replayable attack scenario. */

export interface Instance {
  app: INestApplication;
  metrics: Metrics;
}

export async function startCorrelation(opts: {
  namespace: string;
  groupId: string;
  prefix: string;
  redisUrl?: string;
  env?: Record<string, string>;
}): Promise<Instance> {
  const raw: Record<string, string> = {
    KAFKA_BROKERS: testBrokers().join(','),
    VIGIL_TOPIC_NAMESPACE: opts.namespace,
    KAFKA_CREATE_TOPICS: 'false',
    CORRELATION_GROUP_ID: opts.groupId,
    CORRELATION_RULES_DIR: SHIPPED_RULES_DIR,
    CORRELATION_RULES_WATCH: 'false',
    REDIS_URL: opts.redisUrl ?? testRedisUrl(),
    REDIS_KEY_PREFIX: opts.prefix,
    ...opts.env,
  };
  const config = { env: parseEnv(CorrelationEnvSchema, raw), raw };
  const logger = silentLogger();
  const metrics = new Metrics('correlation', { defaultMetrics: false });
  const cm = new CorrelationMetrics(metrics);
  const rules = await RuleRegistry.load(SHIPPED_RULES_DIR, logger, cm);
  const moduleRef = await Test.createTestingModule({
    imports: [CorrelationModule.forRoot({ config, logger, metrics, health: new Health() }, { rules, metrics: cm })],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await app.init();
  return { app, metrics };
}

/** Produces events keyed by source IP, as ingest does (one attacking address stays in one partition). */
export async function produceEvents(topic: string, values: Array<SecurityEvent | string>): Promise<void> {
  const producer = testKafka().producer(TEST_PRODUCER_OPTIONS);
  await producer.connect();
  try {
    for (let i = 0; i < values.length; i += 500) {
      const chunk = values.slice(i, i + 500);
      await producer.send({
        topic,
        acks: -1,
        messages: chunk.map((v) =>
          typeof v === 'string' ? { key: 'handwritten', value: v } : { key: v.source.ip ?? v.event_id, value: JSON.stringify(v) },
        ),
      });
    }
  } finally {
    await producer.disconnect();
  }
}

export async function readAlerts(topic: string, count: number, settleMs = 1500): Promise<Alert[]> {
  const msgs = await readTopic(topic, count, { settleMs, timeoutMs: 40_000 });
  return msgs.map((m) => AlertSchema.parse(JSON.parse(m.value.toString())));
}

export async function metricValue(metrics: Metrics, name: string, labels: Record<string, string> = {}): Promise<number> {
  const json = await metrics.registry.getMetricsAsJSON();
  const family = json.find((f) => f.name === name);
  if (!family) return 0;
  return (family.values as Array<{ value: number; labels: Record<string, string | number> }>)
    .filter((v) => Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want))
    .reduce((n, v) => n + v.value, 0);
}

/** A fixed event-time origin an hour in the past: the scenario is a replay, not live traffic. */
export const BASE = Math.floor((Date.now() - 3600_000) / 1000) * 1000;

type Over = Partial<SecurityEvent>;

/**
 * Benign traffic plus one attack per shipped rule, then delivered out of order, with duplicates and
 * with two late stragglers that would complete a brute force if they were (wrongly) counted.
 */
export function scenario(tag: string, only?: ReadonlyArray<'A1' | 'A2' | 'A3' | 'A4' | 'A5' | 'A6' | 'benign' | 'late'>) {
  let n = 0;
  const want = (k: string) => !only || (only as string[]).includes(k);
  const ev = (sec: number, ip: string, user: string, over: Over): SecurityEvent => {
    const at = new Date(BASE + sec * 1000).toISOString();
    return {
      schema_version: 1,
      event_id: uuidV5(`scenario:${tag}:${n++}`),
      timestamp: at,
      received_at: at,
      event_type: 'authentication',
      severity: 'medium',
      source: { application: 'shop', ip },
      actor: { type: 'user', user_id: user },
      action: 'login',
      outcome: 'failure',
      details: {},
      tags: [],
      ...over,
    };
  };
  const auth = (sec: number, ip: string, user: string, outcome: 'failure' | 'success') => ev(sec, ip, user, { outcome });
  const denied = (sec: number, ip: string, user: string, resource: string) =>
    ev(sec, ip, user, { event_type: 'authorization', action: 'access', outcome: 'denied', target: { resource } });
  const read = (sec: number, ip: string, user: string) =>
    ev(sec, ip, user, { event_type: 'data_access', action: 'read', outcome: 'success', target: { resource: 'customers' } });
  const api = (sec: number, ip: string, code: number) =>
    ev(sec, ip, 'svc', {
      event_type: 'network_event',
      action: 'GET /api/orders',
      outcome: code < 400 ? 'success' : 'failure',
      details: { response_code: code },
    });

  const timeline: SecurityEvent[] = [];
  if (want('benign')) {
    for (let u = 1; u <= 20; u++) {
      const ip = `192.0.2.${u}`;
      const user = `user${u}`;
      const t = u * 37;
      if (u % 3 === 0) timeline.push(auth(t, ip, user, 'failure'), auth(t + 20, ip, user, 'failure'));
      timeline.push(auth(t + 30, ip, user, 'success'));
      for (let r = 0; r < 5; r++) timeline.push(read(t + 40 + r * 30, ip, user));
      timeline.push(denied(t + 50, ip, user, '/reports/q3'));
      if (u % 5 === 0) timeline.push(denied(t + 60, ip, user, '/admin/settings'), denied(t + 200, ip, user, '/Admin/settings'));
      timeline.push(api(t + 10, ip, 200), api(t + 70, ip, 200), api(t + 80, ip, 404), api(t + 90, ip, 401));
    }
  }
  // A1: brute force from one address on two accounts.
  if (want('A1')) for (let i = 0; i < 6; i++) timeline.push(auth(100 + i * 10, '203.0.113.10', i % 2 ? 'root' : 'admin', 'failure'));
  // A2: one user denied on admin resources, 4 times in 30 s.
  if (want('A2')) for (let i = 0; i < 4; i++) timeline.push(denied(200 + i * 10, '192.0.2.99', 'eve', `/admin/users/${i}`));
  // A3: one actor reading 120 times in 4 minutes, from three addresses (three partitions).
  if (want('A3')) for (let i = 0; i < 120; i++) timeline.push(read(300 + i * 2, `198.51.100.${1 + (i % 3)}`, 'mallory'));
  // A4: an API client refused 25 times in 50 s.
  if (want('A4')) for (let i = 0; i < 25; i++) timeline.push(api(600 + i * 2, '203.0.113.40', [401, 403, 429][i % 3]!));
  // A5: password spraying, 12 accounts from one address (also a brute force by address).
  if (want('A5')) for (let i = 0; i < 12; i++) timeline.push(auth(700 + i * 10, '203.0.113.50', `staff${i}`, 'failure'));
  // A6: five failures then a success for bob (also a brute force by address).
  if (want('A6')) {
    for (let i = 0; i < 5; i++) timeline.push(auth(900 + i * 10, '203.0.113.60', 'bob', 'failure'));
    timeline.push(auth(950, '203.0.113.60', 'bob', 'success'));
  }
  timeline.sort((a, b) => Date.parse(a.timestamp) - Date.parse(b.timestamp));

  // Out of order: a deterministic local shuffle (a few positions, well within the allowed lateness).
  const delivered = [...timeline];
  for (let i = 0; i + 3 < delivered.length; i += 4) {
    [delivered[i], delivered[i + 3]] = [delivered[i + 3]!, delivered[i]!];
  }
  // Duplicates: every 9th event delivered twice, the second copy a little later.
  for (let i = delivered.length - 1; i >= 0; i -= 9) delivered.splice(Math.min(delivered.length, i + 4), 0, delivered[i]!);
  // Late: four failures at 2000-2003 s, then two at 1800 s for the same address (behind the watermark
  // by more than the 60 s allowed lateness). Counted, the six would be a brute force.
  if (want('late')) {
    for (let i = 0; i < 4; i++) delivered.push(auth(2000 + i, '203.0.113.70', `late${i}`, 'failure'));
    delivered.push(auth(1800, '203.0.113.70', 'late8', 'failure'), auth(1801, '203.0.113.70', 'late9', 'failure'));
  }

  const expected = [
    want('A1') && 'brute_force_login|source.ip=203.0.113.10',
    want('A2') && 'privilege_escalation|actor.user_id=eve',
    want('A3') && 'data_exfiltration|actor.user_id=mallory',
    want('A4') && 'suspicious_api_activity|source.ip=203.0.113.40',
    want('A5') && 'password_spraying|source.ip=203.0.113.50',
    want('A5') && 'brute_force_login|source.ip=203.0.113.50',
    want('A6') && 'brute_force_login|source.ip=203.0.113.60',
    want('A6') && 'brute_force_success|source.ip=203.0.113.60|actor.user_id=bob',
  ].filter((x): x is string => typeof x === 'string');
  return { delivered, expected: expected.sort() };
}

export function uniquePrefix(): string {
  return `${uniqueName('corr')}:`;
}
