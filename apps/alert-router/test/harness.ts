import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NotificationRecordSchema, type Alert, type NotificationRecord, type TopicNames } from '@vigil/contracts';
import { Redis } from '@vigil/redis';
import { Metrics, parseEnv, silentLogger } from '@vigil/runtime';
import { freshTopics, produceRaw, readTopic, testBrokers, testRedisUrl, uniqueName } from '@vigil/testing';
import { RouterEnvSchema, routerConfig } from '../src/config';
import { sampleAlert } from '../src/domain/testing';
import { AlertRouterService } from '../src/router.service';

export const ROUTER_TOPICS = ['alerts', 'alertsDlq', 'notifications', 'notificationsDlq'] as const;

/** One isolated world per test: fresh topics, a Redis prefix, a consumer group, a routes file. */
export interface World {
  namespace: string;
  topics: TopicNames;
  prefix: string;
  groupId: string;
  dir: string;
  routers: AlertRouterService[];
  redis: Redis;
}

export async function newWorld(): Promise<World> {
  const { namespace, topics } = await freshTopics(3, ROUTER_TOPICS);
  return {
    namespace,
    topics,
    prefix: `${uniqueName('ar')}:`,
    groupId: uniqueName('router'),
    dir: mkdtempSync(join(tmpdir(), 'alert-router-')),
    routers: [],
    redis: new Redis(testRedisUrl(), { lazyConnect: false, maxRetriesPerRequest: 2 }),
  };
}

export function writeRoutes(world: World, yaml: string): string {
  const file = join(world.dir, `routes-${world.routers.length}-${Date.now()}.yaml`);
  writeFileSync(file, yaml);
  return file;
}

/** Starts a router (a full AlertRouterService: consumer, scheduler, channels) against the world. */
export async function startRouter(
  world: World,
  routesFile: string,
  env: Record<string, string> = {},
  start = true,
): Promise<AlertRouterService> {
  const raw: Record<string, string> = {
    KAFKA_BROKERS: testBrokers().join(','),
    REDIS_URL: testRedisUrl(),
    REDIS_KEY_PREFIX: world.prefix,
    VIGIL_TOPIC_NAMESPACE: world.namespace,
    KAFKA_CREATE_TOPICS: 'false',
    ROUTER_GROUP_ID: world.groupId,
    ROUTER_ROUTES_FILE: routesFile,
    ROUTER_POLL_INTERVAL_MS: '50',
    ROUTER_BACKOFF_INITIAL_MS: '50',
    ROUTER_BACKOFF_MAX_MS: '500',
    ROUTER_LEASE_MS: '15000',
    LOG_LEVEL: 'silent',
    ...env,
  };
  const config = routerConfig(parseEnv(RouterEnvSchema, raw), raw);
  const router = new AlertRouterService(config, silentLogger(), new Metrics('alert-router', { defaultMetrics: false }));
  world.routers.push(router);
  if (start) await router.start();
  return router;
}

export async function closeWorld(world: World): Promise<void> {
  await Promise.allSettled(world.routers.map((r) => r.stop()));
  world.redis.disconnect();
}

/** A valid alert, created now, with a fresh id. */
export function alert(over: Partial<Alert> & { ruleId?: string } = {}): Alert {
  const now = new Date().toISOString();
  return sampleAlert({ alert_id: randomUUID(), created_at: now, last_event_at: now, first_event_at: now, ...over });
}

export async function produceAlerts(world: World, alerts: readonly Alert[]): Promise<void> {
  // Keyed by dedup key, as correlation does: one attack stays in one partition.
  const byKey = new Map<string, string[]>();
  for (const a of alerts) byKey.set(a.dedup_key, [...(byKey.get(a.dedup_key) ?? []), JSON.stringify(a)]);
  for (const [key, values] of byKey) await produceRaw(world.topics.alerts, values, key);
}

/** Delivery records on the notifications topic, validated by the contract. */
export async function records(world: World, count: number, settleMs = 0): Promise<NotificationRecord[]> {
  const msgs = await readTopic(world.topics.notifications, count, { timeoutMs: 20_000, settleMs });
  return msgs.map((m) => NotificationRecordSchema.parse(JSON.parse(m.value.toString('utf8'))));
}

export const WEBHOOK_SECRET = 'integration-webhook-secret-0123456789abcdef';
export const PD_KEY = 'INTEGRATIONR0UT1NGKEY00000000001';
