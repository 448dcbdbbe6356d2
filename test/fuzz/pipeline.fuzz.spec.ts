import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import type { Producer } from 'kafkajs';
import { parseEnv } from '@vigil/runtime';
import { TEST_PRODUCER_OPTIONS, readTopic, testBrokers, testRedisUrl, uniqueName, waitFor } from '@vigil/testing';
import { Feed } from '../../tools/src/demo/feed';
import { DEMO_TOKENS, demoKafka, startPipeline, type RunningPipeline, type ServiceName } from '../../tools/src/demo/pipeline';
import { StandinsEnvSchema, startStandins, type RunningStandins } from '../../tools/src/standins';
import { DEFAULT_DECODE_LIMITS, DlqRecordSchema, type DlqRecord } from '@vigil/contracts';
import { validateBatch, type ValidationSettings } from '../../apps/ingest/src/domain/batch';
import { parseEvent } from '../../apps/correlation/src/engine';
import { readForwardable } from '../../apps/siem-forwarder/src/domain/forwardable';
import { readAlert } from '../../apps/alert-router/src/intake';
import { FUZZ, alert, broken, junk, rawEvent, validatedEvent } from './arbitraries';

const LIMITS = DEFAULT_DECODE_LIMITS;
const SETTINGS: ValidationSettings = { limits: LIMITS, futureToleranceMs: 300_000, integrity: 'off', keys: new Map() };

/**
 * The built services as processes, fed junk interleaved with valid traffic on every topic they read,
 * and fuzzed requests on every HTTP API they serve. Nothing may crash, every refusal must say why
 * (a DLQ record with a kind and reason; a 4xx with a JSON message), and no valid message may be lost.
 */
const ROOT = resolve(__dirname, '..', '..');
const SERVICES: ServiceName[] = ['ingest', 'correlation', 'siem-forwarder', 'alert-router', 'soar'];
const N = Math.max(20, Math.round(FUZZ.runs / 2)); // messages of each kind per topic
const HTTP_RUNS = FUZZ.runs;
const HEC_TOKEN = 'fuzz-hec-token-0123456789abcdef';

function sample<T>(arb: fc.Arbitrary<T>, n: number, salt: number): T[] {
  return fc.sample(arb, { numRuns: n, seed: FUZZ.seed + salt });
}

/** Interleaves two lists deterministically (junk between valid messages, never all at the end). */
function interleave<T>(a: T[], b: T[]): T[] {
  const out: T[] = [];
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (i < a.length) out.push(a[i]!);
    if (i < b.length) out.push(b[i]!);
  }
  return out;
}

describe('fuzzing the running pipeline: junk on every topic, fuzzed requests on every API', () => {
  let standins: RunningStandins;
  let pipeline: RunningPipeline;
  let feed: Feed;
  let producer: Producer;
  const logs: string[] = [];

  beforeAll(async () => {
    for (const svc of SERVICES) {
      const main = join(ROOT, 'apps', svc, 'dist', 'main.js');
      if (!existsSync(main)) throw new Error(`${main} is missing: build first (pnpm exec tsc -b tsconfig.build.json)`);
    }
    standins = await startStandins(parseEnv(StandinsEnvSchema, { STANDINS_PORT_BASE: '29500' }));
    pipeline = await startPipeline({
      root: ROOT,
      brokers: testBrokers().join(','),
      redisUrl: testRedisUrl(),
      namespace: uniqueName('fuzz'),
      standinsEnv: standins.env,
      portOffset: 21_500,
      overrides: { ingest: { INGEST_HEC_TOKENS: `fuzz:${createHash('sha256').update(HEC_TOKEN).digest('hex')}` } },
      onLog: (name, line) => logs.push(`[${name}] ${line}`),
    });
    const kafka = demoKafka(testBrokers().join(','));
    feed = new Feed(kafka, pipeline.topics, () => undefined);
    await feed.start();
    producer = kafka.producer(TEST_PRODUCER_OPTIONS);
    await producer.connect();
  });

  afterAll(async () => {
    await producer?.disconnect();
    await feed?.stop();
    await pipeline?.stop();
    await standins?.close();
    const fatal = logs.filter((l) => /"level":"fatal"|exited with/.test(l));
    if (fatal.length) console.warn(`service crashes or fatal errors:\n${fatal.slice(0, 20).join('\n')}`);
  });

  async function allAlive(): Promise<void> {
    for (const svc of SERVICES) {
      expect([svc, pipeline.services.pid(svc) !== undefined]).toEqual([svc, true]);
      expect([svc, (await fetch(`http://127.0.0.1:${pipeline.ports[svc]}/healthz`)).status]).toEqual([svc, 200]);
    }
  }

  /** DLQ records on `dlqTopic` that came from `source`, by service. */
  async function dlqBySource(dlqTopic: string, source: string, atLeast: number, timeoutMs = 120_000): Promise<Map<string, DlqRecord[]>> {
    const msgs = await readTopic(dlqTopic, atLeast, { timeoutMs, settleMs: 2000 });
    const by = new Map<string, DlqRecord[]>();
    for (const m of msgs) {
      const r = DlqRecordSchema.parse(JSON.parse(m.value.toString()));
      if (r.source.topic !== source) continue;
      by.set(r.service, [...(by.get(r.service) ?? []), r]);
    }
    return by;
  }

  it('takes junk between valid events on every topic: each refused message dead-lettered with a reason by each reader, no valid one lost, nothing crashes', async () => {
    const t = pipeline.topics;
    // Raw topic: producers' events (each with an id, to follow it) and junk.
    const validRaw = sample(rawEvent, N, 1).map((e, i) => ({
      ...e,
      event_id: e.event_id ?? `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    }));
    const junkRaw = sample(fc.oneof(junk, broken(rawEvent)), N, 2);
    // Validated topic, written by a buggy producer: valid v1 events and junk.
    const validEvents = sample(validatedEvent, N, 3);
    const junkEvents = sample(fc.oneof(junk, broken(validatedEvent)), N, 4);
    // Alerts topic: valid alerts (fresh, so the router does not take them for stale) and junk.
    const now = new Date().toISOString();
    const validAlerts = sample(alert, Math.max(10, Math.round(N / 5)), 5).map((a) => ({
      ...a,
      first_event_at: now,
      last_event_at: now,
      created_at: now,
    }));
    const junkAlerts = sample(fc.oneof(junk, broken(alert)), N, 6);

    const raw = [
      ...interleave<Buffer | null>(
        validRaw.map((e) => Buffer.from(JSON.stringify(e))),
        junkRaw,
      ),
      null,
    ];
    const events = [
      ...interleave<Buffer | null>(
        validEvents.map((e) => Buffer.from(JSON.stringify(e))),
        junkEvents,
      ),
      null,
    ];
    const alerts = [
      ...interleave<Buffer | null>(
        validAlerts.map((a) => Buffer.from(JSON.stringify(a))),
        junkAlerts,
      ),
      null,
    ];
    const send = async (topic: string, values: Array<Buffer | null>) => {
      for (let i = 0; i < values.length; i += 100)
        await producer.send({ topic, acks: -1, messages: values.slice(i, i + 100).map((value, j) => ({ key: `k${i + j}`, value })) });
    };
    await send(t.eventsRaw, raw);
    await send(t.events, events);
    await send(t.alerts, alerts);

    // The oracle: the services' own decode functions say which messages each reader must refuse
    // (a mutation sometimes leaves a message valid). DLQ records carry the original bytes, by which
    // they are matched; a record for anything else would be a message one service wrote and the
    // next one refused.
    const b64 = (b: Buffer | null) => (b ?? Buffer.alloc(0)).toString('base64');
    const refused = (msgs: Array<Buffer | null>, decode: (b: Buffer | null) => boolean) => new Set(msgs.filter((b) => !decode(b)).map(b64));
    const ingestRefuses = refused(
      raw,
      (b) => validateBatch([{ topic: t.eventsRaw, partition: 0, offset: '0', value: b }], Date.now(), SETTINGS)[0]!.ok,
    );
    const correlationRefuses = refused(events, (b) => parseEvent(b, LIMITS).ok);
    const forwarderRefusesEvents = refused(events, (b) => readForwardable(b, 'event', LIMITS).ok);
    const routerRefuses = refused(alerts, (b) => readAlert(b, LIMITS).ok);
    const forwarderRefusesAlerts = refused(alerts, (b) => readForwardable(b, 'alert', LIMITS).ok);
    expect(ingestRefuses.size).toBeGreaterThan(N / 3);
    expect(routerRefuses.size).toBeGreaterThan(N / 3);

    // Nothing valid lost: every event on the validated topic and in Splunk, in Elasticsearch or
    // refused by it with a reason (random details can conflict with the index's dynamic mapping,
    // as they would in a real cluster), every alert notified through the catch-all webhook.
    const rawIds = validRaw.map((e) => e.event_id);
    const eventIds = [...rawIds, ...validEvents.map((e) => e.event_id)];
    await feed.until('every valid raw event on the validated topic', (s) => rawIds.every((id) => s.events.has(id)), 180_000);
    await waitFor('every event in Splunk', () => eventIds.every((id) => standins.instances.splunk.timesIndexed(id) > 0), 180_000, 500);
    const hook = () =>
      new Set(
        standins.instances.webhook.received.flatMap((d) => (d.body as { alerts: { alert_id: string }[] }).alerts.map((a) => a.alert_id)),
      );
    await waitFor('every valid alert notified', () => validAlerts.every((a) => hook().has(a.alert_id)), 180_000, 500);
    const es = standins.instances.elasticsearch;
    let esRefused = new Set<string>();
    await waitFor(
      'every event in Elasticsearch or refused by it',
      async () => {
        const forwardDlq = await dlqBySource(t.forwardDlq, t.events, 1, 5_000);
        esRefused = new Set(
          (forwardDlq.get('siem-forwarder') ?? []).map(
            (r) => (JSON.parse(Buffer.from(r.original_base64, 'base64').toString()) as { event_id: string }).event_id,
          ),
        );
        for (const r of forwardDlq.get('siem-forwarder') ?? [])
          expect([r.error_kind, r.reason.trim() !== '']).toEqual(['sink_rejected', true]);
        return eventIds.every((id) => es.doc(id) !== undefined || esRefused.has(id));
      },
      180_000,
      2_000,
    );

    // Every refusal dead-lettered, with a kind and a reason, by every service that reads the topic.
    const contents = (rs: DlqRecord[] | undefined) => new Set((rs ?? []).map((r) => r.original_base64));
    const sorted = (x: Set<string>) => [...x].sort();
    const expectations: Array<[string, string, string, Set<string>]> = [
      [t.eventsDlq, t.eventsRaw, 'ingest', ingestRefuses],
      [t.alertsDlq, t.events, 'correlation', correlationRefuses],
      [t.alertsDlq, t.events, 'siem-forwarder', forwarderRefusesEvents],
      [t.alertsDlq, t.alerts, 'alert-router', routerRefuses],
      [t.alertsDlq, t.alerts, 'soar', routerRefuses],
      [t.alertsDlq, t.alerts, 'siem-forwarder', forwarderRefusesAlerts],
    ];
    for (const [dlq, source, service, want] of expectations) {
      let got = new Set<string>();
      await waitFor(
        `${service}'s DLQ records for ${source}`,
        async () => {
          const by = await dlqBySource(dlq, source, 1, 5_000);
          for (const r of by.get(service) ?? [])
            expect([service, r.error_kind, r.reason.trim().length > 0]).toEqual([service, r.error_kind, true]);
          got = contents(by.get(service));
          return sorted(want).every((c) => got.has(c));
        },
        120_000,
        2_000,
      ).catch(() => undefined);
      expect([service, source, sorted(got)]).toEqual([service, source, sorted(want)]);
    }
    console.log(
      `fuzz: ${raw.length} raw (${ingestRefuses.size} refused), ${events.length} validated-topic (${correlationRefuses.size} refused), ` +
        `${alerts.length} alerts (${routerRefuses.size} refused); ${esRefused.size} events refused by the Elasticsearch mapping`,
    );

    await allAlive();
  });

  // --- HTTP ----------------------------------------------------------------------------------------

  const STACK = /\n\s+at |node_modules|\/work\/|\.ts:\d+|\.js:\d+/;

  /** Sends one request; answers must be < 500, and a 4xx must be JSON saying what was wrong. */
  async function probe(
    base: string,
    req: { method: string; path: string; headers: Record<string, string>; body?: Buffer },
  ): Promise<number> {
    const res = await fetch(base + req.path, {
      method: req.method,
      headers: req.headers,
      ...(req.body !== undefined && req.method !== 'GET' && req.method !== 'HEAD' ? { body: req.body } : {}),
    });
    const text = await res.text();
    const where = `${req.method} ${req.path} → ${res.status} ${text.slice(0, 300)}`;
    expect([where, res.status < 500]).toEqual([where, true]);
    if (res.status >= 400 && req.method !== 'HEAD') {
      let body: { message?: unknown; error?: unknown; text?: unknown } | null = null;
      try {
        body = JSON.parse(text) as { message?: unknown; error?: unknown; text?: unknown };
      } catch {
        // not JSON: reported below
      }
      // Vigil's APIs answer {error, message}; the HEC endpoint answers as Splunk does, {text, code}.
      // NDJSON answers per line: {accepted, refused, results: [{line, status, reason}]}.
      const results = (body as { results?: Array<{ reason?: unknown }> } | null)?.results;
      const reason =
        body &&
        (typeof body.message === 'string' ||
          Array.isArray(body.message) ||
          typeof body.error === 'string' ||
          typeof body.text === 'string' ||
          (Array.isArray(results) && results.some((r) => typeof r.reason === 'string')));
      expect([where, Boolean(reason)]).toEqual([where, true]);
      expect([where, STACK.test(text)]).toEqual([where, false]);
    }
    return res.status;
  }

  const segment = fc.oneof(
    fc.uuid(),
    fc.string({ maxLength: 40 }).map(encodeURIComponent),
    fc.constantFrom('..%2f..%2fetc%2fpasswd', '%zz', '%', '%00', '%E0%A4%A', 'a'.repeat(3000), '%F0%9F%92%A9', '.', '..', '~'),
  );
  const contentType = fc.constantFrom(
    'application/json',
    'application/json; charset=utf-8',
    'application/json; charset=utf-16',
    'application/x-www-form-urlencoded',
    'text/plain',
    'application/xml',
    'multipart/form-data; boundary=x',
    'application/json; charset=bogus',
    '',
  );
  const authFor = (valid: string, scheme = 'Bearer') =>
    fc.oneof(
      fc.constant(`${scheme} ${valid}`),
      fc.constant(''),
      fc.string({ maxLength: 80 }).map((s) => `${scheme} ${s.replace(/[^\x20-\x7e]/g, '')}`),
      fc.constantFrom('Basic YWRtaW46YWRtaW4=', `bearer ${valid}`, `Bearer  ${valid}`, `Bearer ${'x'.repeat(5000)}`, `Splunk ${valid}`),
    );
  const body = (shape: fc.Arbitrary<object>) =>
    fc.oneof(
      shape.map((o) => Buffer.from(JSON.stringify(o))),
      broken(shape),
      junk,
      fc.jsonValue({ maxDepth: 5 }).map((v) => Buffer.from(JSON.stringify(v) ?? 'null')),
      fc.constant(Buffer.from(`{"comment":"${'x'.repeat(300 * 1024)}"}`)),
      fc.constant(Buffer.from('{"a":'.repeat(20_000))),
    );
  // Mostly the methods the routes serve, so the fuzzing gets past the router into the handlers.
  const method = fc.oneof(
    { arbitrary: fc.constant('POST'), weight: 6 },
    { arbitrary: fc.constant('GET'), weight: 3 },
    { arbitrary: fc.constant('DELETE'), weight: 2 },
    { arbitrary: fc.constantFrom('PUT', 'PATCH', 'OPTIONS', 'HEAD'), weight: 1 },
  );

  function requests(paths: fc.Arbitrary<string>, token: string, shape: fc.Arbitrary<object>, scheme = 'Bearer') {
    return fc.record({ method, path: paths, auth: authFor(token, scheme), type: contentType, body: body(shape) }).map((r) => ({
      method: r.method,
      path: r.path,
      headers: { ...(r.auth ? { Authorization: r.auth } : {}), ...(r.type ? { 'Content-Type': r.type } : {}) },
      body: r.body,
    }));
  }

  it('soar approvals API: fuzzed requests get 2xx or a 4xx with a JSON reason, never a 5xx; real calls keep working', async () => {
    const base = `http://127.0.0.1:${pipeline.ports.soar}`;
    const paths = fc.oneof(
      fc.tuple(segment, fc.constantFrom('approve', 'reject', 'x', '')).map(([id, act]) => `/api/v1/approvals/${id}/${act}`),
      fc
        .tuple(fc.constantFrom('approvals', 'runs', 'alerts', 'actions', 'undos', 'whoami', 'nope'), segment)
        .map(([p, q]) => `/api/v1/${p}?limit=${q}`),
      segment.map((s) => `/api/v1/${s}`),
    );
    const shape = fc.record({ step_index: fc.integer({ min: -5, max: 200 }), comment: fc.string(), reason: fc.string() });
    const reqs = fc.sample(requests(paths, DEMO_TOKENS.admin, shape), { numRuns: HTTP_RUNS, seed: FUZZ.seed + 10 });
    const statuses = new Map<number, number>();
    for (const [i, r] of reqs.entries()) {
      const s = await probe(base, r);
      statuses.set(s, (statuses.get(s) ?? 0) + 1);
      if (i % 25 === 0) {
        // Real use in between: an analyst reading the queue.
        const ok = await fetch(`${base}/api/v1/approvals?limit=10`, { headers: { Authorization: `Bearer ${DEMO_TOKENS.analyst}` } });
        expect(ok.status).toBe(200);
        expect(Array.isArray(((await ok.json()) as { approvals: unknown[] }).approvals)).toBe(true);
      }
    }
    // The fuzzing reached past authentication and validation, not only the 401 door.
    console.log(`soar approvals API: ${reqs.length} fuzzed requests, answers ${[...statuses].map(([k, v]) => `${k}×${v}`).join(' ')}`);
    expect([...statuses.keys()].filter((s) => s !== 401).length).toBeGreaterThan(1);
    await allAlive();
  });

  it('router silences API: fuzzed requests get 2xx or a 4xx with a JSON reason, never a 5xx; real silences keep working', async () => {
    const base = `http://127.0.0.1:${pipeline.ports['alert-router']}`;
    const paths = fc.oneof(
      fc.constant('/api/v1/silences'),
      segment.map((s) => `/api/v1/silences/${s}`),
      segment.map((s) => `/api/v1/silences?state=${s}`),
    );
    const shape = fc.record({
      matchers: fc.array(
        fc.oneof(
          fc.constant('fuzz="never"'),
          fc.string({ maxLength: 30 }),
          fc
            .tuple(fc.string({ maxLength: 10 }), fc.constantFrom('=', '!=', '=~', '!~'), fc.string({ maxLength: 20 }))
            .map(([a, op, b]) => `${a}${op}"${b}"`),
        ),
        { maxLength: 4 },
      ),
      ends_at: fc.oneof(fc.constant(new Date(Date.now() + 3_600_000).toISOString()), fc.string({ maxLength: 30 })),
      created_by: fc.string({ maxLength: 20 }),
      comment: fc.string({ maxLength: 40 }),
    });
    const reqs = fc.sample(requests(paths, DEMO_TOKENS.silences, shape), { numRuns: HTTP_RUNS, seed: FUZZ.seed + 11 });
    const auth = { Authorization: `Bearer ${DEMO_TOKENS.silences}`, 'Content-Type': 'application/json' };
    const statuses = new Map<number, number>();
    for (const [i, r] of reqs.entries()) {
      const s = await probe(base, r);
      statuses.set(s, (statuses.get(s) ?? 0) + 1);
      if (i % 25 === 0) {
        // Real use in between: a silence created, read back and expired.
        const created = await fetch(`${base}/api/v1/silences`, {
          method: 'POST',
          headers: auth,
          body: JSON.stringify({
            matchers: ['fuzz="never"'],
            ends_at: new Date(Date.now() + 600_000).toISOString(),
            created_by: 'fuzz',
            comment: 'interleaved',
          }),
        });
        expect(created.status).toBe(201);
        const { id } = (await created.json()) as { id: string };
        expect((await fetch(`${base}/api/v1/silences/${id}`, { headers: auth })).status).toBe(200);
        expect((await fetch(`${base}/api/v1/silences/${id}`, { method: 'DELETE', headers: auth })).status).toBe(200);
      }
    }
    console.log(`router silences API: ${reqs.length} fuzzed requests, answers ${[...statuses].map(([k, v]) => `${k}×${v}`).join(' ')}`);
    expect([...statuses.keys()].filter((s) => s !== 401).length).toBeGreaterThan(1);
    await allAlive();
  });
  it('ingest HEC and NDJSON endpoints: fuzzed requests get 2xx or a 4xx with a reason, never a 5xx; valid events sent in between all arrive', async () => {
    const base = `http://127.0.0.1:${pipeline.ports.ingest}`;
    const paths = fc.constantFrom(
      '/services/collector/event',
      '/services/collector',
      '/services/collector/event/1.0',
      '/services/collector/ack',
      '/services/collector/health',
      '/services/collector/raw',
      '/api/v1/events',
    );
    const envelope = fc.record({
      event: rawEvent,
      time: fc.option(fc.oneof(fc.double(), fc.string({ maxLength: 14 })), { nil: undefined }),
      host: fc.option(fc.oneof(fc.string({ maxLength: 20 }), fc.integer()), { nil: undefined }),
      index: fc.option(fc.string({ maxLength: 12 }), { nil: undefined }),
      fields: fc.option(fc.jsonValue({ maxDepth: 2 }), { nil: undefined }),
    });
    const concatenated = fc
      .array(
        fc.oneof(
          envelope.map((e) => JSON.stringify(e)),
          broken(envelope).map((b) => b.toString('latin1')),
          rawEvent.map((e) => JSON.stringify(e)),
        ),
        {
          minLength: 1,
          maxLength: 5,
        },
      )
      .map((parts) => Buffer.from(parts.join(parts.length % 2 ? '\n' : '')));
    const reqs = fc.sample(
      fc
        .tuple(requests(paths, HEC_TOKEN, envelope, 'Splunk'), fc.boolean(), concatenated, fc.boolean())
        .map(([r, concat, body, bearer]) => ({
          ...r,
          ...(concat ? { body } : {}),
          ...(bearer && r.path === '/api/v1/events' ? { headers: { ...r.headers, Authorization: `Bearer ${HEC_TOKEN}` } } : {}),
        })),
      { numRuns: HTTP_RUNS, seed: FUZZ.seed + 12 },
    );
    const valid = sample(rawEvent, Math.ceil(HTTP_RUNS / 25) * 3, 13).map((e, i) => ({
      ...e,
      event_id: `00000000-0000-4000-9000-${String(i).padStart(12, '0')}`,
    }));
    const statuses = new Map<number, number>();
    for (const [i, r] of reqs.entries()) {
      const s = await probe(base, r);
      statuses.set(s, (statuses.get(s) ?? 0) + 1);
      if (i % 25 === 0) {
        // A real HEC client in between: three events in one request, stored before the answer.
        const batch = valid.slice((i / 25) * 3, (i / 25) * 3 + 3);
        const res = await fetch(`${base}/services/collector/event`, {
          method: 'POST',
          headers: { Authorization: `Splunk ${HEC_TOKEN}` },
          body: batch.map((event) => JSON.stringify({ event })).join(''),
        });
        expect([res.status, await res.json()]).toEqual([200, { text: 'Success', code: 0 }]);
      }
    }
    console.log(`ingest HEC/NDJSON: ${reqs.length} fuzzed requests, answers ${[...statuses].map(([k, v]) => `${k}×${v}`).join(' ')}`);
    expect([...statuses.keys()].filter((s) => s !== 401 && s !== 403).length).toBeGreaterThan(1);
    const sent = valid.slice(0, Math.ceil(reqs.length / 25) * 3).map((e) => e.event_id);
    await feed.until('every event sent over HEC on the validated topic', (s) => sent.every((id) => s.events.has(id)), 120_000);
    await allAlive();
  });
});
