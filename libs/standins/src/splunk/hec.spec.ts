import { SplunkStandin } from './hec';

const TOKEN = 'b7a1c0de-0000-4000-8000-000000000001';
const ACK_TOKEN = 'b7a1c0de-0000-4000-8000-000000000002';
const CHANNEL = '6a1e2f3c-4b5d-4e6f-8a7b-9c0d1e2f3a4b';

async function post(s: SplunkStandin, path: string, body: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${s.url}${path}`, { method: 'POST', body, headers });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}
const auth = (t: string) => ({ Authorization: `Splunk ${t}` });
const ev = (o: Record<string, unknown>) => JSON.stringify({ time: 1795946400.123, sourcetype: 'st', ...o });

describe('Splunk HEC stand-in', () => {
  let s: SplunkStandin;
  beforeEach(async () => {
    s = await SplunkStandin.start({
      tokens: { [TOKEN]: { indexes: ['main', 'security'] }, [ACK_TOKEN]: { ack: true } },
      maxContentLength: 4096,
    });
  });
  afterEach(() => s.close());

  it.each([
    ['no Authorization header', {}, 401, 2, 'Token is required'],
    ['a header without the Splunk scheme', { Authorization: TOKEN }, 401, 3, 'Invalid authorization'],
    ['an unknown token', auth('nope'), 403, 4, 'Invalid token'],
  ])('answers %s with %d code %d', async (_n, headers, status, code, text) => {
    const r = await post(s, '/services/collector/event', ev({ event: 'x' }), headers);
    expect(r).toEqual({ status, body: { text, code } });
    expect(s.eventCount).toBe(0);
  });

  it('answers a disabled token with 403 code 1', async () => {
    s.disableToken(TOKEN);
    expect(await post(s, '/services/collector/event', ev({ event: 'x' }), auth(TOKEN))).toEqual({
      status: 403,
      body: { text: 'Token disabled', code: 1 },
    });
  });

  it('indexes several concatenated events from one body and answers code 0', async () => {
    const body = ev({ event: { event_id: 'a' }, index: 'security' }) + ev({ event: { event_id: 'b' } }) + '\n' + ev({ event: 'c' });
    expect(await post(s, '/services/collector/event', body, auth(TOKEN))).toEqual({ status: 200, body: { text: 'Success', code: 0 } });
    expect(s.events().map((e) => e.index)).toEqual(['security', 'main', 'main']);
    expect(s.timesIndexed('a')).toBe(1);
  });

  it.each([
    ['an event object without "event"', JSON.stringify({ time: 1 }), 12, 'Event field is required'],
    ['a blank event', ev({ event: '' }), 13, 'Event field cannot be blank'],
    ['a time that is not a number', ev({ event: 'x', time: 'yesterday' }), 6, 'Invalid data format'],
    ['an index the token may not write', ev({ event: 'x', index: 'other' }), 7, 'Incorrect index'],
    ['broken JSON', '{"event": "x"', 6, 'Invalid data format'],
  ])('stops at %s: earlier events are indexed, the answer names the bad one', async (_n, bad, code, text) => {
    const r = await post(s, '/services/collector/event', ev({ event: 'first' }) + bad + ev({ event: 'never read' }), auth(TOKEN));
    expect(r).toEqual({ status: 400, body: { text, code, 'invalid-event-number': 1 } });
    expect(s.events().map((e) => e.event)).toEqual(['first']);
  });

  it('answers an empty body with 400 code 5', async () => {
    expect(await post(s, '/services/collector/event', '', auth(TOKEN))).toEqual({ status: 400, body: { text: 'No data', code: 5 } });
  });

  it('answers a body over max_content_length with 413', async () => {
    const r = await post(s, '/services/collector/event', ev({ event: 'x'.repeat(5000) }), auth(TOKEN));
    expect(r.status).toBe(413);
    expect(s.eventCount).toBe(0);
  });

  it('with acknowledgement on, requires a channel (code 10) that is a GUID (code 11)', async () => {
    expect(await post(s, '/services/collector/event', ev({ event: 'x' }), auth(ACK_TOKEN))).toEqual({
      status: 400,
      body: { text: 'Data channel is missing', code: 10 },
    });
    const bad = await post(s, '/services/collector/event', ev({ event: 'x' }), {
      ...auth(ACK_TOKEN),
      'X-Splunk-Request-Channel': 'not-a-guid',
    });
    expect(bad).toEqual({ status: 400, body: { text: 'Invalid data channel', code: 11 } });
  });

  it('issues ack ids per channel from 0; an ack reads true once, then is forgotten', async () => {
    const h = { ...auth(ACK_TOKEN), 'X-Splunk-Request-Channel': CHANNEL };
    expect((await post(s, '/services/collector/event', ev({ event: 'x' }), h)).body).toEqual({ text: 'Success', code: 0, ackId: 0 });
    expect((await post(s, '/services/collector/event', ev({ event: 'y' }), h)).body).toEqual({ text: 'Success', code: 0, ackId: 1 });
    expect(await post(s, '/services/collector/ack', JSON.stringify({ acks: [0, 1, 5] }), h)).toEqual({
      status: 200,
      body: { acks: { '0': true, '1': true, '5': false } },
    });
    expect((await post(s, '/services/collector/ack', JSON.stringify({ acks: [0] }), h)).body).toEqual({ acks: { '0': false } });
  });

  it('holds acks false until released (events accepted, not yet reported indexed)', async () => {
    s.holdAcks();
    const h = { ...auth(ACK_TOKEN), 'X-Splunk-Request-Channel': CHANNEL };
    await post(s, '/services/collector/event', ev({ event: 'x' }), h);
    expect((await post(s, '/services/collector/ack', JSON.stringify({ acks: [0] }), h)).body).toEqual({ acks: { '0': false } });
    s.releaseAcks();
    expect((await post(s, '/services/collector/ack', JSON.stringify({ acks: [0] }), h)).body).toEqual({ acks: { '0': true } });
  });

  it('answers an ack query on a token without acknowledgement with 400 code 14', async () => {
    const r = await post(s, '/services/collector/ack', JSON.stringify({ acks: [0] }), {
      ...auth(TOKEN),
      'X-Splunk-Request-Channel': CHANNEL,
    });
    expect(r).toEqual({ status: 400, body: { text: 'ACK is disabled', code: 14 } });
  });

  it('answers busyNext with 503 code 9, then recovers', async () => {
    s.busyNext(1);
    expect(await post(s, '/services/collector/event', ev({ event: 'x' }), auth(TOKEN))).toEqual({
      status: 503,
      body: { text: 'Server is busy', code: 9 },
    });
    expect((await post(s, '/services/collector/event', ev({ event: 'x' }), auth(TOKEN))).status).toBe(200);
  });

  it('goes down (connections refused) and comes back on the same port', async () => {
    const port = s.server.port;
    await s.server.goDown();
    await expect(post(s, '/services/collector/event', ev({ event: 'x' }), auth(TOKEN))).rejects.toThrow();
    await s.server.comeBack();
    expect(s.server.port).toBe(port);
    expect((await post(s, '/services/collector/event', ev({ event: 'x' }), auth(TOKEN))).status).toBe(200);
  });
});
