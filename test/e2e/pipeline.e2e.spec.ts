import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseEnv } from '@vigil/runtime';
import { testBrokers, testRedisUrl, uniqueName, waitFor } from '@vigil/testing';
import { StandinsEnvSchema, startStandins, type RunningStandins } from '../../tools/src/standins';
import { Feed, alertKey } from '../../tools/src/demo/feed';
import { DEMO_TOKENS, demoKafka, startPipeline, type RunningPipeline } from '../../tools/src/demo/pipeline';
import { runScenario, type Expectation } from '../../tools/src/demo/scenario';

const ROOT = resolve(__dirname, '..', '..');
const BLOCK_SECONDS = 4;

// The shipped playbooks, with a block short enough to see it lifted within the test.
const PLAYBOOKS = {
  'brute-force.yaml': `
id: brute-force-containment
trigger:
  rule_id: [brute_force_login, password_spraying]
  action: block_ip
steps:
  - action: block_ip
    target: '{{ group["source.ip"] }}'
    duration: ${BLOCK_SECONDS}s
  - action: notify
    message: 'Blocked {{ group["source.ip"] }}'
    severity: medium
`,
  'account-takeover.yaml': `
id: account-takeover
trigger:
  rule_id: [brute_force_success, privilege_escalation]
  min_severity: high
steps:
  - action: disable_user
    target: '{{ group["actor.user_id"] }}'
    requires_approval: true
    approval_ttl: 10m
`,
};

describe('the whole pipeline, as processes, against real Kafka and Redis', () => {
  let standins: RunningStandins;
  let pipeline: RunningPipeline;
  let feed: Feed;
  let expected: Expectation;
  const logs: string[] = [];

  beforeAll(async () => {
    for (const svc of ['ingest', 'correlation', 'siem-forwarder', 'alert-router', 'soar']) {
      const main = join(ROOT, 'apps', svc, 'dist', 'main.js');
      if (!existsSync(main)) throw new Error(`${main} is missing: build first (pnpm exec tsc -b tsconfig.build.json)`);
    }
    const playbooks = mkdtempSync(join(tmpdir(), 'vigil-e2e-playbooks-'));
    for (const [name, text] of Object.entries(PLAYBOOKS)) writeFileSync(join(playbooks, name), text);
    standins = await startStandins(parseEnv(StandinsEnvSchema, { STANDINS_PORT_BASE: '28700' }));
    pipeline = await startPipeline({
      root: ROOT,
      brokers: testBrokers().join(','),
      redisUrl: testRedisUrl(),
      namespace: uniqueName('e2e'),
      standinsEnv: standins.env,
      portOffset: 20_000,
      overrides: { soar: { SOAR_PLAYBOOKS_DIR: playbooks } },
      onLog: (name, line) => logs.push(`[${name}] ${line}`),
    });
    const kafka = demoKafka(testBrokers().join(','));
    feed = new Feed(kafka, pipeline.topics, () => undefined);
    await feed.start();
    expected = await runScenario(kafka, pipeline.topics, testBrokers().join(','));
  });

  afterAll(async () => {
    await feed?.stop();
    await pipeline?.stop();
    await standins?.close();
    const errors = logs.filter((l) => /"level":"(error|fatal)"/.test(l));
    if (errors.length) console.warn(`service errors during the run:\n${errors.slice(0, 20).join('\n')}`);
  });

  it('validates every scenario event and dead-letters the malformed ones', async () => {
    await feed.until('all scenario events on the validated topic', (s) => expected.eventIds.every((id) => s.events.has(id)), 120_000);
    await feed.until('the malformed messages in the DLQ', (s) => s.rejected >= expected.rejected, 60_000);
    expect(feed.seen.rejected).toBe(expected.rejected);
  });

  it('delivers every event to Elasticsearch and Splunk, each document once', async () => {
    const es = standins.instances.elasticsearch;
    const splunk = standins.instances.splunk;
    await waitFor(
      'every event in Elasticsearch and Splunk',
      () => expected.eventIds.every((id) => es.doc(id) !== undefined && splunk.timesIndexed(id) > 0),
      120_000,
      250,
    );
    const esCreated = expected.eventIds.map((id) => es.statusesOf(id).filter((s) => s === 201).length);
    expect(esCreated.every((n) => n === 1)).toBe(true);
    expect(expected.eventIds.filter((id) => splunk.timesIndexed(id) !== 1)).toEqual([]);
  });

  it('raises each expected alert exactly once, and no other', async () => {
    await feed.until(
      'the expected alerts',
      (s) => expected.alerts.every((k) => s.alerts.some((a) => alertKey(a.rule.id, a.group) === k)),
      120_000,
    );
    // Give late duplicates a chance to show up before counting.
    await new Promise((r) => setTimeout(r, 3000));
    const raised = feed.seen.alerts.filter((a) => !a.rule.id.startsWith('soar:')).map((a) => alertKey(a.rule.id, a.group));
    expect([...new Set(raised)].sort()).toEqual([...expected.alerts].sort());
    const byId = new Map<string, number>();
    for (const a of feed.seen.alerts) byId.set(a.alert_id, (byId.get(a.alert_id) ?? 0) + 1);
    // At-least-once may redeliver an alert message; it must then carry the same id (one attack, one alert).
    expect(new Set(raised).size).toBe(new Set(feed.seen.alerts.filter((a) => !a.rule.id.startsWith('soar:')).map((a) => a.alert_id)).size);
  });

  it('sends one Slack message per alert group and one PagerDuty trigger per critical or high group', async () => {
    const alerts = () => feed.seen.alerts.filter((a) => !a.rule.id.startsWith('soar:'));
    const slack = standins.instances.slack;
    const pd = standins.instances.pagerduty;
    // The Slack message lists each alert as "alert `<id>`"; PagerDuty gets the alert's dedup key.
    const slackFor = (id: string) => slack.received.filter((m) => JSON.stringify(m.body).includes(`alert \`${id}\``)).length;
    const pdFor = (dedupKey: string) => pd.events.filter((e) => e.event_action === 'trigger' && e.dedup_key === dedupKey).length;
    const pages = (severity: string) => severity === 'critical' || severity === 'high';
    await waitFor(
      'Slack and PagerDuty notifications for every group',
      () => alerts().every((a) => slackFor(a.alert_id) >= 1 && (!pages(a.severity) || pdFor(a.dedup_key) >= 1)),
      120_000,
      250,
    );
    await new Promise((r) => setTimeout(r, 3000));
    const counts = alerts().map((a) => [a.rule.id, a.severity, slackFor(a.alert_id), pdFor(a.dedup_key)]);
    expect(counts).toEqual(alerts().map((a) => [a.rule.id, a.severity, 1, pages(a.severity) ? 1 : 0]));
  });

  it('blocks each brute-forcing address at the firewall and lifts the block when its time is up', async () => {
    const fw = standins.instances.firewall;
    const ok = (method: string, ip: string) =>
      fw.requests.some((r) => r.method === method && r.status < 300 && decodeURIComponent(r.path).includes(`/v1/blocks/${ip}`));
    await waitFor('every attacking address blocked', () => expected.blockedIps.every((ip) => ok('PUT', ip)), 120_000, 100);
    await waitFor('every block lifted', () => expected.blockedIps.every((ip) => ok('DELETE', ip)), 60_000, 200);
    expect([...fw.blocks.keys()].filter((k) => expected.blockedIps.some((ip) => k.startsWith(ip)))).toEqual([]);
    // Benign office addresses were never touched.
    expect(fw.requests.some((r) => decodeURIComponent(r.path).includes('10.20.0.'))).toBe(false);
  });

  it('holds disable_user until an admin approves it through the API, then runs it once', async () => {
    const scim = standins.instances.scim;
    const user = 'alice';
    await feed.until(
      `an approval request for ${user}`,
      (s) => s.responses.some((r) => r.event === 'approval_requested' && r.target === user),
      120_000,
    );
    const request = feed.seen.responses.find((r) => r.event === 'approval_requested' && r.target === user)!;
    const userOf = (name: string) => [...scim.users.values()].find((u) => u.userName === name);
    // Waiting: nothing was sent to the identity provider yet.
    expect(userOf(user)?.active).toBe(true);
    expect(scim.requests.filter((r) => r.method === 'PATCH')).toHaveLength(0);

    const base = `http://127.0.0.1:${pipeline.ports.soar}`;
    const unauthenticated = await fetch(`${base}/api/v1/approvals/${request.run_id}/approve`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{"step_index":0}',
    });
    expect(unauthenticated.status).toBe(401);
    const approve = await fetch(`${base}/api/v1/approvals/${request.run_id}/approve`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${DEMO_TOKENS.admin}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ step_index: request.step_index, comment: 'confirmed with the user by phone' }),
    });
    expect(approve.status).toBe(200);
    await waitFor(`${user} disabled at the identity provider`, () => userOf(user)?.active === false, 60_000, 100);
    await new Promise((r) => setTimeout(r, 2000));
    const patches = scim.requests.filter((r) => r.method === 'PATCH' && r.status < 300);
    expect(patches).toHaveLength(1);
    expect(feed.seen.responses.some((r) => r.event === 'approved' && r.target === user && r.actor.name === 'admin')).toBe(true);
    // bob's request is still waiting: one approval does not approve another.
    expect(userOf('bob')?.active).toBe(true);
  });
});
