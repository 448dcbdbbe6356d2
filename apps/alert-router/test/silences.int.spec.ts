import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NotificationSchema } from '@vigil/contracts';
import { Health, Metrics, silentLogger } from '@vigil/runtime';
import { startWebhookReceiverStandin, type WebhookReceiverStandin } from '@vigil/standins';
import { sleep, waitFor } from '@vigil/testing';
import { AlertRouterModule } from '../src/app.module';
import { hashToken } from '../src/config';
import { WEBHOOK_SECRET, alert, closeWorld, newWorld, produceAlerts, records, startRouter, writeRoutes, type World } from './harness';

const TOKEN = 'ops-token-for-integration-tests';

const ROUTES = `
route:
  receiver: webhook
  group_by: [rule, group.*]
  group_wait: 300ms
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: webhook
    webhook:
      url: \${HOOK_URL}
      secret: \${HOOK_SECRET}
`;

describe('silences: an authenticated API, persisted in Redis, muting what they match', () => {
  let world: World;
  let hook: WebhookReceiverStandin;
  let app: INestApplication;
  let base: string;

  beforeEach(async () => {
    world = await newWorld();
    hook = await startWebhookReceiverStandin({ secret: WEBHOOK_SECRET });
    const router = await startRouter(
      world,
      writeRoutes(world, ROUTES),
      { HOOK_URL: hook.url, HOOK_SECRET: WEBHOOK_SECRET, ROUTER_API_TOKENS: `ops:${hashToken(TOKEN)}` },
      false,
    );
    // The real Nest wiring: the module starts the router on bootstrap and serves the API.
    app = await NestFactory.create(
      AlertRouterModule.forRoot(
        {
          config: router.config,
          logger: silentLogger(),
          metrics: new Metrics('alert-router', { defaultMetrics: false }),
          health: new Health(),
        },
        router,
      ),
      { logger: false },
    );
    await app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}/api/v1/silences`;
  });

  afterEach(async () => {
    await app.close();
    world.routers.length = 0; // app.close() stopped the router
    await closeWorld(world);
    await hook.close();
  });

  const call = (method: string, path = '', body?: unknown, token: string | null = TOKEN) =>
    fetch(base + path, {
      method,
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });

  it('refuses requests without a valid bearer token', async () => {
    expect((await call('GET', '', undefined, null)).status).toBe(401);
    const wrong = await call('GET', '', undefined, 'not-the-token');
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toContain('Bearer');
    expect(
      (
        await call(
          'POST',
          '',
          { matchers: ['rule="x"'], ends_at: new Date(Date.now() + 60_000).toISOString(), created_by: 'a', comment: 'c' },
          'nope',
        )
      ).status,
    ).toBe(401);
    expect(await world.redis.hlen(world.routers[0]!.store.keys.silences)).toBe(0);
  });

  it('validates silences and answers with the paths of the problems', async () => {
    const res = await call('POST', '', { matchers: ['rule'], ends_at: 'tomorrow', created_by: 'a', comment: 'c' });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { issues: { path: string }[] };
    expect(body.issues.map((i) => i.path).sort()).toEqual(['ends_at', 'matchers[0]']);
  });

  it('mutes matching alerts while active, lists and expires them, and notifies again after expiry', async () => {
    const created = await call('POST', '', {
      matchers: ['rule="ssh_brute_force"'],
      ends_at: new Date(Date.now() + 3_600_000).toISOString(),
      created_by: 'alice',
      comment: 'pen test',
    });
    expect(created.status).toBe(201);
    const silence = (await created.json()) as { id: string; state: string; created_via: string };
    expect(silence).toMatchObject({ state: 'active', created_via: 'ops' });

    await produceAlerts(world, [alert({ severity: 'high' }), alert({ ruleId: 'port_scan', dedup_key: 'port_scan|x', severity: 'high' })]);
    const first = await records(world, 1, 1_000);
    expect(first).toHaveLength(1);
    expect(NotificationSchema.parse(hook.received[0]!.body).alerts.map((a) => a.rule_id)).toEqual(['port_scan']);
    await sleep(500);
    expect(hook.received).toHaveLength(1); // the silenced group sent nothing

    const listed = (await (await call('GET', '?state=active')).json()) as { silences: { id: string }[] };
    expect(listed.silences.map((s) => s.id)).toEqual([silence.id]);

    const expired = await call('DELETE', `/${silence.id}`);
    expect(expired.status).toBe(200);
    expect(await expired.json()).toMatchObject({ state: 'expired', expired_by: 'ops' });
    expect((await call('DELETE', `/${silence.id}`)).status).toBe(409);

    // The muted group is looked at again after group_interval and, no longer silenced, notifies.
    await waitFor('the formerly silenced group to notify', () => hook.received.length === 2, 15_000);
    expect(NotificationSchema.parse(hook.received[1]!.body).alerts.map((a) => a.rule_id)).toEqual(['ssh_brute_force']);
    const stored = await world.redis.hget(world.routers[0]!.store.keys.silences, silence.id);
    expect(JSON.parse(stored!)).toMatchObject({ expired_by: 'ops', created_by: 'alice' });
  });

  it('answers 404 for unknown silences', async () => {
    expect((await call('GET', '/00000000-0000-4000-8000-000000000000')).status).toBe(404);
    expect((await call('DELETE', '/not-a-uuid')).status).toBe(404);
  });
});
