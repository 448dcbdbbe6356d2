import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { generate } from 'selfsigned';

/** A self-signed certificate for localhost / 127.0.0.1, valid for a day: the test SMTP server's. */
export async function testCertificate(): Promise<{ cert: string; private: string }> {
  return generate([{ name: 'commonName', value: 'localhost' }], {
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
}

export interface Received {
  type: 'message';
  secure: boolean;
  user: string;
  from: string;
  to: string[];
  raw: string;
}

/** A real SMTP server in a child process (test/smtp-server.cjs), with what it received. */
export class SmtpProcess {
  readonly messages: Received[] = [];
  port = 0;
  private child: ChildProcess | null = null;

  async start(config: Record<string, unknown>): Promise<void> {
    const child = fork(join(__dirname, 'smtp-server.cjs'), [], {
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
export function mimePart(raw: string, type: string): string {
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
