import { ElasticsearchStandin } from './bulk';

const KEY = Buffer.from('key-id:key-secret').toString('base64');
const H = { Authorization: `ApiKey ${KEY}`, 'Content-Type': 'application/x-ndjson' };

async function bulk(s: ElasticsearchStandin, body: string, headers: Record<string, string> = H, path = '/_bulk') {
  const res = await fetch(`${s.url}${path}`, { method: 'POST', body, headers });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as Record<string, any>) : null }; // eslint-disable-line @typescript-eslint/no-explicit-any
}
const create = (id: string, doc: object, index = 'vigil-events-2026.11.29') =>
  `${JSON.stringify({ create: { _index: index, _id: id } })}\n${JSON.stringify(doc)}\n`;

describe('Elasticsearch _bulk stand-in', () => {
  let s: ElasticsearchStandin;
  beforeEach(async () => {
    s = await ElasticsearchStandin.start({
      apiKeys: [KEY],
      users: { elastic: 'changeme' },
      mappings: { 'details.port': 'long' },
      maxContentLength: 8192,
    });
  });
  afterEach(() => s.close());

  it('refuses a request without credentials with 401 security_exception and a challenge', async () => {
    const r = await bulk(s, create('a', { x: 1 }), { 'Content-Type': 'application/x-ndjson' });
    expect(r.status).toBe(401);
    expect(r.body!.error.type).toBe('security_exception');
    expect(r.headers.get('www-authenticate')).toContain('ApiKey');
  });

  it('refuses a wrong password and accepts the right one (basic auth)', async () => {
    const basic = (p: string) => ({
      Authorization: `Basic ${Buffer.from(`elastic:${p}`).toString('base64')}`,
      'Content-Type': 'application/json',
    });
    expect((await bulk(s, create('a', { x: 1 }), basic('nope'))).status).toBe(401);
    expect((await bulk(s, create('a', { x: 1 }), basic('changeme'))).status).toBe(200);
  });

  it('refuses an unsupported Content-Type with 406', async () => {
    expect((await bulk(s, create('a', { x: 1 }), { ...H, 'Content-Type': 'text/plain' })).status).toBe(406);
  });

  it('refuses a body without the final newline with 400', async () => {
    const r = await bulk(s, create('a', { x: 1 }).trimEnd());
    expect(r.status).toBe(400);
    expect(r.body!.error.reason).toBe('The bulk request must be terminated by a newline [\\n]');
  });

  it('refuses the whole request when an action line is malformed', async () => {
    const r = await bulk(s, create('a', { x: 1 }) + '{"upsert":{"_index":"x"}}\n{}\n');
    expect(r.status).toBe(400);
    expect(r.body!.error.reason).toContain('expected one of [create, delete, index, update] but found [upsert]');
    expect(s.count()).toBe(0);
  });

  it('stores created documents and answers 409 for a second create with the same _id', async () => {
    const first = await bulk(s, create('a', { x: 1 }) + create('b', { x: 2 }));
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({
      errors: false,
      items: [{ create: { _id: 'a', status: 201, result: 'created' } }, { create: { _id: 'b', status: 201 } }],
    });
    const again = await bulk(s, create('a', { x: 1 }));
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({
      errors: true,
      items: [{ create: { _id: 'a', status: 409, error: { type: 'version_conflict_engine_exception' } } }],
    });
    expect(s.count()).toBe(2);
    expect(s.conflicts).toBe(1);
  });

  it('fails only the item that conflicts with the mapping, answering 200 with errors: true', async () => {
    const r = await bulk(s, create('good', { details: { port: 22 } }) + create('bad', { details: { port: 'ssh' } }));
    expect(r.status).toBe(200);
    expect(r.body!.errors).toBe(true);
    expect(r.body!.items[0].create.status).toBe(201);
    expect(r.body!.items[1].create).toMatchObject({ status: 400, error: { type: 'document_parsing_exception' } });
    expect(s.doc('good')).toBeDefined();
    expect(s.doc('bad')).toBeUndefined();
  });

  it('fixes a field type on first sight (dynamic mapping)', async () => {
    await bulk(s, create('a', { n: 1 }));
    const r = await bulk(s, create('b', { n: 'not a number' }));
    expect(r.body!.items[0].create.status).toBe(400);
  });

  it('fails an item with an invalid index name', async () => {
    const r = await bulk(s, create('a', { x: 1 }, 'Vigil-Events'));
    expect(r.body!.items[0].create).toMatchObject({ status: 400, error: { type: 'invalid_index_name_exception' } });
  });

  it('fails the next N items with an injected 429, leaving the rest stored', async () => {
    s.failNextItems(2, 429);
    const r = await bulk(s, create('a', { x: 1 }) + create('b', { x: 1 }) + create('c', { x: 1 }));
    expect(r.body!.items.map((i: { create: { status: number } }) => i.create.status)).toEqual([429, 429, 201]);
    expect(r.body!.items[0].create.error.type).toBe('es_rejected_execution_exception');
    expect(s.count()).toBe(1);
    expect(s.statusesOf('a')).toEqual([429]);
  });

  it('answers a request over http.max_content_length with a bare 413', async () => {
    const r = await bulk(s, create('a', { blob: 'x'.repeat(9000) }));
    expect(r.status).toBe(413);
    expect(s.count()).toBe(0);
  });

  it('takes the index from the URL when the action line has none', async () => {
    const r = await bulk(s, `${JSON.stringify({ create: { _id: 'a' } })}\n{"x":1}\n`, H, '/from-url/_bulk');
    expect(r.body!.items[0].create).toMatchObject({ _index: 'from-url', status: 201 });
  });
});
