import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendJson } from '../http';
import { RestartableServer, serverControls, writeFault, type FaultControls } from '../faults';

export interface TwilioMessage {
  sid: string;
  to: string;
  from: string;
  body: string;
  /** Segments as the stand-in counts them (GSM-7: 160/153 septets; UCS-2: 70/67 units). */
  segments: number;
  encoding: 'GSM-7' | 'UCS-2';
}

export interface TwilioStandin extends FaultControls {
  /** Base URL to configure (the client appends /2010-04-01/Accounts/{Sid}/Messages.json). */
  readonly url: string;
  readonly port: number;
  readonly messages: TwilioMessage[];
  readonly rejected: { status: number; code: number }[];
  close(): Promise<void>;
}

const E164 = /^\+[1-9]\d{1,14}$/;
const GSM = new Set(
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà',
);
const GSM_EXT = new Set('\f^{}\\[~]|€');

function segmentsOf(text: string): { segments: number; encoding: 'GSM-7' | 'UCS-2' } {
  const chars = [...text];
  if (chars.every((c) => GSM.has(c) || GSM_EXT.has(c))) {
    const septets = chars.reduce((n, c) => n + (GSM_EXT.has(c) ? 2 : 1), 0);
    return { segments: septets <= 160 ? 1 : Math.ceil(septets / 153), encoding: 'GSM-7' };
  }
  return { segments: text.length <= 70 ? 1 : Math.ceil(text.length / 67), encoding: 'UCS-2' };
}

function twilioError(res: ServerResponse, status: number, code: number, message: string, headers: Record<string, string> = {}): void {
  sendJson(res, status, { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status }, headers);
}

/**
 * Twilio Messages API stand-in: POST /2010-04-01/Accounts/{AccountSid}/Messages.json, form-encoded,
 * HTTP basic auth (AccountSid:AuthToken). 201 with the message resource; 401 code 20003 without
 * valid auth; 400 21604 (To missing), 21211 (To not a valid number), 21603 (From missing),
 * 21602 (Body missing), 21617 (Body over 1600 characters); 404 20404; 429 20429 when injected.
 */
export async function startTwilioStandin(opts: { port?: number; accountSid: string; authToken: string }): Promise<TwilioStandin> {
  const messages: TwilioMessage[] = [];
  const rejected: { status: number; code: number }[] = [];
  const refuse = (res: ServerResponse, status: number, code: number, message: string, headers: Record<string, string> = {}) => {
    rejected.push({ status, code });
    twilioError(res, status, code, message, headers);
  };
  const expectedAuth = `Basic ${Buffer.from(`${opts.accountSid}:${opts.authToken}`).toString('base64')}`;
  const server: RestartableServer = new RestartableServer((req: IncomingMessage, res: ServerResponse, raw: Buffer) => {
    const m = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages\.json$/.exec((req.url ?? '').split('?')[0] ?? '');
    if (req.headers.authorization !== expectedAuth || (m && m[1] !== opts.accountSid)) {
      return refuse(res, 401, 20003, 'Authenticate', { 'WWW-Authenticate': 'Basic realm="Twilio API"' });
    }
    if (!m || req.method !== 'POST') return refuse(res, 404, 20404, `The requested resource ${req.url ?? ''} was not found`);
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    const form = new URLSearchParams(type === 'application/x-www-form-urlencoded' ? raw.toString('utf8') : '');
    const to = form.get('To');
    const from = form.get('From');
    const body = form.get('Body');
    if (!to) return refuse(res, 400, 21604, "A 'To' phone number is required.");
    if (!E164.test(to)) return refuse(res, 400, 21211, `The 'To' number ${to.slice(0, 32)} is not a valid phone number.`);
    if (!from && !form.get('MessagingServiceSid')) return refuse(res, 400, 21603, "A 'From' phone number is required.");
    if (!body) return refuse(res, 400, 21602, 'Message body is required.');
    if ([...body].length > 1600) return refuse(res, 400, 21617, 'The concatenated message body exceeds the 1600 character limit.');
    const fault = server.takeFault();
    if (fault) {
      const text =
        fault.status === 429
          ? JSON.stringify({
              code: 20429,
              message: 'Too Many Requests',
              more_info: 'https://www.twilio.com/docs/errors/20429',
              status: 429,
            })
          : JSON.stringify({ code: 20500, message: 'Internal Server Error', status: fault.status });
      return writeFault(res, fault, text, 'application/json');
    }
    const sid = `SM${randomBytes(16).toString('hex')}`;
    const seg = segmentsOf(body);
    messages.push({ sid, to, from: from ?? '', body, ...seg });
    const now = new Date().toUTCString();
    sendJson(res, 201, {
      sid,
      account_sid: opts.accountSid,
      to,
      from,
      body,
      status: 'queued',
      num_segments: String(seg.segments),
      num_media: '0',
      direction: 'outbound-api',
      api_version: '2010-04-01',
      date_created: now,
      date_updated: now,
      date_sent: null,
      price: null,
      error_code: null,
      error_message: null,
      uri: `/2010-04-01/Accounts/${opts.accountSid}/Messages/${sid}.json`,
    });
  });
  await server.start(opts.port);
  return Object.assign(serverControls(server), { messages, rejected });
}
