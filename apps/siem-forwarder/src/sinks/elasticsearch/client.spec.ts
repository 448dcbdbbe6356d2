import { parseEnv } from '@vigil/runtime';
import { ElasticsearchStandin } from '@vigil/standins';
import { ForwarderEnvSchema, forwarderConfig } from '../../config';
import { alertItem, eventItem } from '../../domain/fixtures';
import { ElasticsearchClient } from './client';

const KEY = Buffer.from('vigil:secret-key').toString('base64');

function client(url: string, env: Record<string, string> = {}) {
  const raw = { SIEM_SINKS: 'elasticsearch', SIEM_ALLOW_PLAINTEXT_HTTP: 'true', ES_URL: url, ES_API_KEY: KEY, ...env };
  const config = forwarderConfig(parseEnv(ForwarderEnvSchema, raw), raw);
  return new ElasticsearchClient(config.elasticsearch!, { maxEvents: 100, timeoutMs: 5_000, maxInFlight: 2 });
}
const signal = () => new AbortController().signal;
const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

describe('Elasticsearch client against the stand-in', () => {
  let es: ElasticsearchStandin;
  let c: ElasticsearchClient | undefined;
  beforeEach(async () => {
    es = await ElasticsearchStandin.start({
      apiKeys: [KEY],
      users: { vigil: 'pw' },
      mappings: { 'details.attempt': 'long' },
      maxContentLength: 64 * 1024,
    });
  });
  afterEach(async () => {
    await c?.close();
    await es.close();
  });

  it('creates documents under _id = event_id in the dated index, and a resend is a harmless 409', async () => {
    c = client(es.url);
    const recs = [c.encode(eventItem()), c.encode(eventItem({ event_id: id(2) }))];
    expect(await c.send(recs, signal())).toEqual({ kind: 'items', items: [{ status: 'ok' }, { status: 'ok' }] });
    expect(es.count('vigil-events-2026.11.29')).toBe(2);
    expect(await c.send(recs, signal())).toEqual({
      kind: 'items',
      items: [
        { status: 'ok', duplicate: true },
        { status: 'ok', duplicate: true },
      ],
    });
    expect(es.count()).toBe(2);
  });

  it('writes alerts to the alert index', async () => {
    c = client(es.url);
    await c.send([c.encode(alertItem())], signal());
    expect(es.indexNames()).toEqual(['vigil-alerts-2026.11.29']);
  });

  it('reads a partial failure item by item: 429 retried, mapping conflict refused, the rest stored', async () => {
    c = client(es.url);
    es.failNextItems(1, 429);
    const out = await c.send(
      [
        c.encode(eventItem({ event_id: id(1) })),
        c.encode(eventItem({ event_id: id(2), details: { attempt: 'three' } })),
        c.encode(eventItem({ event_id: id(3) })),
      ],
      signal(),
    );
    expect(out).toEqual({
      kind: 'items',
      items: [
        { status: 'retry', reason: expect.stringContaining('item 429 es_rejected_execution_exception') },
        {
          status: 'reject',
          reason: expect.stringContaining(
            'item 400 document_parsing_exception: [1:1] failed to parse field [details.attempt] of type [long]',
          ),
        },
        { status: 'ok' },
      ],
    });
    expect(es.doc(id(3))).toBeDefined();
  });

  it('stores ECS documents when asked', async () => {
    c = client(es.url, { ES_ECS: 'true' });
    await c.send([c.encode(eventItem())], signal());
    expect(es.doc(eventItem().id)!.source).toMatchObject({
      event: { category: ['authentication'], outcome: 'failure' },
      source: { ip: '203.0.113.7' },
    });
  });

  it('stores OCSF documents with ES_DOCUMENT_FORMAT=ocsf (class fields plus @timestamp)', async () => {
    c = client(es.url, { ES_DOCUMENT_FORMAT: 'ocsf' });
    await c.send([c.encode(eventItem()), c.encode(alertItem())], signal());
    expect(es.doc(eventItem().id)!.source).toMatchObject({
      '@timestamp': '2026-11-29T10:00:00.123Z',
      class_uid: 3002,
      activity_id: 1,
      type_uid: 300201,
      status_id: 2,
      src_endpoint: { ip: '203.0.113.7' },
    });
    expect(es.doc(alertItem().id)!.source).toMatchObject({ class_uid: 2004, type_uid: 200401 });
  });

  it('refuses ES_ECS=true next to a different ES_DOCUMENT_FORMAT', () => {
    expect(() => client(es.url, { ES_ECS: 'true', ES_DOCUMENT_FORMAT: 'ocsf' })).toThrow(/ES_ECS/);
  });

  it('authenticates with basic auth too; wrong credentials are refused', async () => {
    c = client(es.url, { ES_API_KEY: '', ES_USERNAME: 'vigil', ES_PASSWORD: 'pw' });
    expect((await c.send([c.encode(eventItem())], signal())).kind).toBe('items');
    await c.close();
    c = client(es.url, { ES_API_KEY: '', ES_USERNAME: 'vigil', ES_PASSWORD: 'nope' });
    expect(await c.send([c.encode(eventItem())], signal())).toMatchObject({
      kind: 'refused',
      reason: expect.stringContaining('_bulk 401: security_exception'),
    });
  });

  it('a request over the cluster limit is too large (to be split), not retried as is', async () => {
    c = client(es.url);
    const recs = Array.from({ length: 100 }, (_, i) => c!.encode(eventItem({ event_id: id(i), details: { blob: 'x'.repeat(1000) } })));
    expect((await c.send(recs, signal())).kind).toBe('too_large');
    expect(es.count()).toBe(0);
  });

  it('a throttled cluster (429 on the whole request) is unavailable with its Retry-After', async () => {
    c = client(es.url);
    es.server.failNext(1, {
      status: 429,
      headers: { 'Retry-After': '3' },
      body: { error: { type: 'es_rejected_execution_exception', reason: 'too many requests' }, status: 429 },
    });
    expect(await c.send([c.encode(eventItem())], signal())).toMatchObject({ kind: 'unavailable', retryAfterMs: 3_000 });
  });
});
