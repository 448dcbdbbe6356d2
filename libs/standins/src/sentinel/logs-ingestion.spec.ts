import { gzipSync } from 'node:zlib';
import { SentinelStandin } from './logs-ingestion';

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const APP = '11111111-2222-3333-4444-555555555555';
const OTHER_APP = '66666666-2222-3333-4444-555555555555';
const DCR = 'dcr-00000000000000000000000000000001';
const STREAM = 'Custom-VigilSecurityEvents_CL';

async function token(s: SentinelStandin, form: Record<string, string>, tenant = TENANT) {
  const res = await fetch(`${s.authorityUrl}/${tenant}/oauth2/v2.0/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });
  return { status: res.status, body: (await res.json()) as Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
}
const goodForm = (over: Record<string, string> = {}) => ({
  grant_type: 'client_credentials',
  client_id: APP,
  client_secret: 's3cret',
  scope: 'https://monitor.azure.com/.default',
  ...over,
});

async function ingest(
  s: SentinelStandin,
  body: Buffer | string,
  opts: { token?: string; gzip?: boolean; path?: string; query?: string } = {},
) {
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
  if (opts.gzip) headers['Content-Encoding'] = 'gzip';
  const res = await fetch(
    `${s.dceUrl}${opts.path ?? `/dataCollectionRules/${DCR}/streams/${STREAM}`}${opts.query ?? '?api-version=2023-01-01'}`,
    { method: 'POST', headers, body },
  );
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as Record<string, any>) : null }; // eslint-disable-line @typescript-eslint/no-explicit-any
}

describe('Sentinel (Logs Ingestion API + Entra ID token endpoint) stand-in', () => {
  let s: SentinelStandin;
  beforeEach(async () => {
    s = await SentinelStandin.start({
      tenantId: TENANT,
      clients: { [APP]: 's3cret', [OTHER_APP]: 'other' },
      dcrs: {
        [DCR]: {
          streams: {
            [STREAM]: [
              { name: 'TimeGenerated', type: 'datetime' },
              { name: 'EventId', type: 'string' },
              { name: 'Count', type: 'long' },
            ],
          },
          publishers: [APP],
        },
      },
    });
  });
  afterEach(() => s.close());

  it('issues a bearer token for the client-credentials grant', async () => {
    const r = await token(s, goodForm());
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: expect.any(String) });
  });

  it.each([
    ['a wrong secret', goodForm({ client_secret: 'nope' }), 401, 'invalid_client', 'AADSTS7000215'],
    ['an unknown client', goodForm({ client_id: '99999999-2222-3333-4444-555555555555' }), 400, 'unauthorized_client', 'AADSTS700016'],
    ['a scope without /.default', goodForm({ scope: 'https://monitor.azure.com' }), 400, 'invalid_scope', 'AADSTS1002012'],
    [
      'no grant_type',
      { client_id: APP, client_secret: 's3cret', scope: 'https://monitor.azure.com/.default' },
      400,
      'invalid_request',
      'AADSTS900144',
    ],
  ])('refuses %s', async (_n, form, status, error, code) => {
    const r = await token(s, form);
    expect(r.status).toBe(status);
    expect(r.body.error).toBe(error);
    expect(r.body.error_description).toContain(code);
  });

  it('refuses an unknown tenant', async () => {
    expect((await token(s, goodForm(), 'contoso.example')).body.error_description).toContain('AADSTS90002');
  });

  it('ingests a gzip JSON array with 204, keeping only the declared columns', async () => {
    const t = (await token(s, goodForm())).body.access_token;
    const rows = [{ TimeGenerated: '2026-11-29T10:00:00.123Z', EventId: 'a', Count: 3, Extra: 'dropped' }];
    const r = await ingest(s, gzipSync(JSON.stringify(rows)), { token: t, gzip: true });
    expect(r.status).toBe(204);
    expect(s.rows(STREAM)).toEqual([{ TimeGenerated: '2026-11-29T10:00:00.123Z', EventId: 'a', Count: 3 }]);
  });

  it('counts rows per EventId, so a test can see a row ingested twice (the API has no dedup)', async () => {
    const t = (await token(s, goodForm())).body.access_token;
    const rows = [
      { TimeGenerated: '2026-11-29T10:00:00.123Z', EventId: 'a' },
      { TimeGenerated: '2026-11-29T10:00:00.124Z', EventId: 'b' },
    ];
    expect((await ingest(s, JSON.stringify(rows), { token: t })).status).toBe(204);
    expect((await ingest(s, JSON.stringify(rows.slice(0, 1)), { token: t })).status).toBe(204);
    expect([s.timesIngested('a'), s.timesIngested('b'), s.timesIngested('c')]).toEqual([2, 1, 0]);
  });

  it('answers a JSON object (not an array) 204 but drops it, as the real service does', async () => {
    const t = (await token(s, goodForm())).body.access_token;
    expect((await ingest(s, JSON.stringify({ EventId: 'a' }), { token: t })).status).toBe(204);
    expect(s.rowCount(STREAM)).toBe(0);
    expect(s.droppedCalls).toBe(1);
  });

  it('refuses a call without a token, and one with a token for another audience, with 401', async () => {
    expect((await ingest(s, '[]')).status).toBe(401);
    const other = (await token(s, goodForm({ scope: 'https://management.azure.com/.default' }))).body.access_token;
    expect((await ingest(s, '[]', { token: other })).status).toBe(401);
  });

  it('refuses an app without the publisher role on the DCR with 403 OperationFailed', async () => {
    const t = (await token(s, goodForm({ client_id: OTHER_APP, client_secret: 'other' }))).body.access_token;
    const r = await ingest(s, '[]', { token: t });
    expect(r.status).toBe(403);
    expect(r.body!.error.code).toBe('OperationFailed');
    expect(r.body!.error.message).toContain(`does not have access to ingest data for the data collection rule with immutable Id '${DCR}'`);
  });

  it('refuses a missing api-version, an unknown stream and a revoked token', async () => {
    const t = (await token(s, goodForm())).body.access_token;
    expect((await ingest(s, '[]', { token: t, query: '' })).status).toBe(400);
    expect((await ingest(s, '[]', { token: t, path: `/dataCollectionRules/${DCR}/streams/Custom-Nope_CL` })).body!.error.code).toBe(
      'InvalidStream',
    );
    s.revokeTokens();
    expect((await ingest(s, '[]', { token: t })).status).toBe(401);
  });

  it('refuses more than 1 MB, compressed or not, with 413 ContentLengthLimitExceeded', async () => {
    const t = (await token(s, goodForm())).body.access_token;
    const big = JSON.stringify([{ EventId: 'x'.repeat(1024 * 1024 + 10) }]);
    const plain = await ingest(s, big, { token: t });
    expect(plain.status).toBe(413);
    expect(plain.body!.error.message).toMatch(
      /^Maximum allowed content length: 1048576 bytes \(1 MB\)\. Provided content length: \d+ bytes\.$/,
    );
    const zipped = await ingest(s, gzipSync(big), { token: t, gzip: true });
    expect(zipped.status).toBe(413);
  });

  it('throttles with 429 and Retry-After when told to', async () => {
    const t = (await token(s, goodForm())).body.access_token;
    s.throttleNext(1, 7);
    const r = await ingest(s, '[]', { token: t });
    expect(r.status).toBe(429);
    expect(r.headers.get('retry-after')).toBe('7');
  });
});
