import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Test } from '@nestjs/testing';
import type { INestApplication } from '@nestjs/common';
import { SecurityEventSchema, type TopicNames } from '@vigil/contracts';
import { Health, Metrics, RuntimeModule, installBodyParsers, parseEnv, silentLogger } from '@vigil/runtime';
import { freshTopics, readTopic, testBrokers, uniqueName, waitFor } from '@vigil/testing';
import { IngestModule } from '../src/app.module';
import { IngestEnvSchema, ingestConfig, type IngestConfig } from '../src/config';
import { HttpIngestModule, RAW_BODY_PATHS } from '../src/http/http-ingest.module';

const TOKEN = `tok-${randomBytes(16).toString('hex')}`;
const SHIPPER_TOKEN = `shipper-${randomBytes(16).toString('hex')}`;
const sha = (t: string) => createHash('sha256').update(t).digest('hex');

interface Running {
  app: INestApplication;
  url: string;
  metrics: Metrics;
}

async function listen(module: ReturnType<typeof IngestModule.forRoot>, metrics: Metrics): Promise<Running> {
  const moduleRef = await Test.createTestingModule({ imports: [module] }).compile();
  const app = moduleRef.createNestApplication({ logger: false, bodyParser: false });
  await installBodyParsers(app, { rawBodyPaths: RAW_BODY_PATHS });
  await app.listen(0, '127.0.0.1');
  const port = (app.getHttpServer().address() as { port: number }).port;
  return { app, url: `http://127.0.0.1:${port}`, metrics };
}

function config(namespace: string, extra: Record<string, string> = {}): IngestConfig {
  const raw = {
    KAFKA_BROKERS: testBrokers().join(','),
    VIGIL_TOPIC_NAMESPACE: namespace,
    INGEST_GROUP_ID: uniqueName('ingest'),
    KAFKA_CREATE_TOPICS: 'false',
    INGEST_WORKERS: '0',
    INGEST_HEC_TOKENS: `fwd:${sha(TOKEN)}:security|main:shop|web,shipper:${sha(SHIPPER_TOKEN)}`,
    INGEST_HTTP_MAX_BODY_BYTES: '65536',
    INGEST_HTTP_SEND_TIMEOUT_MS: '3000',
    ...extra,
  };
  return ingestConfig(parseEnv(IngestEnvSchema, raw), raw);
}

function secEvent(i: number, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    event_type: 'authentication',
    severity: 'medium',
    source: { application: 'shop', ip: '198.51.100.20' },
    actor: { user_id: `user${i}` },
    action: 'login',
    outcome: 'failure',
    details: { i },
    ...over,
  };
}

async function post(
  url: string,
  path: string,
  body: string | Buffer,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url + path, {
    method: 'POST',
    body,
    headers: { Authorization: `Splunk ${TOKEN}`, 'Content-Type': 'application/json', ...headers },
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

const hec = (envelopes: unknown[]) => envelopes.map((e) => JSON.stringify(e)).join('');

describe('HEC-compatible HTTP ingest against a real broker', () => {
  let topics: TopicNames;
  let namespace: string;
  let r: Running | undefined;

  beforeEach(async () => {
    ({ namespace, topics } = await freshTopics(1, ['eventsRaw', 'events', 'eventsDlq']));
  });
  afterEach(async () => {
    await r?.app.close();
    r = undefined;
  });

  async function start(extra: Record<string, string> = {}): Promise<Running> {
    const metrics = new Metrics('ingest', { defaultMetrics: false });
    r = await listen(
      IngestModule.forRoot({ config: config(namespace, extra), logger: silentLogger(), metrics, health: new Health() }),
      metrics,
    );
    await waitFor('HEC healthy', async () => (await fetch(`${r!.url}/services/collector/health`)).status === 200, 20_000);
    return r;
  }

  it('answers Success only once the events are on the raw topic, and the pipeline validates them onto the events topic', async () => {
    const { url } = await start();
    const body = hec([
      { event: secEvent(1), time: 1764410400.5, host: 'web-7', sourcetype: 'vigil', index: 'security' },
      { event: secEvent(2, { timestamp: '2026-11-29T10:00:00Z' }), fields: { dc: 'eu' } },
    ]);
    const res = await post(url, '/services/collector/event', body);
    expect(res).toEqual({ status: 200, body: { text: 'Success', code: 0 } });
    // On the broker the moment Success was answered (acks=all): read the raw topic now.
    const raw = await readTopic(topics.eventsRaw, 2, { timeoutMs: 5_000 });
    expect(raw).toHaveLength(2);
    const first = JSON.parse(raw[0]!.value.toString());
    expect(first).toMatchObject({
      timestamp: '2025-11-29T10:00:00.500Z',
      source: { application: 'shop', hostname: 'web-7' },
      details: { i: 1, hec: { sourcetype: 'vigil', index: 'security' } },
    });
    expect(raw[0]!.headers).toMatchObject({ 'vigil-via': 'hec', 'vigil-token': 'fwd' });
    expect(raw[0]!.key).toBe('198.51.100.20');
    const valid = await readTopic(topics.events, 2, { timeoutMs: 20_000 });
    const events = valid.map((m) => SecurityEventSchema.parse(JSON.parse(m.value.toString())));
    expect(events.map((e) => e.actor?.user_id).sort()).toEqual(['user1', 'user2']);
    expect(events.find((e) => e.actor?.user_id === 'user2')!.details).toMatchObject({ hec: { fields: { dc: 'eu' } } });
  });

  it.each<[string, string, () => [string, string | Buffer, Record<string, string>], number, Record<string, unknown>]>([
    [
      'no Authorization',
      '/services/collector/event',
      () => ['', hec([{ event: secEvent(1) }]), { Authorization: '' }],
      401,
      { text: 'Token is required', code: 2 },
    ],
    [
      'a malformed Authorization',
      '/services/collector/event',
      () => ['', hec([{ event: secEvent(1) }]), { Authorization: `Bearer ${TOKEN}` }],
      401,
      { text: 'Invalid authorization', code: 3 },
    ],
    [
      'an unknown token',
      '/services/collector/event',
      () => ['', hec([{ event: secEvent(1) }]), { Authorization: 'Splunk not-a-token' }],
      403,
      { text: 'Invalid token', code: 4 },
    ],
    ['an empty body', '/services/collector/event', () => ['', '  \n', {}], 400, { text: 'No data', code: 5 }],
    [
      'an index the token may not write',
      '/services/collector/event',
      () => ['', hec([{ event: secEvent(1), index: 'finance' }]), {}],
      400,
      { text: 'Incorrect index', code: 7, 'invalid-event-number': 0 },
    ],
    [
      'a missing event field',
      '/services/collector/event',
      () => ['', hec([{ time: 1 }]), {}],
      400,
      { text: 'Event field is required', code: 12, 'invalid-event-number': 0 },
    ],
    [
      'a blank event',
      '/services/collector/event',
      () => ['', hec([{ event: '' }]), {}],
      400,
      { text: 'Event field cannot be blank', code: 13, 'invalid-event-number': 0 },
    ],
    [
      'a text event',
      '/services/collector',
      () => ['', hec([{ event: 'alice failed to log in' }]), {}],
      400,
      { text: 'Invalid data format', code: 6, 'invalid-event-number': 0 },
    ],
    [
      'an event not in the SecurityEvent shape',
      '/services/collector/event/1.0',
      () => ['', hec([{ event: secEvent(1, { severity: 'urgent' }) }]), {}],
      400,
      { text: 'Invalid data format', code: 6, 'invalid-event-number': 0 },
    ],
    [
      'a source the token may not claim',
      '/services/collector/event',
      () => ['', hec([{ event: secEvent(1, { source: { application: 'billing' } }) }]), {}],
      400,
      { text: 'Invalid data format', code: 6, 'invalid-event-number': 0 },
    ],
    [
      'a channel that is not a GUID',
      '/services/collector/event',
      () => ['', hec([{ event: secEvent(1) }]), { 'X-Splunk-Request-Channel': 'abc' }],
      400,
      { text: 'Invalid data channel', code: 11 },
    ],
    [
      'an ack query (acknowledgement is off: Success already means stored)',
      '/services/collector/ack',
      () => ['', '{"acks":[0]}', {}],
      400,
      { text: 'ACK is disabled', code: 14 },
    ],
  ])('refuses %s with the HEC answer a shipper expects, storing nothing', async (_n, path, make, status, body) => {
    const { url } = await start();
    const [, payload, headers] = make();
    const h = { ...headers };
    if (h.Authorization === '') {
      const res = await fetch(url + path, { method: 'POST', body: payload });
      expect(res.status).toBe(status);
      expect(await res.json()).toEqual(body);
    } else {
      expect(await post(url, path, payload, h)).toEqual({ status, body });
    }
    expect(await readTopic(topics.eventsRaw, 1, { timeoutMs: 1_000 })).toEqual([]);
  });

  it('stores the events before an invalid one and names the invalid one, like HEC', async () => {
    const { url } = await start();
    const body = `${hec([{ event: secEvent(1) }, { event: secEvent(2) }])}{"event": {"broken": `;
    expect(await post(url, '/services/collector/event', body)).toEqual({
      status: 400,
      body: { text: 'Invalid data format', code: 6, 'invalid-event-number': 2 },
    });
    const raw = await readTopic(topics.eventsRaw, 2, { timeoutMs: 5_000, settleMs: 300 });
    expect(raw.map((m) => JSON.parse(m.value.toString()).details.i)).toEqual([1, 2]);
  });

  it('takes gzip bodies, and refuses a body over the limit with 413 (also after decompression)', async () => {
    const { url } = await start();
    const body = hec(Array.from({ length: 20 }, (_, i) => ({ event: secEvent(i) })));
    expect((await post(url, '/services/collector/event', gzipSync(body), { 'Content-Encoding': 'gzip' })).body).toEqual({
      text: 'Success',
      code: 0,
    });
    const big = hec([{ event: secEvent(1, { details: { pad: 'x'.repeat(70_000) } }) }]);
    const res = await post(url, '/services/collector/event', big);
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({ code: 413 });
    const bomb = gzipSync(Buffer.alloc(200_000, 0x20)); // small on the wire, over the limit once inflated
    expect((await post(url, '/services/collector/event', bomb, { 'Content-Encoding': 'gzip' })).status).toBe(413);
    expect(await readTopic(topics.eventsRaw, 21, { timeoutMs: 5_000, settleMs: 300 })).toHaveLength(20);
  });

  it('counts refused requests by reason in a metric', async () => {
    const { url, metrics } = await start();
    await post(url, '/services/collector/event', hec([{ event: secEvent(1) }]), { Authorization: 'Splunk wrong' });
    await post(url, '/services/collector/event', hec([{ event: secEvent(1) }]), { Authorization: 'Splunk wrong' });
    await post(url, '/services/collector/event', hec([{ event: secEvent(1), index: 'finance' }]));
    const text = await metrics.registry.metrics();
    expect(text).toContain('vigil_ingest_http_refused_total{endpoint="hec",reason="invalidToken",service="ingest"} 2');
    expect(text).toContain('vigil_ingest_http_refused_total{endpoint="hec",reason="incorrectIndex",service="ingest"} 1');
    expect(text).toContain('vigil_ingest_http_requests_total{endpoint="hec",code="403",service="ingest"} 2');
    expect(text).toContain('vigil_ingest_http_requests_total{endpoint="hec",code="400",service="ingest"} 1');
  });

  it('NDJSON: one event per line, a result per line, valid lines stored', async () => {
    const { url } = await start();
    const lines = [
      JSON.stringify({ ...secEvent(1), timestamp: '2026-11-29T10:00:00Z' }),
      '{not json',
      '',
      JSON.stringify({ ...secEvent(3), timestamp: '2026-11-29T10:00:00Z', severity: 'urgent' }),
      JSON.stringify({ ...secEvent(4), timestamp: '2026-11-29T10:00:01Z' }),
    ].join('\n');
    const res = await fetch(`${url}/api/v1/events`, {
      method: 'POST',
      body: lines,
      headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/x-ndjson' },
    });
    expect(res.status).toBe(207);
    const body = (await res.json()) as {
      accepted: number;
      refused: number;
      results: Array<{ line: number; status: string; reason?: string }>;
    };
    expect(body).toMatchObject({ accepted: 2, refused: 2 });
    expect(body.results.map((x) => [x.line, x.status])).toEqual([
      [1, 'accepted'],
      [2, 'refused'],
      [4, 'refused'],
      [5, 'accepted'],
    ]);
    expect(body.results[2]!.reason).toMatch(/severity/);
    expect(await readTopic(topics.eventsRaw, 2, { timeoutMs: 5_000, settleMs: 300 })).toHaveLength(2);
    const noAuth = await fetch(`${url}/api/v1/events`, { method: 'POST', body: lines });
    expect(noAuth.status).toBe(401);
  });

  it('accepts what a real HEC client sends: Splunk logging library for Node.js in its own process, batching', async () => {
    const { url } = await start();
    const dir = mkdtempSync(join(tmpdir(), 'vigil-shipper-'));
    try {
      const script = join(dir, 'ship.js');
      writeFileSync(
        script,
        `const { Logger } = require(${JSON.stringify(require.resolve('splunk-logging'))});
const logger = new Logger({ token: process.env.TOKEN, url: process.env.URL, maxBatchCount: 3, maxRetries: 2 });
logger.eventFormatter = (message) => message; // send the SecurityEvent itself as "event"
logger.error = (err) => { console.error('shipper error', err && err.message); process.exitCode = 3; };
for (let i = 0; i < 8; i++) {
  logger.send({ message: { event_type: 'authentication', severity: 'low', source: { application: 'web' }, actor: { user_id: 'u' + i }, action: 'login', outcome: 'success' }, metadata: { host: 'shipper-host', sourcetype: 'vigil' } });
}
logger.flush((err, resp, body) => { if (err) { console.error(err.message); process.exitCode = 4; } });
`,
      );
      let stderr = '';
      const code = await new Promise<number | null>((resolve) => {
        const child = spawn(process.execPath, [script], {
          env: { ...process.env, TOKEN: SHIPPER_TOKEN, URL: url },
          stdio: ['ignore', 'ignore', 'pipe'],
        });
        child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('exit', (c) => resolve(c));
      });
      expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
      const valid = await readTopic(topics.events, 8, { timeoutMs: 20_000, settleMs: 300 });
      const events = valid.map((m) => SecurityEventSchema.parse(JSON.parse(m.value.toString())));
      expect(events).toHaveLength(8);
      expect(events.every((e) => e.source.hostname === 'shipper-host' && e.source.application === 'web')).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('HTTP ingest while Kafka is unavailable', () => {
  it('answers 503 code 9 to events and 503 code 18 to the health check, storing nothing', async () => {
    const raw = {
      KAFKA_BROKERS: '127.0.0.1:1', // nothing listens: connection refused
      KAFKA_CREATE_TOPICS: 'false',
      INGEST_HEC_TOKENS: `fwd:${sha(TOKEN)}`,
    };
    const cfg = ingestConfig(parseEnv(IngestEnvSchema, raw), raw);
    const parts = { config: cfg, logger: silentLogger(), metrics: new Metrics('ingest', { defaultMetrics: false }), health: new Health() };
    const moduleRef = await Test.createTestingModule({ imports: [RuntimeModule.forRoot(parts), HttpIngestModule] }).compile();
    const app = moduleRef.createNestApplication({ logger: false, bodyParser: false });
    await installBodyParsers(app, { rawBodyPaths: RAW_BODY_PATHS });
    await app.listen(0, '127.0.0.1');
    const url = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
    try {
      const res = await post(url, '/services/collector/event', hec([{ event: secEvent(1) }]));
      expect(res).toEqual({ status: 503, body: { text: 'Server is busy', code: 9 } });
      const health = await fetch(`${url}/services/collector/health`);
      expect(health.status).toBe(503);
      expect(await health.json()).toEqual({ text: 'HEC is unhealthy, queues are full', code: 18 });
      const nd = await fetch(`${url}/api/v1/events`, {
        method: 'POST',
        body: JSON.stringify(secEvent(1)),
        headers: { Authorization: `Bearer ${TOKEN}` },
      });
      expect(nd.status).toBe(503);
      expect(nd.headers.get('retry-after')).toBe('1');
    } finally {
      await app.close();
    }
  });
});
