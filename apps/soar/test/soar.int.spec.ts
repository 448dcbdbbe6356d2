import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AlertSchema, DlqRecordSchema, SOAR_NOTIFY_TAG, type ResponseRecord, type TopicNames } from '@vigil/contracts';
import { DenyList } from '@vigil/security-logger';
import { startFirewallStandin, startScimStandin, type FirewallStandin, type ScimStandin } from '@vigil/standins';
import { freshTopics, readTopic, uniqueName, waitFor, type ReadMessage } from '@vigil/testing';
import type { Redis } from '@vigil/redis';
import {
  ADMIN_TOKEN,
  ANALYST_TOKEN,
  api,
  makeAlert,
  playbookDir,
  publishAlerts,
  readResponses,
  redisPrefix,
  startSoar,
  testRedis,
  type RunningSoar,
} from './harness';

const FW_TOKEN = 'fw-token-for-tests';
const SCIM_TOKEN = 'scim-token-for-tests';

const BRUTE_FORCE = `
id: brute-force-containment
description: Block brute-force sources at the firewall and in applications, then tell the SOC
trigger:
  rule_id: auth.brute_force
  action: block_ip
steps:
  - name: block at the firewall
    action: block_ip
    target: '{{ group["source.ip"] }}'
    connector: firewall
    duration: 2s
  - name: deny in applications
    action: block_ip
    target: '{{ group["source.ip"] }}'
    connector: denylist
    duration: 2s
  - action: notify
    message: 'Blocked {{ group["source.ip"] }} after {{ event_count }} failed logins'
    severity: medium
`;

const TAKEOVER = `
id: account-takeover
trigger:
  rule_id: auth.account_takeover
steps:
  - action: disable_user
    target: '{{ group["actor.user_id"] }}'
    requires_approval: true
    approval_ttl: 5m
`;

const events = (rs: readonly ResponseRecord[]) => rs.map((r) => r.event);

interface Env {
  topics: TopicNames;
  prefix: string;
  fw: FirewallStandin;
  scim: ScimStandin;
  redis: Redis;
  running: RunningSoar[];
  envFor(playbooks: Record<string, string>, extra?: Record<string, string>): Record<string, string>;
}

async function setUp(): Promise<Env> {
  const { namespace, topics } = await freshTopics(2, ['alerts', 'alertsDlq', 'responses']);
  const prefix = redisPrefix();
  const fw = await startFirewallStandin({ token: FW_TOKEN });
  const scim = await startScimStandin({ token: SCIM_TOKEN });
  const group = uniqueName('soar');
  return {
    topics,
    prefix,
    fw,
    scim,
    redis: testRedis(),
    running: [],
    envFor: (playbooks, extra = {}) => ({
      VIGIL_TOPIC_NAMESPACE: namespace,
      REDIS_KEY_PREFIX: prefix,
      SOAR_GROUP_ID: group,
      SOAR_PLAYBOOKS_DIR: playbookDir(playbooks),
      SOAR_DENYLIST_KEY: `${prefix}denylist`,
      SOAR_NEVER_BLOCK: '10.0.0.0/8,192.0.2.0/24',
      SOAR_CONNECTOR_IP: 'firewall',
      FIREWALL_URL: fw.url,
      FIREWALL_TOKEN: FW_TOKEN,
      SCIM_URL: scim.url,
      SCIM_TOKEN: SCIM_TOKEN,
      ...extra,
    }),
  };
}

async function tearDown(env: Env): Promise<void> {
  for (const s of env.running) await s.close().catch(() => undefined);
  await env.fw.close();
  await env.scim.close();
  env.redis.disconnect();
}

/** The sum of a family's samples in Prometheus text that carry all the given labels (in any order). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const has = new Set((m[2] ?? '').match(/[a-z_]+="[^"]*"/g) ?? []);
    if (Object.entries(labels).every(([k, v]) => has.has(`${k}="${v}"`))) sum += Number(m[3]);
  }
  return sum;
}

describe('soar end to end with real Kafka and Redis', () => {
  let env: Env;
  beforeEach(async () => {
    env = await setUp();
  });
  afterEach(() => tearDown(env));

  it('blocks a brute-force source within seconds, tells the router, and lifts the block when the duration ends', async () => {
    const soar = await startSoar(env.envFor({ 'brute.yaml': BRUTE_FORCE }));
    env.running.push(soar);
    const denyList = new DenyList({ redis: env.redis, key: `${env.prefix}denylist`, refreshMs: 100 });
    const alert = makeAlert({ group: { 'source.ip': '203.0.113.77' } });
    await publishAlerts(env.topics.alerts, [alert]);

    await waitFor('the firewall to hold the block', () => env.fw.blocks.has('203.0.113.77'), 15_000, 50);
    expect(env.fw.blocks.get('203.0.113.77')).toMatchObject({ expiresInSeconds: 2 });
    await waitFor('the SDK deny-list to refuse the address', async () => {
      await denyList.refresh();
      return denyList.isBlocked('203.0.113.77');
    });
    expect(denyList.isBlocked('203.0.113.78')).toBe(false);

    await waitFor('the firewall block to be lifted', () => !env.fw.blocks.has('203.0.113.77'), 15_000, 50);
    await waitFor('the deny-list entry to be gone', async () => {
      await denyList.refresh();
      return !denyList.isBlocked('203.0.113.77');
    });
    // The SDK stops honouring an entry at its expiry score; the undo removes it a moment later.
    await waitFor('the undo to remove the deny-list entry', async () => (await env.redis.zcard(`${env.prefix}denylist`)) === 0);
    expect(env.fw.requests.map((r) => `${r.method} ${r.status}`)).toEqual(['PUT 201', 'DELETE 204']);

    const records = await readResponses(env.topics.responses, 12, { settleMs: 500 });
    expect(records).toHaveLength(12);
    expect(new Set(events(records))).toEqual(
      new Set(['run_started', 'step_requested', 'step_succeeded', 'undo_scheduled', 'run_finished', 'undo_succeeded']),
    );
    const ok = records.filter((r) => r.event === 'step_succeeded');
    expect(ok.map((r) => [r.action, r.connector, r.target ?? null])).toEqual([
      ['block_ip', 'firewall', '203.0.113.77'],
      ['block_ip', 'denylist', '203.0.113.77'],
      ['notify', 'alert_router', null],
    ]);
    expect(records.filter((r) => r.event === 'undo_succeeded').map((r) => r.action)).toEqual(['unblock_ip', 'unblock_ip']);
    expect(records.find((r) => r.event === 'run_finished')).toMatchObject({ status: 'succeeded', alert_id: alert.alert_id });

    // The notification went back to the alert router as an Alert, tagged so soar ignores it.
    const onAlerts = await readTopic(env.topics.alerts, 2, { timeoutMs: 10_000 });
    const notice = onAlerts.map((m) => AlertSchema.parse(JSON.parse(m.value.toString()))).find((a) => a.tags.includes(SOAR_NOTIFY_TAG))!;
    expect(notice).toMatchObject({
      severity: 'medium',
      rule: { id: 'soar:brute-force-containment', name: 'Blocked 203.0.113.77 after 25 failed logins' },
    });
    const runs = await api(soar.url, '/api/v1/runs', ADMIN_TOKEN);
    expect((runs.body.runs as unknown[]).length).toBe(1);
  });

  it('holds disable_user for approval, refuses strangers and analysts, and runs it once after an admin approves', async () => {
    const alice = env.scim.addUser('alice');
    const soar = await startSoar(env.envFor({ 'takeover.yaml': TAKEOVER }));
    env.running.push(soar);
    await publishAlerts(env.topics.alerts, [
      makeAlert({
        rule: { id: 'auth.account_takeover', name: 'Account takeover', description: '', kind: 'sequence' },
        group: { 'actor.user_id': 'alice' },
      }),
    ]);
    const pending = await waitFor('a pending approval', async () => {
      const r = await api(soar.url, '/api/v1/approvals', ANALYST_TOKEN);
      return (r.body.approvals as Array<{ run_id: string; cursor: number }>)[0];
    });
    expect(alice.active).toBe(true);
    expect(env.scim.requests).toEqual([]);

    const path = `/api/v1/approvals/${pending.run_id}/approve`;
    const anonymous = await api(soar.url, path, null, { method: 'POST', body: { step_index: 0 } });
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toContain('Bearer');
    expect((await api(soar.url, path, 'forged-token', { method: 'POST', body: { step_index: 0 } })).status).toBe(401);
    expect((await api(soar.url, path, ANALYST_TOKEN, { method: 'POST', body: { step_index: 0 } })).status).toBe(403);
    expect((await api(soar.url, path, ADMIN_TOKEN, { method: 'POST', body: { step_index: 'zero' } })).status).toBe(400);
    expect(alice.active).toBe(true);

    const approved = await api(soar.url, path, ADMIN_TOKEN, {
      method: 'POST',
      body: { step_index: 0, comment: 'confirmed with the user' },
    });
    expect(approved.status).toBe(200);
    await waitFor('alice to be disabled at the IdP', () => !alice.active);
    expect((await api(soar.url, path, ADMIN_TOKEN, { method: 'POST', body: { step_index: 0 } })).status).toBe(409);

    const records = await readResponses(env.topics.responses, 6, { settleMs: 500 });
    expect(events(records)).toEqual(['run_started', 'approval_requested', 'approved', 'step_requested', 'step_succeeded', 'run_finished']);
    expect(records.find((r) => r.event === 'approved')).toMatchObject({ actor: { type: 'user', name: 'root-admin', role: 'admin' } });
    expect(records.find((r) => r.event === 'step_requested')!.request).toMatchObject({ method: 'PATCH', active: 'false' });
    expect(env.scim.requests.filter((r) => r.method === 'PATCH')).toHaveLength(1);

    const metrics = await (await fetch(`${soar.url}/metrics`)).text();
    expect(metrics).toMatch(/vigil_soar_api_auth_failures_total\{reason="missing"[^}]*\} 1/);
    expect(metrics).toMatch(/vigil_soar_api_auth_failures_total\{reason="invalid"[^}]*\} 1/);
    expect(metrics).toMatch(/vigil_soar_api_auth_failures_total\{reason="forbidden"[^}]*\} 1/);
    expect(sample(metrics, 'vigil_soar_alerts_total', { outcome: 'matched' })).toBe(1);
    expect(sample(metrics, 'vigil_soar_runs_started_total')).toBe(1);
    expect(sample(metrics, 'vigil_soar_approvals_total', { outcome: 'approved' })).toBe(1);
    expect(sample(metrics, 'vigil_soar_actions_total', { action: 'disable_user', outcome: 'succeeded' })).toBe(1);
    expect(sample(metrics, 'vigil_soar_runs_finished_total', { outcome: 'succeeded' })).toBe(1);
    expect(sample(metrics, 'vigil_soar_runs_finished_total')).toBe(1);
    // Its Redis client is counted in the shared families (the run store's Lua scripts: EVALSHA, or
    // EVAL after a NOSCRIPT when this Redis has not seen them yet).
    const scriptCalls = (command: string) => sample(metrics, 'vigil_redis_commands_total', { command, outcome: 'ok', service: 'soar' });
    expect(scriptCalls('evalsha') + scriptCalls('eval')).toBeGreaterThan(0);
    expect(sample(metrics, 'vigil_redis_round_trips_total', { service: 'soar' })).toBeGreaterThan(0);
  });

  it('runs nothing twice when the alert arrives twice and two responders read it', async () => {
    const playbook = `
id: block-only
trigger: { rule_id: auth.brute_force }
steps:
  - action: block_ip
    target: '{{ group["source.ip"] }}'
  - action: notify
    message: 'blocked {{ group["source.ip"] }}'
`;
    // Two responders in different consumer groups: each one receives every copy of the alert.
    const a = await startSoar(env.envFor({ 'p.yaml': playbook }, { SOAR_GROUP_ID: uniqueName('a') }));
    const b = await startSoar(env.envFor({ 'p.yaml': playbook }, { SOAR_GROUP_ID: uniqueName('b') }));
    env.running.push(a, b);
    const alert = makeAlert({ group: { 'source.ip': '198.51.100.23' } });
    await publishAlerts(env.topics.alerts, [alert, alert]);
    await waitFor('the run to finish', async () => {
      const r = await api(a.url, '/api/v1/runs', ADMIN_TOKEN);
      return (r.body.runs as Array<{ status: string }>)[0]?.status === 'succeeded';
    });
    const records = await readResponses(env.topics.responses, 6, { settleMs: 1_500 });
    expect(records).toHaveLength(6);
    expect(env.fw.requests.filter((r) => r.method === 'PUT')).toHaveLength(1);
    expect(records.filter((r) => r.event === 'run_started')).toHaveLength(1);
    expect(records.filter((r) => r.event === 'step_succeeded').map((r) => r.action)).toEqual(['block_ip', 'notify']);
    const notices = (await readTopic(env.topics.alerts, 3, { timeoutMs: 10_000, settleMs: 500 })).filter((m: ReadMessage) =>
      m.value.toString().includes(SOAR_NOTIFY_TAG),
    );
    expect(notices).toHaveLength(1);
  });

  it('keeps a pending approval and a scheduled undo across a restart', async () => {
    const playbook = `
id: contain
trigger: { rule_id: auth.account_takeover }
steps:
  - action: block_ip
    target: '{{ group["source.ip"] }}'
    duration: 4s
  - action: disable_user
    target: '{{ group["actor.user_id"] }}'
    requires_approval: true
`;
    const bob = env.scim.addUser('bob');
    const first = await startSoar(env.envFor({ 'p.yaml': playbook }));
    env.running.push(first);
    await publishAlerts(env.topics.alerts, [
      makeAlert({
        rule: { id: 'auth.account_takeover', name: 'Takeover', description: '', kind: 'sequence' },
        group: { 'source.ip': '203.0.113.140', 'actor.user_id': 'bob' },
      }),
    ]);
    await waitFor('the block and the pending approval', async () => {
      const r = await api(first.url, '/api/v1/approvals', ADMIN_TOKEN);
      return env.fw.blocks.has('203.0.113.140') && (r.body.approvals as unknown[]).length === 1;
    });
    await first.close();
    env.running.pop();

    const second = await startSoar(env.envFor({ 'p.yaml': playbook }));
    env.running.push(second);
    const pending = (await api(second.url, '/api/v1/approvals', ANALYST_TOKEN)).body.approvals as Array<{ run_id: string }>;
    expect(pending).toHaveLength(1);
    const undos = (await api(second.url, '/api/v1/undos', ANALYST_TOKEN)).body.scheduled as Array<{ target: string; action: string }>;
    expect(undos).toEqual([expect.objectContaining({ action: 'unblock_ip', target: '203.0.113.140' })]);

    expect(
      (await api(second.url, `/api/v1/approvals/${pending[0]!.run_id}/approve`, ADMIN_TOKEN, { method: 'POST', body: { step_index: 1 } }))
        .status,
    ).toBe(200);
    await waitFor('bob to be disabled', () => !bob.active);
    await waitFor('the block to be lifted by the second responder', () => !env.fw.blocks.has('203.0.113.140'), 15_000, 50);
    expect(env.fw.requests.map((r) => r.method)).toEqual(['PUT', 'DELETE']);
    expect(env.scim.requests.filter((r) => r.method === 'PATCH')).toHaveLength(1);
  });

  it('never blocks an allowlisted address and records why', async () => {
    const soar = await startSoar(env.envFor({ 'brute.yaml': BRUTE_FORCE }));
    env.running.push(soar);
    await publishAlerts(env.topics.alerts, [
      makeAlert({ group: { 'source.ip': '10.20.30.40' } }),
      makeAlert({ group: { 'source.ip': '192.0.2.0/25' } }),
    ]);
    const records = await readResponses(env.topics.responses, 6, { settleMs: 1_000 });
    const refused = records.filter((r) => r.event === 'step_refused');
    expect(refused.map((r) => r.reason).sort()).toEqual([
      'target {{ group["source.ip"] }}: 10.20.30.40 is on the never-block allowlist (10.0.0.0/8)',
      'target {{ group["source.ip"] }}: 192.0.2.0/25 is on the never-block allowlist (192.0.2.0/24)',
    ]);
    expect(records.filter((r) => r.event === 'run_finished').map((r) => r.status)).toEqual(['failed', 'failed']);
    expect(env.fw.requests).toEqual([]);
    expect(await env.redis.zcard(`${env.prefix}denylist`)).toBe(0);
  });

  it('refuses malicious or malformed targets with a clear reason and never runs nft for them', async () => {
    const fakeDir = mkdtempSync(join(tmpdir(), 'fake-nft-'));
    const log = join(fakeDir, 'argv.log');
    writeFileSync(join(fakeDir, 'nft'), `#!/bin/sh\nfor a in "$@"; do printf '%s\\n' "$a" >> "${log}"; done\nexit 0\n`);
    chmodSync(join(fakeDir, 'nft'), 0o755);
    const savedPath = process.env.PATH;
    process.env.PATH = `${fakeDir}:${savedPath}`;
    try {
      const playbooks = {
        'a.yaml': `
id: nft-block
trigger: { rule_id: auth.brute_force }
steps:
  - action: block_ip
    connector: nftables
    target: '{{ group["source.ip"] }}'
    duration: 60s
`,
        'b.yaml': `
id: wrong-type
trigger: { rule_id: auth.wrong_type }
steps:
  - action: isolate_host
    target: '{{ event_count }}'
`,
      };
      const soar = await startSoar(env.envFor(playbooks, { SOAR_CONNECTOR_HOST: 'edr', EDR_URL: 'http://127.0.0.1:9', EDR_TOKEN: 'x' }));
      env.running.push(soar);
      const hostile = [
        '203.0.113.9; nft flush ruleset',
        '$(reboot)',
        '203.0.113.9 } ; flush ruleset ; add element inet vigil blocked4 { 1.1.1.1',
        'x'.repeat(1000),
      ];
      await publishAlerts(env.topics.alerts, [
        ...hostile.map((ip) => makeAlert({ group: { 'source.ip': ip } })),
        makeAlert({ rule: { id: 'auth.wrong_type', name: 'w', description: '', kind: 'threshold' } }),
        makeAlert({ group: { 'source.ip': '203.0.113.50' } }),
      ]);
      const records = await readResponses(env.topics.responses, 20, { settleMs: 1_000 });
      const reasons = records.filter((r) => r.event === 'step_refused').map((r) => r.reason);
      expect(reasons).toEqual(
        expect.arrayContaining([
          expect.stringContaining('"203.0.113.9; nft flush ruleset" is not an IP address or CIDR'),
          expect.stringContaining('"$(reboot)" is not an IP address or CIDR'),
          expect.stringContaining('is not an IP address or CIDR'),
          expect.stringContaining('is 1000 characters, longer than any IP or CIDR'),
          'target {{ event_count }}: must be a string, got number',
        ]),
      );
      expect(reasons).toHaveLength(5);
      // The one valid alert is the only thing nft ever saw.
      await waitFor('nft to be called for the valid address', () => existsSync(log));
      expect(readFileSync(log, 'utf8').trim().split('\n')).toEqual([
        'add',
        'element',
        'inet',
        'vigil',
        'blocked4',
        '{ 203.0.113.50 timeout 60s }',
      ]);
    } finally {
      process.env.PATH = savedPath;
    }
  });

  it('blocks a repeat offender for longer, and keeps the later undo', async () => {
    const playbook = `
id: escalate
trigger: { rule_id: auth.brute_force }
steps:
  - action: block_ip
    target: '{{ group["source.ip"] }}'
    duration: 3s
    escalation: [45s]
`;
    const soar = await startSoar(env.envFor({ 'p.yaml': playbook }));
    env.running.push(soar);
    await publishAlerts(env.topics.alerts, [makeAlert({ group: { 'source.ip': '203.0.113.201' } })]);
    await waitFor('the first block', () => env.fw.blocks.get('203.0.113.201')?.expiresInSeconds === 3);
    await publishAlerts(env.topics.alerts, [makeAlert({ group: { 'source.ip': '203.0.113.201' } })]);
    await waitFor('the second, longer block', () => env.fw.blocks.get('203.0.113.201')?.expiresInSeconds === 45);
    const undos = (await api(soar.url, '/api/v1/undos', ANALYST_TOKEN)).body.scheduled as Array<{ due_at: number }>;
    expect(undos).toHaveLength(1);
    expect(undos[0]!.due_at - Date.now()).toBeGreaterThan(30_000);
    // Past the first block's end the address stays blocked: the first undo was superseded.
    await new Promise((r) => setTimeout(r, 3_500));
    expect(env.fw.blocks.has('203.0.113.201')).toBe(true);
    expect(env.fw.requests.filter((r) => r.method === 'DELETE')).toEqual([]);
  });

  it('records what it would do in dry-run mode and calls nothing', async () => {
    const alice = env.scim.addUser('alice');
    const soar = await startSoar(
      env.envFor(
        {
          'brute.yaml': BRUTE_FORCE,
          'takeover.yaml': TAKEOVER.replace('requires_approval: true', 'requires_approval: false').replace('    approval_ttl: 5m\n', ''),
        },
        { SOAR_DRY_RUN: 'true' },
      ),
    );
    env.running.push(soar);
    await publishAlerts(env.topics.alerts, [
      makeAlert({ group: { 'source.ip': '203.0.113.66' } }),
      makeAlert({
        rule: { id: 'auth.account_takeover', name: 'Takeover', description: '', kind: 'sequence' },
        group: { 'actor.user_id': 'alice' },
      }),
    ]);
    const records = await readResponses(env.topics.responses, 16, { settleMs: 500 });
    expect(records).toHaveLength(16);
    const dry = records.filter((r) => r.event === 'step_dry_run');
    expect(dry.map((r) => r.result).sort()).toEqual([
      'would block_ip 203.0.113.66 via denylist for 2s',
      'would block_ip 203.0.113.66 via firewall for 2s',
      'would disable_user alice via scim',
      'would notify via alert_router',
    ]);
    expect(records.every((r) => r.dry_run)).toBe(true);
    expect(records.filter((r) => r.event === 'undo_dry_run')).toHaveLength(2);
    expect(env.fw.requests).toEqual([]);
    expect(env.scim.requests).toEqual([]);
    expect(alice.active).toBe(true);
    expect(await env.redis.zcard(`${env.prefix}denylist`)).toBe(0);
  });

  it('dead-letters alerts it cannot read, with the reason, and keeps going', async () => {
    const soar = await startSoar(env.envFor({ 'brute.yaml': BRUTE_FORCE }));
    env.running.push(soar);
    await publishAlerts(env.topics.alerts, [
      '{not json',
      JSON.stringify({ ...makeAlert(), schema_version: 2 }),
      JSON.stringify({ ...makeAlert(), severity: 'apocalyptic' }),
    ]);
    const dlq = (await readTopic(env.topics.alertsDlq, 3, { timeoutMs: 15_000 })).map((m) =>
      DlqRecordSchema.parse(JSON.parse(m.value.toString())),
    );
    expect(dlq.map((d) => d.error_kind).sort()).toEqual(['invalid_json', 'schema_violation', 'unsupported_schema_version']);
    expect(dlq.every((d) => d.service === 'soar')).toBe(true);
    await publishAlerts(env.topics.alerts, [makeAlert({ group: { 'source.ip': '203.0.113.99' } })]);
    await waitFor('the next good alert to be acted on', () => env.fw.blocks.has('203.0.113.99'));
    const metrics = await (await fetch(`${soar.url}/metrics`)).text();
    for (const kind of ['invalid_json', 'schema_violation', 'unsupported_schema_version']) {
      expect(sample(metrics, 'vigil_soar_alerts_rejected_total', { kind })).toBe(1);
      expect(sample(metrics, 'vigil_messages_dead_lettered_total', { topic: env.topics.alertsDlq, kind })).toBe(1);
    }
    // Readable alerts only: the good one, and perhaps soar's own notification coming back.
    expect(sample(metrics, 'vigil_soar_alerts_total', { outcome: 'matched' })).toBe(1);
    expect(sample(metrics, 'vigil_soar_alerts_total')).toBe(
      1 + sample(metrics, 'vigil_soar_alerts_total', { outcome: 'own_notification' }),
    );
  });
});
