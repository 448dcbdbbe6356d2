import { alertItem, eventItem, sampleEvent } from './fixtures';
import { bulkCreateLines, classifyBulk, ecsEvent, indexName, indexNameProblem, parseIndexPattern, type EsFormat } from './elasticsearch';

function pattern(text: string) {
  const r = parseIndexPattern(text);
  if (!r.ok) throw new Error(r.problem);
  return r.pattern;
}
const T = Date.parse('2026-11-29T23:59:59.999Z');

describe('index names', () => {
  it.each([
    ['vigil-events-{yyyy.MM.dd}', 'vigil-events-2026.11.29'],
    ['vigil-{yyyy-MM}', 'vigil-2026-11'],
    ['logs-{yyyy.MM.dd_HH}-x', 'logs-2026.11.29_23-x'],
    ['logs-vigil.security-default', 'logs-vigil.security-default'],
  ])('%s names the index %s for an event on 2026-11-29 23:59 UTC', (text, expected) => {
    expect(indexName(pattern(text), T)).toBe(expected);
  });

  it('takes the date from the event time in UTC, not local time', () => {
    expect(indexName(pattern('x-{yyyy.MM.dd}'), Date.parse('2026-11-30T00:30:00+02:00'))).toBe('x-2026.11.29');
  });

  it.each([
    ['Vigil-{yyyy}', 'must be lowercase'],
    ['vigil events', 'must not contain " "'],
    ['_vigil', 'must not start with -, _ or +'],
    ['vigil-{yyyy', 'without its "}"'],
    ['vigil-{week}', 'may only use yyyy, MM, dd, HH'],
    ['vigil-{.}', 'may only use yyyy, MM, dd, HH'],
    ['', 'must not be empty'],
  ])('refuses the pattern %j (%s)', (text, problem) => {
    const r = parseIndexPattern(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problem).toContain(problem);
  });

  it.each([
    ['ok-name', null],
    ['a:b', 'must be lowercase and must not contain ":"'],
    ['..', 'must not be . or ..'],
  ])('index name %j: %s', (name, problem) => {
    expect(indexNameProblem(name)).toBe(problem);
  });
});

describe('bulk create lines', () => {
  const format: EsFormat = { index: pattern('vigil-events-{yyyy.MM.dd}'), alertIndex: pattern('vigil-alerts-{yyyy.MM}'), format: 'vigil' };

  it('writes a create action with _id = event_id, then the document, each ending in a newline', () => {
    const [action, doc, end] = bulkCreateLines(eventItem(), format).split('\n');
    expect(JSON.parse(action!)).toEqual({ create: { _index: 'vigil-events-2026.11.29', _id: '3f8a1c2e-9b7d-4e6f-8a1b-2c3d4e5f6a7b' } });
    expect(JSON.parse(doc!)).toMatchObject({
      '@timestamp': '2026-11-29T10:00:00.123Z',
      event_id: '3f8a1c2e-9b7d-4e6f-8a1b-2c3d4e5f6a7b',
      severity: 'high',
    });
    expect(end).toBe('');
  });

  it('sends alerts to the alert index with _id = alert_id', () => {
    const [action] = bulkCreateLines(alertItem(), format).split('\n');
    expect(JSON.parse(action!)).toEqual({ create: { _index: 'vigil-alerts-2026.11', _id: '9b2f7a10-4c3e-5d21-8e9f-0a1b2c3d4e5f' } });
  });
});

describe('ECS documents', () => {
  it('maps a failed login to ECS authentication fields', () => {
    const d = ecsEvent(sampleEvent());
    expect(d).toMatchObject({
      '@timestamp': '2026-11-29T10:00:00.123Z',
      event: {
        id: '3f8a1c2e-9b7d-4e6f-8a1b-2c3d4e5f6a7b',
        kind: 'event',
        category: ['authentication'],
        type: ['info'],
        outcome: 'failure',
        severity: 4,
      },
      source: { ip: '203.0.113.7' },
      host: { hostname: 'web-1' },
      user: { id: 'alice', name: 'alice@example.com' },
      service: { name: 'billing-api', environment: 'production' },
      related: { ip: ['203.0.113.7', '198.51.100.4'], user: ['alice', 'alice@example.com'] },
    });
  });

  it.each<[string, Parameters<typeof sampleEvent>[0], string]>([
    ['denied', { outcome: 'denied' }, 'failure'],
    ['error', { outcome: 'error' }, 'failure'],
    ['success', { outcome: 'success' }, 'success'],
    ['unknown', { outcome: 'unknown' }, 'unknown'],
  ])('outcome %s becomes ECS event.outcome %s', (_n, o, expected) => {
    expect((ecsEvent(sampleEvent(o)).event as { outcome: string }).outcome).toBe(expected);
  });

  it('marks security alerts as event.kind alert', () => {
    expect((ecsEvent(sampleEvent({ event_type: 'security_alert' })).event as { kind: string }).kind).toBe('alert');
  });
});

describe('reading _bulk answers', () => {
  const item = (status: number, error?: object) => ({ create: { _index: 'i', _id: 'x', status, ...(error ? { error } : {}) } });

  it('HTTP 200 with errors: reads every item, 409 on create is a stored duplicate', () => {
    const body = {
      errors: true,
      items: [
        item(201),
        item(409, { type: 'version_conflict_engine_exception', reason: 'document already exists' }),
        item(429, { type: 'es_rejected_execution_exception', reason: 'rejected execution' }),
        item(503, { type: 'unavailable_shards_exception', reason: 'primary shard is not active' }),
        item(400, { type: 'document_parsing_exception', reason: 'failed to parse field [x] of type [long]' }),
      ],
    };
    expect(classifyBulk(200, body, 5)).toEqual({
      kind: 'items',
      items: [
        { status: 'ok' },
        { status: 'ok', duplicate: true },
        { status: 'retry', reason: 'item 429 es_rejected_execution_exception: rejected execution' },
        { status: 'retry', reason: 'item 503 unavailable_shards_exception: primary shard is not active' },
        { status: 'reject', reason: 'item 400 document_parsing_exception: failed to parse field [x] of type [long]' },
      ],
    });
  });

  it('reads item statuses even when errors says false', () => {
    expect(classifyBulk(200, { errors: false, items: [item(429, { type: 't', reason: 'r' })] }, 1)).toMatchObject({
      items: [{ status: 'retry' }],
    });
  });

  it('an answer with fewer items than actions is not trusted', () => {
    expect(classifyBulk(200, { errors: false, items: [item(201)] }, 2).kind).toBe('unavailable');
  });

  it.each([
    [401, { error: { type: 'security_exception', reason: 'missing authentication credentials' }, status: 401 }, 'refused'],
    [403, { error: { type: 'security_exception', reason: 'action [indices:data/write/bulk] is unauthorized' }, status: 403 }, 'refused'],
    [
      400,
      { error: { type: 'illegal_argument_exception', reason: 'The bulk request must be terminated by a newline' }, status: 400 },
      'refused',
    ],
    [413, null, 'too_large'],
    [429, { error: { type: 'circuit_breaking_exception', reason: '[parent] Data too large' }, status: 429 }, 'unavailable'],
    [502, null, 'unavailable'],
  ])('HTTP %d is %s', (status, body, kind) => {
    expect(classifyBulk(status, body, 3).kind).toBe(kind);
  });
});
