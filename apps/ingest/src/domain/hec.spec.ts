import { HEC, envelopeToRawEvent, hecTimeMs, ndjsonLines, splitConcatenatedJson, type TokenScope } from './hec';

const ANY: TokenScope = { name: 't', indexes: [], sources: [] };
const NOW = '2026-11-29T10:00:05.000Z';
const event = (over: Record<string, unknown> = {}) => ({
  event_type: 'authentication',
  severity: 'medium',
  source: { application: 'shop' },
  action: 'login',
  outcome: 'failure',
  ...over,
});

describe('HEC answers', () => {
  it.each([
    ['success', 200, 0],
    ['tokenRequired', 401, 2],
    ['invalidAuthorization', 401, 3],
    ['invalidToken', 403, 4],
    ['noData', 400, 5],
    ['invalidDataFormat', 400, 6],
    ['incorrectIndex', 400, 7],
    ['serverBusy', 503, 9],
    ['invalidChannel', 400, 11],
    ['eventFieldRequired', 400, 12],
    ['eventFieldBlank', 400, 13],
    ['ackDisabled', 400, 14],
    ['healthy', 200, 17],
    ['unhealthy', 503, 18],
  ] as const)('%s is HTTP %i with code %i', (name, status, code) => {
    expect(HEC[name]).toMatchObject({ status, code });
  });
});

describe('splitting a body of concatenated objects', () => {
  it.each<[string, string, Array<boolean>]>([
    ['two objects back to back', '{"a":1}{"b":"}{"}', [true, true]],
    ['one per line with spaces', ' {"a":1}\n\n {"b":[1,{"c":2}]} \n', [true, true]],
    ['braces inside strings and escapes', '{"a":"x\\"}{"}{"b":2}', [true, true]],
    ['stops at a value that is not an object', '{"a":1}[1]{"b":2}', [true, false]],
    ['stops at a cut-off object', '{"a":1}{"b":', [true, false]],
    ['stops at invalid JSON inside braces', '{"a":1}{b:2}{"c":3}', [true, false]],
    ['empty body', '   ', []],
  ])('%s', (_n, text, oks) => {
    expect(splitConcatenatedJson(text, 100).map((p) => p.ok)).toEqual(oks);
  });

  it('reads at most the given number of parts', () => {
    expect(splitConcatenatedJson('{}{}{}{}', 2)).toHaveLength(2);
  });
});

describe('HEC time', () => {
  it.each<[unknown, number | null]>([
    [1764410400, 1764410400000],
    [1764410400.123, 1764410400123],
    ['1764410400.5', 1764410400500],
    ['12abc', null],
    [-1, null],
    [true, null],
    [1e20, null],
  ])('%j → %j', (t, ms) => {
    expect(hecTimeMs(t)).toBe(ms);
  });
});

describe('envelopes', () => {
  it.each<[string, unknown, TokenScope, string]>([
    ['not an object', 'text', ANY, 'invalidDataFormat'],
    ['no event field', { time: 1 }, ANY, 'eventFieldRequired'],
    ['a null event', { event: null }, ANY, 'eventFieldBlank'],
    ['an empty string event', { event: '' }, ANY, 'eventFieldBlank'],
    ['an empty object event', { event: {} }, ANY, 'eventFieldBlank'],
    ['a text event', { event: 'user alice failed to log in' }, ANY, 'invalidDataFormat'],
    ['a bad time', { event: event(), time: 'yesterday' }, ANY, 'invalidDataFormat'],
    ['a non-string host', { event: event(), host: 5 }, ANY, 'invalidDataFormat'],
    ['nested indexed fields', { event: event(), fields: { a: { b: 1 } } }, ANY, 'invalidDataFormat'],
    ['an index the token may not use', { event: event(), index: 'main' }, { ...ANY, indexes: ['security'] }, 'incorrectIndex'],
    ['a source the token may not claim', { event: event() }, { ...ANY, sources: ['billing'] }, 'invalidDataFormat'],
  ])('refuses %s', (_n, env, scope, answer) => {
    const r = envelopeToRawEvent(env, scope, NOW);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.answer).toBe(answer);
  });

  it('uses the event as written and fills only what it lacks from the envelope', () => {
    const r = envelopeToRawEvent(
      {
        event: event(),
        time: 1764410400.25,
        host: 'web-1',
        source: '/var/log/app',
        sourcetype: 'vigil',
        index: 'security',
        fields: { dc: 'eu' },
      },
      { ...ANY, indexes: ['security'], sources: ['shop'] },
      NOW,
    );
    expect(r).toEqual({
      ok: true,
      raw: {
        ...event(),
        timestamp: '2025-11-29T10:00:00.250Z',
        source: { application: 'shop', hostname: 'web-1' },
        details: { hec: { source: '/var/log/app', sourcetype: 'vigil', index: 'security', fields: { dc: 'eu' } } },
      },
    });
  });

  it('keeps the event timestamp and host over the envelope, and uses the receive time when there is neither', () => {
    const kept = envelopeToRawEvent(
      { event: event({ timestamp: '2026-01-01T00:00:00Z', source: { application: 'shop', hostname: 'a' } }), time: 5, host: 'b' },
      ANY,
      NOW,
    );
    expect(kept.ok && kept.raw).toMatchObject({ timestamp: '2026-01-01T00:00:00Z', source: { hostname: 'a' } });
    const now = envelopeToRawEvent({ event: event() }, ANY, NOW);
    expect(now.ok && now.raw.timestamp).toBe(NOW);
  });

  it('leaves a signed event untouched (its MAC covers every field)', () => {
    const signed = event({ integrity: { alg: 'hmac-sha256', key_id: 'k', mac: 'a'.repeat(64) } });
    const r = envelopeToRawEvent({ event: signed, time: 1, host: 'x' }, ANY, NOW);
    expect(r).toEqual({ ok: true, raw: signed });
  });
});

describe('NDJSON lines', () => {
  it('numbers lines from 1 and skips blank ones (CRLF too)', () => {
    expect(ndjsonLines('{"a":1}\r\n\n{"b":2}\n', 10)).toEqual([
      { line: 1, text: '{"a":1}' },
      { line: 3, text: '{"b":2}' },
    ]);
  });
  it('gives up beyond the line limit', () => {
    expect(ndjsonLines('{}\n{}\n{}', 2)).toBeNull();
  });
});
