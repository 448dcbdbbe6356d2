import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

/** A running stand-in: its base URL and a way to stop it. */
export interface RunningServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

export type Handler = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void | Promise<void>;

/** Reads a request body up to `limit` bytes; null when it is larger (the caller answers 413). */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) over = true;
      else chunks.push(c);
    });
    req.on('end', () => resolve(over ? null : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Body bytes after Content-Encoding: gzip is undone, anything else is passed through. */
export function decodeBody(req: IncomingMessage, body: Buffer): Buffer {
  return req.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body;
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/**
 * Starts an HTTP server on 127.0.0.1 (port 0 = any free port). `maxBody` bounds what it reads.
 * A handler that throws answers 500, like a real service having a bad day.
 */
export async function startHttp(handler: Handler, opts: { port?: number; maxBody?: number } = {}): Promise<RunningServer> {
  const maxBody = opts.maxBody ?? 32 * 1024 * 1024;
  const server: Server = createServer((req, res) => {
    readBody(req, maxBody)
      .then(async (body) => {
        if (body === null) return sendJson(res, 413, { error: 'request entity too large' });
        await handler(req, res, body);
      })
      .catch((err: unknown) => {
        if (!res.headersSent) sendJson(res, 500, { error: String(err) });
        else res.end();
      });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
