import { startTwilioStandin, type TwilioStandin } from '@vigil/standins';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SmtpProcess, mimePart, testCertificate } from './smtp';
import { alert, closeWorld, newWorld, produceAlerts, records, startRouter, writeRoutes, type World } from './harness';

const SID = `AC${'c0'.repeat(16)}`;
const TOKEN = 'twilio-token-for-integration';

describe('email over a real SMTP exchange and SMS through the Twilio stand-in, end to end', () => {
  let world: World;
  let smtp: SmtpProcess;
  let twilio: TwilioStandin;
  let caFile: string;

  beforeAll(async () => {
    const pems = await testCertificate();
    caFile = join(mkdtempSync(join(tmpdir(), 'smtp-ca-')), 'ca.pem');
    writeFileSync(caFile, pems.cert);
    smtp = new SmtpProcess();
    await smtp.start({ mode: 'starttls', key: pems.private, cert: pems.cert, user: 'router', pass: 'smtp-pass-integration' });
  });
  afterAll(() => smtp.stop());

  beforeEach(async () => {
    world = await newWorld();
    twilio = await startTwilioStandin({ accountSid: SID, authToken: TOKEN });
  });
  afterEach(async () => {
    await closeWorld(world);
    await twilio.close();
  });

  it('sends one email (STARTTLS, AUTH, HTML + text) and one SMS per recipient for a group', async () => {
    const routes = `
route:
  receivers: [email, sms]
  group_by: [rule]
  group_wait: 300ms
receivers:
  - name: email
    email:
      smtp:
        host: 127.0.0.1
        port: ${smtp.port}
        security: starttls
        username: router
        password: \${SMTP_PASSWORD}
        ca_file: ${caFile}
        servername: localhost
      from: vigil@example.test
      to: [soc@example.test]
  - name: sms
    sms:
      account_sid: ${SID}
      auth_token: \${TWILIO_AUTH_TOKEN}
      from: '+14155550100'
      to: ['+14155550111', '+447700900123']
      base_url: \${TWILIO_URL}
`;
    await startRouter(world, writeRoutes(world, routes), {
      SMTP_PASSWORD: 'smtp-pass-integration',
      TWILIO_AUTH_TOKEN: TOKEN,
      TWILIO_URL: twilio.url,
    });
    const alerts = [alert({ severity: 'critical' }), alert({ severity: 'critical', dedup_key: 'b', group: { 'source.ip': '192.0.2.9' } })];
    await produceAlerts(world, alerts);
    const recs = await records(world, 2, 1_000);
    expect(recs.map((r) => `${r.receiver}:${r.outcome}`).sort()).toEqual(['email:delivered', 'sms:delivered']);
    expect(recs.find((r) => r.receiver === 'email')!.remote_id).toMatch(/^<.+>$/);

    const mails = smtp.messages.filter((m) => m.to.includes('soc@example.test'));
    expect(mails).toHaveLength(1);
    expect(mails[0]).toMatchObject({ secure: true, user: 'router' });
    expect(mimePart(mails[0]!.raw, 'text/plain')).toContain('Alerts:     2');
    expect(mimePart(mails[0]!.raw, 'text/html')).toContain('192.0.2.9');

    expect(twilio.messages.map((m) => m.to).sort()).toEqual(['+14155550111', '+447700900123']);
    for (const m of twilio.messages) expect(m.segments).toBeLessThanOrEqual(2);
    expect(twilio.messages[0]!.body).toContain('[CRITICAL] SSH brute force');
  });
});
