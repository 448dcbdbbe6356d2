import { startSlackStandin, type SlackStandin } from '.';

describe('Slack incoming-webhook stand-in answers like Slack', () => {
  let slack: SlackStandin;
  beforeEach(async () => {
    slack = await startSlackStandin();
  });
  afterEach(() => slack.close());

  const post = (body: string, type = 'application/json', url = slack.webhookUrl) =>
    fetch(url, { method: 'POST', headers: { 'content-type': type }, body });

  it.each<[string, string, string, number, string]>([
    ['a text message', '{"text":"hi"}', 'application/json', 200, 'ok'],
    ['a form-encoded payload', `payload=${encodeURIComponent('{"text":"hi"}')}`, 'application/x-www-form-urlencoded', 200, 'ok'],
    ['blocks without text', '{"blocks":[{"type":"divider"}]}', 'application/json', 200, 'ok'],
    ['a body that is not JSON', '{"text":', 'application/json', 400, 'invalid_payload'],
    ['a JSON array', '[1]', 'application/json', 400, 'invalid_payload'],
    ['a plain-text body', 'hello', 'text/plain', 400, 'invalid_payload'],
    ['no text, blocks or attachments', '{"username":"x"}', 'application/json', 400, 'no_text'],
    ['an unknown block type', '{"text":"x","blocks":[{"type":"banner"}]}', 'application/json', 400, 'invalid_blocks'],
    [
      'a header over 150 characters',
      JSON.stringify({ text: 'x', blocks: [{ type: 'header', text: { type: 'plain_text', text: 'h'.repeat(151) } }] }),
      'application/json',
      400,
      'invalid_blocks',
    ],
    [
      '11 section fields',
      JSON.stringify({
        text: 'x',
        blocks: [{ type: 'section', fields: Array.from({ length: 11 }, () => ({ type: 'mrkdwn', text: 'f' })) }],
      }),
      'application/json',
      400,
      'invalid_blocks',
    ],
    ['text over 40000 characters', JSON.stringify({ text: 'x'.repeat(40_001) }), 'application/json', 400, 'msg_too_long'],
  ])('%s → %d %s', async (_what, body, type, status, text) => {
    const res = await post(body, type);
    expect(res.status).toBe(status);
    expect(await res.text()).toBe(text);
  });

  it('answers 404 no_service on another hook path', async () => {
    const res = await post('{"text":"hi"}', 'application/json', `${slack.url}/services/T/B/other`);
    expect([res.status, await res.text()]).toEqual([404, 'no_service']);
  });

  it('answers an injected 429 with Retry-After, then accepts again', async () => {
    slack.failNext(1, { status: 429, retryAfterSeconds: 3 });
    const limited = await post('{"text":"hi"}');
    expect([limited.status, limited.headers.get('retry-after'), await limited.text()]).toEqual([429, '3', 'rate_limited']);
    expect((await post('{"text":"hi"}')).status).toBe(200);
    // A time-boxed outage: faults queued for the window, the rest forgotten when it ends.
    slack.failNext(100, { status: 500 });
    expect((await post('{"text":"hi"}')).status).toBe(500);
    slack.clearFaults();
    expect((await post('{"text":"hi"}')).status).toBe(200);
    expect(slack.received).toHaveLength(2);
  });

  it('refuses connections while down and serves again on the same port when up', async () => {
    await slack.setDown(true);
    await expect(post('{"text":"hi"}')).rejects.toThrow();
    await slack.setDown(false);
    expect((await post('{"text":"hi"}')).status).toBe(200);
  });
});
