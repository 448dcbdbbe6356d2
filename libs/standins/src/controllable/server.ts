import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** A request as a stand-in's protocol logic sees it: fully read, with its arrival time. */
export interface StandinRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** Declared or counted body size (the body itself is empty when it was over the limit). */
  size: number;
  receivedAt: number;
}

/** What a stand-in answers. Objects and arrays are sent as JSON. */
export interface StandinReply {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

export type ReplyHandler = (req: StandinRequest) => StandinReply | Promise<StandinReply>;

export interface ControllableOptions {
  /** 0 or absent: any free port. A fixed port lets the demo and fault tests find it. */
  port?: number;
  host?: string;
  /** Bodies larger than this are not read; `tooLarge` answers them. */
  maxBody: number;
  tooLarge: (size: number) => StandinReply;
}

interface Injection {
  remaining: number;
  reply: StandinReply;
  match?: ((req: StandinRequest) => boolean) | undefined;
}

/**
 * An HTTP server with the knobs fault tests need: go down (the port refuses connections) and come
 * back on the same port, answer slowly, hold answers after processing (the work is done but the
 * client never hears about it, like a crash mid-request), and fail the next N requests with a given
 * answer. Protocol logic lives in the ReplyHandler; this class only delivers it.
 */
export class ControllableServer {
  /** Requests that reached the protocol logic (injected failures included). */
  requests = 0;
  /** Milliseconds to wait before processing each request. */
  latencyMs = 0;
  /** Milliseconds to wait after processing, before answering. */
  holdAnswersMs = 0;
  private readonly injections: Injection[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly pendingTimers = new Set<NodeJS.Timeout>();
  private server: Server;
  private boundPort = 0;
  private up = false;

  private constructor(
    private readonly handler: ReplyHandler,
    private readonly opts: ControllableOptions,
  ) {
    this.server = this.createServer();
  }

  static async start(handler: ReplyHandler, opts: ControllableOptions): Promise<ControllableServer> {
    const s = new ControllableServer(handler, opts);
    await s.listen(opts.port ?? 0);
    return s;
  }

  get port(): number {
    return this.boundPort;
  }

  get url(): string {
    return `http://${this.opts.host ?? '127.0.0.1'}:${this.boundPort}`;
  }

  get isUp(): boolean {
    return this.up;
  }

  /** The next `n` requests (matching `match`, when given) get `reply` instead of the protocol logic. */
  failNext(n: number, reply: StandinReply, match?: (req: StandinRequest) => boolean): void {
    this.injections.push({ remaining: n, reply, match });
  }

  clearFailures(): void {
    this.injections.length = 0;
  }

  /** Stops listening and drops every connection: clients get connection refused until comeBack(). */
  async goDown(): Promise<void> {
    if (!this.up) return;
    this.up = false;
    for (const t of this.pendingTimers) clearTimeout(t);
    this.pendingTimers.clear();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      for (const s of this.sockets) s.destroy();
    });
    this.sockets.clear();
  }

  /** Listens again on the same port. */
  async comeBack(): Promise<void> {
    if (this.up) return;
    this.server = this.createServer();
    await this.listen(this.boundPort);
  }

  async close(): Promise<void> {
    await this.goDown();
  }

  private createServer(): Server {
    const server = createServer((req, res) => void this.serve(req, res));
    server.keepAliveTimeout = 5_000;
    server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    return server;
  }

  private listen(port: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, this.opts.host ?? '127.0.0.1', () => {
        this.server.off('error', reject);
        this.boundPort = (this.server.address() as AddressInfo).port;
        this.up = true;
        resolve();
      });
    });
  }

  private sleep(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.pendingTimers.delete(t);
        resolve();
      }, ms);
      this.pendingTimers.add(t);
    });
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const { body, size } = await readLimited(req, this.opts.maxBody);
      const url = new URL(req.url ?? '/', 'http://standin');
      const request: StandinRequest = {
        method: req.method ?? 'GET',
        path: url.pathname,
        query: url.searchParams,
        headers: req.headers,
        body: body ?? Buffer.alloc(0),
        size,
        receivedAt: Date.now(),
      };
      await this.sleep(this.latencyMs);
      if (!this.up) return void res.destroy();
      this.requests++;
      let reply: StandinReply;
      const injection = this.injections.find((i) => i.remaining > 0 && (!i.match || i.match(request)));
      if (injection) {
        injection.remaining--;
        reply = injection.reply;
      } else if (body === null) {
        reply = this.opts.tooLarge(size);
      } else {
        reply = await this.handler(request);
      }
      await this.sleep(this.holdAnswersMs);
      if (!this.up || res.destroyed) return void res.destroy();
      send(res, reply);
    } catch (err) {
      // A bug in protocol logic answers 500, like a real service having a bad day.
      if (!res.headersSent && !res.destroyed) send(res, { status: 500, body: { error: String(err) } });
    }
  }
}

/** Reads a body up to `limit` bytes; beyond it keeps counting but stores nothing (body null). */
function readLimited(req: IncomingMessage, limit: number): Promise<{ body: Buffer | null; size: number }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= limit) chunks.push(c);
    });
    req.on('end', () => resolve({ body: size > limit ? null : Buffer.concat(chunks), size }));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, reply: StandinReply): void {
  let payload: Buffer;
  const headers: Record<string, string | number> = { ...reply.headers };
  if (reply.body === undefined || reply.body === null) payload = Buffer.alloc(0);
  else if (Buffer.isBuffer(reply.body)) payload = reply.body;
  else if (typeof reply.body === 'string') payload = Buffer.from(reply.body);
  else {
    payload = Buffer.from(JSON.stringify(reply.body));
    headers['Content-Type'] ??= 'application/json; charset=UTF-8';
  }
  headers['Content-Length'] = payload.length;
  res.writeHead(reply.status, headers);
  res.end(payload);
}

/** Header value as one string (first of repeated headers). */
export function headerOf(req: StandinRequest, name: string): string | undefined {
  const v = req.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}
