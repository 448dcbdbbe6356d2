import http, { type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';

/**
 * One request to a third party's HTTP API: a webhook, a paging or SMS provider, a firewall, an
 * EDR or identity API. Redirects are not followed (a 3xx comes back as the answer).
 */
export interface OutboundRequest {
  method: string;
  url: string;
  headers: Readonly<Record<string, string>>;
  body?: string | undefined;
  /** Whole-request deadline: connect, send, and read the answer. */
  timeoutMs: number;
  /** Most answer bytes kept; the rest is not read. Default DEFAULT_MAX_ANSWER_BYTES. */
  maxAnswerBytes?: number | undefined;
}

export interface OutboundAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  /** At most `maxAnswerBytes` of the body, as UTF-8 text (a destination cannot make us buffer megabytes). */
  body: string;
}

export const DEFAULT_MAX_ANSWER_BYTES = 64 * 1024;

/**
 * The request got no complete answer: `timeout` when the deadline passed, `network` otherwise
 * (refused, reset, DNS, TLS). `detail` is the error code or a short phrase, never the URL, which
 * may carry a token (Slack webhooks, some SMS APIs).
 */
export class OutboundError extends Error {
  constructor(
    readonly failure: 'timeout' | 'network',
    readonly detail: string,
  ) {
    super(`${failure}: ${detail}`);
    this.name = 'OutboundError';
  }
}

/**
 * How long an idle pooled connection is kept. Below common server idle timeouts (Node's 5 s, load
 * balancers' 60 s), so that we close first rather than send on a connection the server is closing
 * (ECONNRESET). Node also honours a shorter `Keep-Alive: timeout=N` hint from the server, but only
 * when an agent timeout is set at all. A request in progress is not cut by it (checked with a
 * server answering after 4.8 s): its deadline is the request's own `timeoutMs`.
 */
export const IDLE_CONNECTION_MS = 4_000;

/**
 * Keep-alive connection pools shared by every outbound call of the process; TLS verification as
 * Node's defaults (system roots plus NODE_EXTRA_CA_CERTS). Measured against the global `fetch` with
 * `AbortSignal.timeout`, a POST cost a third to half the CPU (docs/performance.md, "Alert router").
 */
const AGENTS: Readonly<Record<string, http.Agent>> = {
  'http:': new http.Agent({ keepAlive: true, maxSockets: 64, timeout: IDLE_CONNECTION_MS }),
  'https:': new https.Agent({ keepAlive: true, maxSockets: 64, timeout: IDLE_CONNECTION_MS }),
};

/** Sends one request and reads its answer, bounded in time and size. Rejects only with OutboundError. */
export function sendOutbound(req: OutboundRequest): Promise<OutboundAnswer> {
  let url: URL;
  try {
    url = new URL(req.url);
  } catch {
    return Promise.reject(new OutboundError('network', 'invalid URL'));
  }
  const agent = AGENTS[url.protocol];
  if (!agent) return Promise.reject(new OutboundError('network', `unsupported scheme ${url.protocol}`));
  const transport = url.protocol === 'https:' ? https : http;
  const limit = req.maxAnswerBytes ?? DEFAULT_MAX_ANSWER_BYTES;
  const body = req.body === undefined ? undefined : Buffer.from(req.body, 'utf8');
  const headers: Record<string, string | number> = { ...req.headers };
  if (body) headers['Content-Length'] = body.length;

  return new Promise<OutboundAnswer>((resolve, reject) => {
    let settled = false;
    const finish = (err: OutboundError | null, answer?: OutboundAnswer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(answer!);
    };
    const r = transport.request(url, { method: req.method, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const done = () => finish(null, { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.on('data', (c: Buffer) => {
        if (settled) return;
        const room = limit - size;
        chunks.push(room < c.length ? c.subarray(0, room) : c);
        size += c.length;
        if (size >= limit) {
          // Enough kept: stop reading (the connection is dropped, not returned to the pool).
          done();
          res.destroy();
        }
      });
      res.on('end', done);
      res.on('aborted', () => finish(new OutboundError('network', 'answer aborted by the server')));
      res.on('error', (err: NodeJS.ErrnoException) => finish(new OutboundError('network', err.code ?? err.message)));
    });
    const timer = setTimeout(() => {
      finish(new OutboundError('timeout', `no complete answer within ${req.timeoutMs} ms`));
      r.destroy();
    }, req.timeoutMs);
    r.on('error', (err: NodeJS.ErrnoException) => finish(new OutboundError('network', err.code ?? err.name)));
    r.end(body);
  });
}

/** One header of an answer (the first, when repeated); undefined when absent. */
export function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}
