import { alertItem, eventItem } from './fixtures';
import { classifyHec, epochSeconds, hecEvent, parseAckAnswer, parseHecAnswer, type SplunkFormat } from './splunk';

const FORMAT: SplunkFormat = {
  source: 'vigil',
  sourcetype: 'vigil:security:event',
  alertSourcetype: 'vigil:security:alert',
  index: 'security',
};
const body = (o: unknown) => Buffer.from(JSON.stringify(o));

describe('HEC event objects', () => {
  it('carries the event time as epoch seconds with milliseconds', () => {
    expect(epochSeconds(Date.parse('2026-11-29T10:00:00.123Z'))).toBe(1795946400.123);
  });

  it('builds time, host, source, sourcetype, index and the event itself', () => {
    const o = JSON.parse(hecEvent(eventItem(), FORMAT));
    expect(o).toEqual({
      time: 1795946400.123,
      host: 'web-1',
      source: 'vigil',
      sourcetype: 'vigil:security:event',
      index: 'security',
      event: expect.objectContaining({ event_id: '3f8a1c2e-9b7d-4e6f-8a1b-2c3d4e5f6a7b', action: 'login' }),
    });
  });

  it('uses a fixed host when configured, and leaves index out when none is set', () => {
    const o = JSON.parse(hecEvent(eventItem(), { ...FORMAT, index: undefined, host: 'vigil-forwarder' }));
    expect(o.host).toBe('vigil-forwarder');
    expect(o).not.toHaveProperty('index');
  });

  it('sends alerts with the alert sourcetype and index', () => {
    const o = JSON.parse(hecEvent(alertItem(), { ...FORMAT, alertIndex: 'alerts' }));
    expect(o).toMatchObject({ sourcetype: 'vigil:security:alert', index: 'alerts', time: 1795946402 });
    expect(o.event.alert_id).toBe('9b2f7a10-4c3e-5d21-8e9f-0a1b2c3d4e5f');
  });
});

describe('HEC event formats', () => {
  it.each([
    ['vigil', { event_id: '3f8a1c2e-9b7d-4e6f-8a1b-2c3d4e5f6a7b', event_type: 'authentication' }],
    ['ecs', { event: { category: ['authentication'], outcome: 'failure' }, source: { ip: '203.0.113.7' } }],
    ['ocsf', { class_uid: 3002, type_uid: 300201, status_id: 2 }],
  ] as const)('SPLUNK_EVENT_FORMAT=%s shapes the event field', (format, expected) => {
    const o = JSON.parse(hecEvent(eventItem(), { ...FORMAT, format }));
    expect(o.event).toMatchObject(expected);
  });
});

describe('reading HEC answers', () => {
  const ok = { status: 'ok' };
  it.each<[string, number, unknown, boolean, ReturnType<typeof classifyHec>]>([
    ['200 code 0: every event delivered', 200, { text: 'Success', code: 0 }, false, { kind: 'items', items: [ok, ok] } as never],
    [
      '200 code 0 with an ackId under acknowledgement: wait for the ack',
      200,
      { text: 'Success', code: 0, ackId: 7 },
      true,
      { kind: 'await_ack', ackId: 7 },
    ],
    [
      '503 code 9 server busy: retry',
      503,
      { text: 'Server is busy', code: 9 },
      false,
      { kind: 'unavailable', reason: 'HEC 503 code 9: Server is busy' },
    ],
    [
      '500 code 8 internal error: retry',
      500,
      { text: 'Internal server error', code: 8 },
      false,
      { kind: 'unavailable', reason: 'HEC 500 code 8: Internal server error' },
    ],
    [
      'a proxy 502 with HTML: retry',
      502,
      '<html>bad gateway</html>',
      false,
      { kind: 'unavailable', reason: 'HEC 502 with an unreadable body' },
    ],
    [
      '403 code 4 invalid token: refuse',
      403,
      { text: 'Invalid token', code: 4 },
      false,
      { kind: 'refused', reason: 'HEC 403 code 4: Invalid token' },
    ],
    [
      '403 code 1 token disabled: refuse',
      403,
      { text: 'Token disabled', code: 1 },
      false,
      { kind: 'refused', reason: 'HEC 403 code 1: Token disabled' },
    ],
    [
      '401 code 2 token required: refuse',
      401,
      { text: 'Token is required', code: 2 },
      false,
      { kind: 'refused', reason: 'HEC 401 code 2: Token is required' },
    ],
    [
      '400 code 10 channel missing: refuse',
      400,
      { text: 'Data channel is missing', code: 10 },
      true,
      { kind: 'refused', reason: 'HEC 400 code 10: Data channel is missing' },
    ],
    ['413: split the request', 413, { text: 'too large', code: 413 }, false, { kind: 'too_large', reason: 'HEC 413 code 413: too large' }],
  ])('%s', (_name, status, answer, ack, expected) => {
    const raw = typeof answer === 'string' ? Buffer.from(answer) : body(answer);
    expect(classifyHec(status, parseHecAnswer(raw), 2, ack)).toEqual(expected);
  });

  it('honours Retry-After on 429', () => {
    expect(classifyHec(429, null, 1, false, 5_000)).toMatchObject({ kind: 'unavailable', retryAfterMs: 5_000 });
  });

  it('an invalid event stops HEC there: that one is refused, the others are sent again (none lost, none blamed)', () => {
    const v = classifyHec(400, parseHecAnswer(body({ text: 'Invalid data format', code: 6, 'invalid-event-number': 1 })), 3, false);
    expect(v).toEqual({
      kind: 'items',
      items: [
        { status: 'resend', reason: 'sent again: HEC refused event 1 of the request' },
        { status: 'reject', reason: 'HEC 400 code 6: Invalid data format' },
        { status: 'resend', reason: 'not read: HEC stopped at event 1' },
      ],
    });
  });

  it('the same under acknowledgement (events before the bad one got no ackId)', () => {
    const v = classifyHec(400, parseHecAnswer(body({ text: 'Incorrect index', code: 7, 'invalid-event-number': 1 })), 2, true);
    expect(v).toMatchObject({ kind: 'items', items: [{ status: 'resend' }, { status: 'reject' }] });
  });

  it('an invalid-event-number outside the request refuses it whole', () => {
    expect(classifyHec(400, parseHecAnswer(body({ code: 6, 'invalid-event-number': 9 })), 2, false).kind).toBe('refused');
  });

  it('acknowledgement configured but the token has none: refuse loudly instead of pretending', () => {
    expect(classifyHec(200, parseHecAnswer(body({ text: 'Success', code: 0 })), 1, true).kind).toBe('refused');
  });

  it('reads which ack ids are indexed', () => {
    const r = parseAckAnswer(200, body({ acks: { '0': true, '1': false, '2': true } }));
    expect(r).toEqual({ ok: true, acked: new Set([0, 2]) });
  });

  it.each([
    [503, body({ text: 'Server is busy', code: 9 }), true],
    [400, body({ text: 'ACK is disabled', code: 14 }), false],
    [200, Buffer.from('nope'), true],
  ])('an ack poll answered %d is a failure (retriable: %s)', (status, raw, retriable) => {
    expect(parseAckAnswer(status, raw)).toMatchObject({ ok: false, retriable });
  });
});
