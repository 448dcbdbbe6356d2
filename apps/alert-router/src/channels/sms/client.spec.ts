import { startTwilioStandin, type TwilioStandin } from '@vigil/standins';
import { sampleNotification } from '../testing';
import { SmsChannel, smsText } from './client';
import { segmentCount } from './segments';

const SID = `AC${'a1'.repeat(16)}`;
const TOKEN = 'twilio-auth-token-for-tests';

describe('SmsChannel against the Twilio stand-in', () => {
  let twilio: TwilioStandin;
  const ctx = (done: string[] = []) => ({ nowMs: Date.now(), done: new Set(done) });
  const channel = (over: Partial<ConstructorParameters<typeof SmsChannel>[1]> = {}) =>
    new SmsChannel('sms', {
      accountSid: SID,
      authToken: TOKEN,
      from: '+14155550100',
      to: ['+14155550101', '+14155550102'],
      baseUrl: twilio.url,
      maxSegments: 2,
      sendResolved: false,
      timeoutMs: 2_000,
      ...over,
    });

  beforeEach(async () => {
    twilio = await startTwilioStandin({ accountSid: SID, authToken: TOKEN });
  });
  afterEach(() => twilio.close());

  it('sends one form-encoded message per recipient with basic auth, within two segments', async () => {
    const n = sampleNotification();
    const r = await channel().send(n, ctx());
    expect(r).toMatchObject({ ok: true, status: 201, done: ['+14155550101', '+14155550102'] });
    expect(twilio.messages.map((m) => m.to)).toEqual(['+14155550101', '+14155550102']);
    expect(twilio.messages[0]!.body).toContain('SSH brute force');
    expect(twilio.messages[0]!.body).toContain(n.alerts[0]!.alert_id);
    expect(twilio.messages[0]!.segments).toBeLessThanOrEqual(2);
    expect(r.ok && r.remoteId).toMatch(/^SM[0-9a-f]{32},SM/);
  });

  it('is refused with 401 (final) when the token is wrong', async () => {
    const r = await channel({ authToken: 'wrong' }).send(sampleNotification(), ctx());
    expect(r).toMatchObject({ ok: false, retriable: false, status: 401 });
    expect(!r.ok && r.error).toContain('20003');
  });

  it('reports 21211 for an invalid number as final, after delivering to the recipients before it', async () => {
    const r = await channel({ to: ['+14155550101', '555-0102'] }).send(sampleNotification(), ctx());
    expect(r).toMatchObject({ ok: false, retriable: false, status: 400, done: ['+14155550101'] });
    expect(!r.ok && r.error).toContain('21211');
  });

  it('retries 429 and skips recipients already served', async () => {
    twilio.failNext(1, { status: 429 });
    expect(await channel().send(sampleNotification(), ctx(['+14155550101']))).toMatchObject({ ok: false, retriable: true, status: 429 });
    expect(await channel().send(sampleNotification(), ctx(['+14155550101']))).toMatchObject({ ok: true, done: ['+14155550102'] });
    expect(twilio.messages.map((m) => m.to)).toEqual(['+14155550102']);
  });

  it('keeps a long or non-GSM text within the segment budget', () => {
    const n = sampleNotification([{ rule: { id: 'r', name: 'Подозрительный вход '.repeat(10), description: '', kind: 'threshold' } }]);
    expect(segmentCount(smsText(n, 2))).toBeLessThanOrEqual(2);
    expect(segmentCount(smsText(n, 1))).toBe(1);
  });
});
