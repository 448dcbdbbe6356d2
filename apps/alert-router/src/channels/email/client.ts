import { createTransport, type Transporter } from 'nodemailer';
import type { Notification } from '@vigil/contracts';
import type { Channel, SendContext, SendResult } from '../types';
import type { EmailSettings } from './config';
import { renderEmail } from './render';

/** nodemailer error codes after which the same message would fail the same way. */
const FINAL_CODES = new Set(['EAUTH', 'EENVELOPE', 'ETLS', 'ECONFIG']);
const CERT_PROBLEM = /certificate|self[- ]signed|unable to verify|altnames|CERT_/i;

/**
 * Classifies an SMTP failure: 4xx replies and connection trouble are temporary; 5xx replies,
 * authentication, TLS verification and envelope errors are final.
 */
export function classifySmtpError(err: unknown): { retriable: boolean; status?: number; error: string } {
  const e = err as { code?: string; responseCode?: number; message?: string; command?: string };
  const status = typeof e.responseCode === 'number' ? e.responseCode : undefined;
  // The message may quote the server's reply; it never contains our password (AUTH sends it base64 and nodemailer does not echo it).
  const text = `smtp ${e.code ?? 'error'}${status ? ` ${status}` : ''}${e.command ? ` after ${e.command.split(' ')[0]}` : ''}: ${String(
    e.message ?? err,
  )
    .replace(/\s+/g, ' ')
    .slice(0, 300)}`;
  if (status !== undefined) return { retriable: status >= 400 && status < 500, status, error: text };
  // A certificate that does not verify will not verify on the next attempt either: configuration, not weather.
  if (CERT_PROBLEM.test(String(e.message ?? ''))) return { retriable: false, error: text };
  return { retriable: !FINAL_CODES.has(e.code ?? ''), error: text };
}

/** Email over SMTP (implicit TLS, required STARTTLS, or plain for local relays), HTML + plain text. */
export class EmailChannel implements Channel {
  readonly kind = 'email' as const;
  private readonly transport: Transporter;

  constructor(
    readonly receiver: string,
    private readonly settings: EmailSettings,
  ) {
    const s = settings;
    this.transport = createTransport({
      host: s.host,
      port: s.port,
      secure: s.security === 'tls',
      requireTLS: s.security === 'starttls',
      ignoreTLS: s.security === 'none',
      ...(s.auth ? { auth: s.auth } : {}),
      tls: {
        rejectUnauthorized: true,
        minVersion: 'TLSv1.2',
        ...(s.ca ? { ca: s.ca } : {}),
        ...(s.servername ? { servername: s.servername } : {}),
      },
      connectionTimeout: s.timeoutMs,
      greetingTimeout: s.timeoutMs,
      socketTimeout: s.timeoutMs,
      disableFileAccess: true,
      disableUrlAccess: true,
    });
  }

  async send(n: Notification, _ctx: SendContext): Promise<SendResult> {
    const { subject, text, html } = renderEmail(n, this.settings.subjectPrefix);
    try {
      const info = (await this.transport.sendMail({
        from: this.settings.from,
        to: this.settings.to,
        subject,
        text,
        html,
        headers: { 'X-Vigil-Notification-Id': n.notification_id },
      })) as { messageId?: string; rejected?: unknown[] };
      if (Array.isArray(info.rejected) && info.rejected.length > 0) {
        return {
          ok: false,
          retriable: false,
          error: `smtp rejected ${info.rejected.length} of ${this.settings.to.length} recipients`,
          done: [],
        };
      }
      return { ok: true, status: 250, ...(info.messageId ? { remoteId: info.messageId } : {}), done: [] };
    } catch (err) {
      const c = classifySmtpError(err);
      return { ok: false, retriable: c.retriable, ...(c.status !== undefined ? { status: c.status } : {}), error: c.error, done: [] };
    }
  }

  async close(): Promise<void> {
    this.transport.close();
  }
}
