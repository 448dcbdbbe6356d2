import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendJson } from '../http';
import { RestartableServer, serverControls, writeFault, type FaultControls } from '../faults';

export interface WebhookDelivery {
  at: number;
  path: string;
  headers: Record<string, string>;
  body: unknown;
  raw: string;
}

export interface WebhookReceiverStandin extends FaultControls {
  readonly url: string;
  readonly port: number;
  readonly received: WebhookDelivery[];
  /** Requests refused (bad or missing signature, stale timestamp, not JSON), with the reason. */
  readonly rejected: { status: number; reason: string }[];
  close(): Promise<void>;
}

/**
 * A webhook receiver that does what the docs tell receivers to do: recompute HMAC-SHA256 with the
 * shared secret over `<X-Vigil-Timestamp>.<raw body>`, compare in constant time with the `v1=`
 * value of X-Vigil-Signature, and refuse timestamps more than `toleranceSeconds` away (replays).
 * 401 for signature problems, 415 for a non-JSON body; 200 {"ok":true} otherwise.
 */
export async function startWebhookReceiverStandin(opts: {
  port?: number;
  secret: string;
  toleranceSeconds?: number;
}): Promise<WebhookReceiverStandin> {
  const received: WebhookDelivery[] = [];
  const rejected: { status: number; reason: string }[] = [];
  const tolerance = opts.toleranceSeconds ?? 300;
  const refuse = (res: ServerResponse, status: number, reason: string) => {
    rejected.push({ status, reason });
    sendJson(res, status, { error: reason });
  };
  const server: RestartableServer = new RestartableServer((req: IncomingMessage, res: ServerResponse, raw: Buffer) => {
    if (req.method !== 'POST') return refuse(res, 405, 'method not allowed');
    const ts = String(req.headers['x-vigil-timestamp'] ?? '');
    const sig = String(req.headers['x-vigil-signature'] ?? '');
    if (!/^\d{1,12}$/.test(ts)) return refuse(res, 401, 'missing or malformed X-Vigil-Timestamp');
    if (Math.abs(Math.floor(Date.now() / 1000) - Number(ts)) > tolerance) return refuse(res, 401, 'stale timestamp');
    const expected = createHmac('sha256', opts.secret).update(`${ts}.`).update(raw).digest();
    const ok = sig.split(',').some((part) => {
      const m = /^\s*v1=([0-9a-f]{64})\s*$/.exec(part);
      return m !== null && timingSafeEqual(Buffer.from(m[1]!, 'hex'), expected);
    });
    if (!ok) return refuse(res, 401, 'signature mismatch');
    if (!(req.headers['content-type'] ?? '').startsWith('application/json')) return refuse(res, 415, 'expected application/json');
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      return refuse(res, 400, 'body is not JSON');
    }
    const fault = server.takeFault();
    if (fault) return writeFault(res, fault, JSON.stringify({ error: 'injected failure' }), 'application/json');
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
    received.push({ at: Date.now(), path: (req.url ?? '/').split('?')[0]!, headers, body, raw: raw.toString('utf8') });
    sendJson(res, 200, { ok: true });
  });
  await server.start(opts.port);
  return Object.assign(serverControls(server), { received, rejected });
}
