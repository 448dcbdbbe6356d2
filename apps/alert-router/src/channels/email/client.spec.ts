import { SmtpProcess, mimePart, testCertificate } from '../../../test/smtp';
import { sampleNotification } from '../testing';
import { EmailChannel } from './client';
import type { EmailSettings } from './config';

describe('EmailChannel against a real SMTP server process', () => {
  let pems: { cert: string; private: string };
  const servers: SmtpProcess[] = [];
  const ctx = () => ({ nowMs: Date.now(), done: new Set<string>() });

  beforeAll(async () => {
    pems = await testCertificate();
  });
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.stop()));
  });

  async function server(config: Record<string, unknown>): Promise<SmtpProcess> {
    const s = new SmtpProcess();
    servers.push(s);
    await s.start({ key: pems.private, cert: pems.cert, user: 'vigil', pass: 's3cret-smtp', ...config });
    return s;
  }

  function settings(port: number, over: Partial<EmailSettings> = {}): EmailSettings {
    return {
      host: '127.0.0.1',
      port,
      security: 'starttls',
      auth: { user: 'vigil', pass: 's3cret-smtp' },
      ca: pems.cert,
      servername: 'localhost',
      timeoutMs: 5_000,
      from: 'vigil@example.test',
      to: ['soc@example.test', 'oncall@example.test'],
      subjectPrefix: '[Vigil]',
      sendResolved: false,
      ...over,
    };
  }

  it('delivers over STARTTLS with AUTH, as HTML and plain text', async () => {
    const s = await server({ mode: 'starttls' });
    const n = sampleNotification([{ severity: 'critical' }]);
    const ch = new EmailChannel('email', settings(s.port));
    const r = await ch.send(n, ctx());
    await ch.close();
    expect(r).toMatchObject({ ok: true, status: 250 });
    expect(s.messages).toHaveLength(1);
    const m = s.messages[0]!;
    expect(m).toMatchObject({ secure: true, user: 'vigil', from: 'vigil@example.test', to: ['soc@example.test', 'oncall@example.test'] });
    expect(m.raw).toMatch(/^Subject: \[Vigil\] \[CRITICAL\] SSH brute force/m);
    expect(m.raw).toContain('multipart/alternative');
    expect(m.raw).toMatch(new RegExp(`^X-Vigil-Notification-Id: ${n.notification_id}`, 'im'));
    expect(mimePart(m.raw, 'text/plain')).toContain(`alert ${n.alerts[0]!.alert_id}`);
    const html = mimePart(m.raw, 'text/html');
    expect(html).toContain('<table');
    expect(html).toContain('203.0.113.7');
  });

  it('delivers over implicit TLS', async () => {
    const s = await server({ mode: 'tls' });
    const ch = new EmailChannel('email', settings(s.port, { security: 'tls' }));
    expect(await ch.send(sampleNotification(), ctx())).toMatchObject({ ok: true });
    await ch.close();
    expect(s.messages[0]!.secure).toBe(true);
  });

  it('escapes alert text in the HTML part', async () => {
    const s = await server({ mode: 'starttls' });
    const ch = new EmailChannel('email', settings(s.port));
    await ch.send(sampleNotification([{ group: { user: '<script>alert(1)</script>' } }]), ctx());
    await ch.close();
    const html = mimePart(s.messages[0]!.raw, 'text/html');
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;');
  });

  it.each<[string, Record<string, unknown>, Partial<EmailSettings>, boolean, number | undefined]>([
    ['a wrong password is final (535)', { mode: 'starttls' }, { auth: { user: 'vigil', pass: 'wrong' } }, false, 535],
    ['a refused recipient is final (550)', { mode: 'starttls' }, { to: ['x@rejected.test'] }, false, 550],
    ['a temporary failure after DATA is retriable (451)', { mode: 'starttls', failData: true }, {}, true, 451],
    ['an untrusted certificate is final', { mode: 'starttls' }, { ca: undefined }, false, undefined],
  ])('%s', async (_what, serverConfig, over, retriable, status) => {
    const s = await server(serverConfig);
    const ch = new EmailChannel('email', settings(s.port, over));
    const r = await ch.send(sampleNotification(), ctx());
    await ch.close();
    expect(r).toMatchObject({ ok: false, retriable, ...(status ? { status } : {}) });
    expect(JSON.stringify(r)).not.toContain('s3cret-smtp');
  });

  it('treats a server that is not there as retriable', async () => {
    const s = await server({ mode: 'starttls' });
    const port = s.port;
    await s.stop();
    const ch = new EmailChannel('email', settings(port));
    expect(await ch.send(sampleNotification(), ctx())).toMatchObject({ ok: false, retriable: true });
    await ch.close();
  });
});
