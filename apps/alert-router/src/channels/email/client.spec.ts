import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { generate } from 'selfsigned';
import { sampleNotification } from '../testing';
import { EmailChannel } from './client';
import type { EmailSettings } from './config';

interface Received {
  type: 'message';
  secure: boolean;
  user: string;
  from: string;
  to: string[];
  raw: string;
}

/** A real SMTP server in a child process (test/smtp-server.cjs), with what it received. */
class SmtpProcess {
  readonly messages: Received[] = [];
  port = 0;
  private child: ChildProcess | null = null;

  async start(config: Record<string, unknown>): Promise<void> {
    const child = fork(join(__dirname, '../../../test/smtp-server.cjs'), [], {
      env: { PATH: process.env.PATH ?? '', SMTP_TEST_CONFIG: JSON.stringify(config) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child = child;
    this.port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('smtp server did not start')), 10_000);
      child.on('message', (m: { type: string; port?: number; message?: string }) => {
        if (m.type === 'listening') {
          clearTimeout(timer);
          resolve(m.port!);
        } else if (m.type === 'message') this.messages.push(m as unknown as Received);
        else if (m.type === 'error') reject(new Error(m.message));
      });
      child.on('exit', (code) => reject(new Error(`smtp server exited ${code}`)));
    });
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.disconnect();
      setTimeout(() => child.kill('SIGKILL'), 3_000).unref();
    });
  }
}

/** The decoded text of the MIME part with this content type (quoted-printable or base64). */
function mimePart(raw: string, type: string): string {
  const start = raw.indexOf(`Content-Type: ${type}`);
  if (start < 0) return '';
  const headerEnd = raw.indexOf('\r\n\r\n', start);
  const headers = raw.slice(start, headerEnd);
  const end = raw.indexOf('\r\n--', headerEnd);
  const body = raw.slice(headerEnd + 4, end);
  if (/Content-Transfer-Encoding: base64/i.test(headers)) return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (/Content-Transfer-Encoding: quoted-printable/i.test(headers)) {
    return Buffer.from(
      body.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))),
      'latin1',
    ).toString('utf8');
  }
  return body;
}

describe('EmailChannel against a real SMTP server process', () => {
  let pems: { cert: string; private: string };
  const servers: SmtpProcess[] = [];
  const ctx = () => ({ nowMs: Date.now(), done: new Set<string>() });

  beforeAll(async () => {
    pems = await generate([{ name: 'commonName', value: 'localhost' }], {
      keySize: 2048,
      notAfterDate: new Date(Date.now() + 86_400_000),
      extensions: [
        { name: 'basicConstraints', cA: true },
        {
          name: 'subjectAltName',
          altNames: [
            { type: 2, value: 'localhost' },
            { type: 7, ip: '127.0.0.1' },
          ],
        },
      ],
    });
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
