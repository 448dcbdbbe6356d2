import http, { type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';

/** TLS settings for one sink. Verification is on unless explicitly turned off. */
export interface TlsSettings {
  /** Extra CA bundle (PEM) trusted in addition to the system roots. */
  ca?: string | undefined;
  /** Client certificate and key (PEM) for mutual TLS. */
  cert?: string | undefined;
  key?: string | undefined;
  rejectUnauthorized: boolean;
}

export interface HttpClientOptions {
  /** Scheme, host, port and an optional path prefix, e.g. https://splunk.example:8088. */
  baseUrl: string;
  tls: TlsSettings;
  /** Whole-request deadline: connect, send, and read the answer. */
  timeoutMs: number;
  /** Answers larger than this are cut off and treated as a transport failure. */
  maxResponseBytes: number;
  /** Concurrent connections kept to the sink. */
  maxSockets: number;
}

export interface HttpRequest {
  method: 'GET' | 'POST';
  /** Path and query, appended to the base URL's path. */
  path: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
  signal?: AbortSignal;
}

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export type HttpFailure = 'network' | 'timeout' | 'aborted' | 'response_too_large';

/** The request never got a complete answer. Always retriable from the sink's point of view. */
export class HttpTransportError extends Error {
  constructor(
    readonly failure: HttpFailure,
    message: string,
  ) {
    super(message);
    this.name = 'HttpTransportError';
  }
}

/**
 * A small keep-alive HTTP(S) client over node:http/https: one agent per sink carrying its TLS
 * settings, a deadline per request, and a bounded answer size (a sink cannot make us buffer
 * without limit).
 */
export class HttpClient {
  private readonly base: URL;
  private readonly agent: http.Agent;
  private readonly transport: typeof http | typeof https;

  constructor(private readonly opts: HttpClientOptions) {
    this.base = new URL(opts.baseUrl);
    const isHttps = this.base.protocol === 'https:';
    this.transport = isHttps ? https : http;
    this.agent = isHttps
      ? new https.Agent({
          keepAlive: true,
          maxSockets: opts.maxSockets,
          ca: opts.tls.ca,
          cert: opts.tls.cert,
          key: opts.tls.key,
          rejectUnauthorized: opts.tls.rejectUnauthorized,
        })
      : new http.Agent({ keepAlive: true, maxSockets: opts.maxSockets });
  }

  get origin(): string {
    return this.base.origin;
  }

  request(req: HttpRequest): Promise<HttpResponse> {
    const prefix = this.base.pathname.replace(/\/+$/, '');
    const body = typeof req.body === 'string' ? Buffer.from(req.body) : req.body;
    const headers: Record<string, string | number> = { ...req.headers };
    if (body) headers['Content-Length'] = body.length;
    return new Promise<HttpResponse>((resolve, reject) => {
      let settled = false;
      const finish = (err: HttpTransportError | null, res?: HttpResponse) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        req.signal?.removeEventListener('abort', onAbort);
        if (err) reject(err);
        else resolve(res!);
      };
      const r = this.transport.request(
        {
          protocol: this.base.protocol,
          hostname: this.base.hostname.replace(/^\[|\]$/g, ''),
          port: this.base.port || undefined,
          method: req.method,
          path: prefix + req.path,
          headers,
          agent: this.agent,
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size > this.opts.maxResponseBytes) {
              finish(new HttpTransportError('response_too_large', `answer larger than ${this.opts.maxResponseBytes} bytes`));
              res.destroy();
              r.destroy();
              return;
            }
            chunks.push(c);
          });
          res.on('end', () => finish(null, { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
          res.on('error', (err) => finish(new HttpTransportError('network', err.message)));
          res.on('aborted', () => finish(new HttpTransportError('network', 'answer aborted by the server')));
        },
      );
      const timer = setTimeout(() => {
        finish(new HttpTransportError('timeout', `no complete answer within ${this.opts.timeoutMs} ms`));
        r.destroy();
      }, this.opts.timeoutMs);
      const onAbort = () => {
        finish(new HttpTransportError('aborted', 'request aborted'));
        r.destroy();
      };
      if (req.signal?.aborted) return onAbort();
      req.signal?.addEventListener('abort', onAbort, { once: true });
      r.on('error', (err: NodeJS.ErrnoException) =>
        finish(new HttpTransportError('network', err.code ? `${err.code}: ${err.message}` : err.message)),
      );
      r.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** Parses an answer body as JSON, or null (sinks sometimes answer HTML from a proxy). */
export function jsonBody(res: HttpResponse): unknown {
  if (res.body.length === 0) return null;
  try {
    return JSON.parse(res.body.toString('utf8'));
  } catch {
    return null;
  }
}

/** One header value as a string (the first, when repeated). */
export function header(res: HttpResponse, name: string): string | undefined {
  const v = res.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}
