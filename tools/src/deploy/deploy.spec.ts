import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseEnv } from '@vigil/runtime';
import { StandinsEnvSchema, standinsServiceEnv, standinsUrls } from '../standins';
import { composeRules, imageEnv } from './compose';
import { Sandbox, checkComponent } from './contract';
import { checkObservability, metricFamilies } from './observability';
import { strict } from './schemas';

const ROOT = resolve(__dirname, '..', '..', '..');

describe('the CRD-to-JSON-schema conversion is strict the way openapi2jsonschema is', () => {
  it.each([
    [
      'refuses unknown fields of an object with properties',
      { type: 'object', properties: { a: { type: 'string' } } },
      { type: 'object', properties: { a: { type: 'string' } }, additionalProperties: false },
    ],
    [
      'keeps a declared additionalProperties',
      { type: 'object', properties: {}, additionalProperties: { type: 'string' } },
      { type: 'object', properties: {}, additionalProperties: { type: 'string' } },
    ],
    [
      'leaves objects that preserve unknown fields open',
      { type: 'object', properties: {}, 'x-kubernetes-preserve-unknown-fields': true },
      { type: 'object', properties: {}, 'x-kubernetes-preserve-unknown-fields': true },
    ],
    [
      'turns int-or-string into either type',
      { type: 'string', 'x-kubernetes-int-or-string': true },
      { oneOf: [{ type: 'integer' }, { type: 'string' }] },
    ],
    ['adds null to a nullable type', { type: 'string', nullable: true }, { type: ['string', 'null'] }],
    [
      'recurses into arrays and nested objects',
      { type: 'array', items: { type: 'object', properties: { b: { type: 'integer' } } } },
      { type: 'array', items: { type: 'object', properties: { b: { type: 'integer' } }, additionalProperties: false } },
    ],
  ])('%s', (_name, input, expected) => {
    expect(strict(input)).toEqual(expected);
  });
});

describe('the compose rules catch what docker compose up relies on', () => {
  const standinsEnv = parseEnv(StandinsEnvSchema, { STANDINS_ADVERTISE_HOST: 'standins' });
  const expected = standinsServiceEnv(standinsEnv, standinsUrls(standinsEnv, 'standins'));
  const healthy = { test: ['CMD', 'node', '/app/healthcheck.js'] };
  const project = (overrides: Record<string, unknown> = {}) => ({
    services: {
      kafka: { image: 'apache/kafka:4.1.1', environment: { KAFKA_AUTO_CREATE_TOPICS_ENABLE: 'false' } },
      redis: { image: 'redis:7.4-alpine' },
      topics: { command: ['topics'], depends_on: { kafka: { condition: 'service_healthy' } } },
      standins: { image: 'vigil:local', command: ['standins'], environment: { STANDINS_ADVERTISE_HOST: 'standins' } },
      soar: {
        command: ['soar'],
        healthcheck: healthy,
        environment: {
          KAFKA_CREATE_TOPICS: 'false',
          REDIS_URL: 'redis://redis:6379',
          FIREWALL_URL: expected.FIREWALL_URL,
          FIREWALL_TOKEN: expected.FIREWALL_TOKEN,
        },
        depends_on: { topics: { condition: 'service_completed_successfully' }, redis: { condition: 'service_healthy' } },
      },
      ...overrides,
    },
  });

  it('accepts a project that starts in order with matching stand-in credentials', () => {
    expect(composeRules(project(), true)).toEqual([]);
  });

  it.each([
    [
      'a service that does not wait for the topics job',
      { ingest: { command: ['ingest'], healthcheck: healthy, environment: { KAFKA_CREATE_TOPICS: 'false' }, depends_on: {} } },
      'ingest: must start after the topics job succeeded',
    ],
    [
      'a Redis user that does not wait for Redis health',
      {
        correlation: {
          command: ['correlation'],
          healthcheck: healthy,
          environment: { KAFKA_CREATE_TOPICS: 'false', REDIS_URL: 'redis://redis:6379' },
          depends_on: { topics: { condition: 'service_completed_successfully' } },
        },
      },
      'correlation: uses Redis but does not wait for it to be healthy',
    ],
    [
      'a service without a healthcheck',
      {
        ingest: {
          command: ['ingest'],
          environment: { KAFKA_CREATE_TOPICS: 'false' },
          depends_on: { topics: { condition: 'service_completed_successfully' } },
        },
      },
      'ingest: has no healthcheck',
    ],
    [
      'a broker that auto-creates topics',
      { kafka: { image: 'apache/kafka:4.1.1', environment: {} } },
      'kafka must run with KAFKA_AUTO_CREATE_TOPICS_ENABLE=false',
    ],
  ])('reports %s', (_name, overrides, problem) => {
    expect(composeRules(project(overrides), true)).toContain(problem);
  });

  it('reports a service token that the stand-in would refuse', () => {
    const p = project();
    (p.services.soar.environment as Record<string, string>).FIREWALL_TOKEN = 'wrong';
    expect(composeRules(p, true)).toEqual([`soar: FIREWALL_TOKEN is "wrong" but the stand-ins expect "${expected.FIREWALL_TOKEN}"`]);
  });
});

describe('the configuration contract runs the services own config code', () => {
  const sandbox = () => new Sandbox(mkdtempSync(join(tmpdir(), 'vigil-contract-')));

  it('passes a valid ingest environment and describes what it loaded', async () => {
    await expect(checkComponent('ingest', { KAFKA_BROKERS: 'kafka:9092' }, 'test')).resolves.toBe('integrity off, 0 HMAC key(s)');
  });

  it('fails a value the service refuses, naming the variable', async () => {
    await expect(checkComponent('ingest', { KAFKA_BROKERS: 'kafka' }, 'test: ingest')).rejects.toThrow(
      /test: ingest: the service would refuse this configuration: invalid configuration: KAFKA_BROKERS/,
    );
  });

  it('fails SASL without its password, as the service would at start', async () => {
    await expect(
      checkComponent('topics', { KAFKA_BROKERS: 'kafka:9092', KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'v' }, 'job'),
    ).rejects.toThrow(/KAFKA_SASL_PASSWORD/);
  });

  it('loads mounted rules with the correlation loader and fails a broken rule file', async () => {
    const s = sandbox();
    s.write('/etc/vigil/rules/good.yaml', readFileSync(join(ROOT, 'apps/correlation/rules/brute_force_login.yaml'), 'utf8'));
    const env = s.env({ KAFKA_BROKERS: 'k:9092', CORRELATION_RULES_DIR: '/etc/vigil/rules' });
    await expect(checkComponent('correlation', env, 'c')).resolves.toBe('1 rules');
    s.write('/etc/vigil/rules/bad.yaml', 'id: bad\nkind: threshold\n');
    await expect(checkComponent('correlation', env, 'c')).rejects.toThrow(/rules in .*bad\.yaml/);
  });

  it('maps container paths into the sandbox and gives unmounted secret files a placeholder', () => {
    const s = sandbox();
    s.bind('/app', ROOT);
    const env = s.env({
      SOAR_PLAYBOOKS_DIR: '/app/apps/soar/playbooks',
      SCIM_TOKEN_FILE: '/etc/vigil/secrets/SCIM_TOKEN',
      LOG_LEVEL: 'info',
    });
    expect(env.SOAR_PLAYBOOKS_DIR).toBe(join(ROOT, 'apps/soar/playbooks'));
    expect(readFileSync(env.SCIM_TOKEN_FILE!, 'utf8')).toMatch(/^ci-secret-/);
    expect(env.LOG_LEVEL).toBe('info');
  });

  it('reads the image environment from the Dockerfile runtime stage', () => {
    expect(imageEnv(ROOT)).toMatchObject({ NODE_ENV: 'production', SOAR_PLAYBOOKS_DIR: '/app/apps/soar/playbooks' });
  });
});

describe('the dashboard and the metrics doc agree with the code', () => {
  it('finds the shared and per-service families in the code', async () => {
    const f = await metricFamilies();
    expect(f.get('vigil_consumer_lag')).toMatchObject({ type: 'gauge', labels: ['topic', 'partition', 'group'] });
    expect(f.get('vigil_ingest_events_rejected_total')).toMatchObject({ type: 'counter', labels: ['kind'] });
    expect(f.get('vigil_soar_actions_total')?.labels).toEqual(['action', 'connector', 'outcome']);
    expect(f.get('vigil_ingest_http_requests_total')).toMatchObject({ type: 'counter', labels: ['endpoint', 'code'] });
    expect(f.get('vigil_redis_commands_total')).toMatchObject({ type: 'counter', labels: ['command', 'outcome'] });
  });

  it('refuses a dashboard that queries a metric no service defines', async () => {
    const f = await metricFamilies();
    const root = mkdtempSync(join(tmpdir(), 'vigil-obs-'));
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(root, 'deploy/grafana'), { recursive: true });
    mkdirSync(join(root, 'docs'));
    writeFileSync(join(root, 'docs/observability.md'), readFileSync(join(ROOT, 'docs/observability.md')));
    writeFileSync(
      join(root, 'deploy/grafana/vigil-dashboard.json'),
      JSON.stringify({ panels: [{ title: 'typo', targets: [{ expr: 'rate(vigil_ingest_event_accepted_total[5m])' }] }] }),
    );
    expect(() => checkObservability(root, f)).toThrow(/panel "typo" queries vigil_ingest_event_accepted_total, which no service exposes/);
  });

  it('passes the shipped dashboard and doc', async () => {
    const r = checkObservability(ROOT, await metricFamilies());
    expect(r.used).toBeGreaterThan(40);
  });
});
