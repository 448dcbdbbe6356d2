import { startTwilioStandin, type TwilioStandin } from '.';

const SID = `AC${'0f'.repeat(16)}`;
const TOKEN = 'tok';

describe('Twilio Messages API stand-in answers like Twilio', () => {
  let tw: TwilioStandin;
  beforeEach(async () => {
    tw = await startTwilioStandin({ accountSid: SID, authToken: TOKEN });
  });
  afterEach(() => tw.close());

  const send = (form: Record<string, string>, auth: string | null = `${SID}:${TOKEN}`, sid = SID) =>
    fetch(`${tw.url}/2010-04-01/Accounts/${sid}/Messages.json`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        ...(auth ? { authorization: `Basic ${Buffer.from(auth).toString('base64')}` } : {}),
      },
      body: new URLSearchParams(form).toString(),
    });

  it('creates a message (201) and counts its segments', async () => {
    const res = await send({ To: '+14155550101', From: '+14155550100', Body: 'x'.repeat(200) });
    expect(res.status).toBe(201);
    const b = (await res.json()) as { sid: string; status: string; num_segments: string };
    expect(b).toMatchObject({ status: 'queued', num_segments: '2' });
    expect(b.sid).toMatch(/^SM[0-9a-f]{32}$/);
    expect(tw.messages[0]).toMatchObject({ encoding: 'GSM-7', segments: 2 });
  });

  it.each<[string, Record<string, string>, string | null, number, number]>([
    ['no basic auth', { To: '+14155550101', From: '+1415', Body: 'b' }, null, 401, 20003],
    ['a wrong token', { To: '+14155550101', From: '+1415', Body: 'b' }, `${SID}:nope`, 401, 20003],
    ['no To', { From: '+14155550100', Body: 'b' }, `${SID}:${TOKEN}`, 400, 21604],
    ['a To that is not E.164', { To: '555-0101', From: '+14155550100', Body: 'b' }, `${SID}:${TOKEN}`, 400, 21211],
    ['no From', { To: '+14155550101', Body: 'b' }, `${SID}:${TOKEN}`, 400, 21603],
    ['no Body', { To: '+14155550101', From: '+14155550100' }, `${SID}:${TOKEN}`, 400, 21602],
    ['a Body over 1600 characters', { To: '+14155550101', From: '+14155550100', Body: 'b'.repeat(1601) }, `${SID}:${TOKEN}`, 400, 21617],
  ])('refuses %s', async (_what, form, auth, status, code) => {
    const res = await send(form, auth);
    expect(res.status).toBe(status);
    expect(((await res.json()) as { code: number }).code).toBe(code);
  });

  it('answers an injected 429 with code 20429', async () => {
    tw.failNext(1, { status: 429 });
    const res = await send({ To: '+14155550101', From: '+14155550100', Body: 'b' });
    expect([res.status, ((await res.json()) as { code: number }).code]).toEqual([429, 20429]);
  });
});
