import { alertItem, eventItem, sampleEvent } from './fixtures';
import { SENTINEL_ALERT_COLUMNS, SENTINEL_EVENT_COLUMNS, classifyLogsIngestion, readTokenAnswer, sentinelRow } from './sentinel';

describe('Logs Ingestion rows', () => {
  it('has exactly the declared event columns, with TimeGenerated from the event time', () => {
    const row = JSON.parse(sentinelRow(eventItem()));
    expect(Object.keys(row).sort()).toEqual(SENTINEL_EVENT_COLUMNS.map((c) => c.name).sort());
    expect(row).toMatchObject({
      TimeGenerated: '2026-11-29T10:00:00.123Z',
      EventId: '3f8a1c2e-9b7d-4e6f-8a1b-2c3d4e5f6a7b',
      SourceIp: '203.0.113.7',
      ActorUserId: 'alice',
    });
  });

  it('writes null for absent optional fields rather than leaving columns out', () => {
    const row = JSON.parse(sentinelRow(eventItem({ actor: undefined, source: { application: 'app' } })));
    expect(row).toMatchObject({ ActorUserId: null, SourceIp: null, SourceHostname: null });
  });

  it('has exactly the declared alert columns', () => {
    const row = JSON.parse(sentinelRow(alertItem()));
    expect(Object.keys(row).sort()).toEqual(SENTINEL_ALERT_COLUMNS.map((c) => c.name).sort());
    expect(row).toMatchObject({
      AlertId: '9b2f7a10-4c3e-5d21-8e9f-0a1b2c3d4e5f',
      SampleEventIds: [sampleEvent().event_id],
      EventCount: 12,
    });
  });
});

describe('reading Logs Ingestion answers', () => {
  it.each([
    [204, null, 'items'],
    [413, { error: { code: 'ContentLengthLimitExceeded', message: 'Maximum allowed content length: 1048576 bytes (1 MB).' } }, 'too_large'],
    [429, { error: { code: 'TooManyRequests', message: 'slow down' } }, 'unavailable'],
    [503, null, 'unavailable'],
    [403, { error: { code: 'OperationFailed', message: 'The authentication token provided does not have access' } }, 'refused'],
    [400, { error: { code: 'InvalidStream', message: 'no such stream' } }, 'refused'],
    [404, { error: { code: 'NotFound', message: 'no such DCR' } }, 'refused'],
  ])('HTTP %d is %s', (status, body, kind) => {
    expect(classifyLogsIngestion(status, body, 2).kind).toBe(kind);
  });

  it('carries Retry-After on 429 and names the Azure error code', () => {
    expect(classifyLogsIngestion(429, { error: { code: 'TooManyRequests', message: 'slow down' } }, 1, 7_000)).toEqual({
      kind: 'unavailable',
      reason: 'Logs Ingestion 429: TooManyRequests: slow down',
      retryAfterMs: 7_000,
    });
  });
});

describe('reading token answers', () => {
  it('takes the access token and its lifetime', () => {
    expect(readTokenAnswer(200, { token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: 'abc' })).toEqual({
      ok: true,
      accessToken: 'abc',
      expiresInS: 3599,
    });
  });

  it.each([
    [401, { error: 'invalid_client', error_description: 'AADSTS7000215: Invalid client secret provided.' }, false],
    [400, { error: 'invalid_scope', error_description: 'AADSTS1002012: The provided value for scope x is not valid.' }, false],
    [400, { error: 'unauthorized_client', error_description: 'AADSTS700016: Application not found' }, false],
    [503, null, true],
    [429, null, true],
    [200, { token_type: 'Bearer' }, true],
  ])('HTTP %d is a failure (retriable: %s)', (status, body, retriable) => {
    expect(readTokenAnswer(status, body)).toMatchObject({ ok: false, retriable });
  });
});
