import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OutboundError, headerValue, sendOutbound } from './outbound';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
  socket: Socket;
}

/** A local HTTP server that records each request and answers with `answer`. */
async function serve(answer: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ server: Server; base: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString(), socket: req.socket });
      answer(req, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

/** Closes the server, dropping kept-alive connections at once rather than waiting for them to idle out. */
function close(s: Server): Promise<void> {
  const closed = new Promise<void>((r) => s.close(() => r()));
  s.closeAllConnections();
  return closed;
}

describe('sendOutbound', () => {
  let servers: Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.map(close));
    servers = [];
  });
  const start = async (answer: (req: IncomingMessage, res: ServerResponse) => void) => {
    const s = await serve(answer);
    servers.push(s.server);
    return s;
  };

  it('sends the method, headers and body, and returns the status, headers and body of the answer', async () => {
    const { base, seen } = await start((_req, res) => {
      res.writeHead(201, { 'Retry-After': '3', 'Content-Type': 'text/plain' });
      res.end('created é');
    });
    const a = await sendOutbound({
      method: 'PUT',
      url: `${base}/v1/blocks/203.0.113.9`,
      headers: { 'Content-Type': 'application/json', 'X-Signature': 'abc' },
      body: '{"ip":"203.0.113.9","note":"ü"}',
      timeoutMs: 5_000,
    });
    expect(a).toMatchObject({ status: 201, body: 'created é' });
    expect(headerValue(a.headers, 'Retry-After')).toBe('3');
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ method: 'PUT', url: '/v1/blocks/203.0.113.9', body: '{"ip":"203.0.113.9","note":"ü"}' });
    expect(seen[0]!.headers).toMatchObject({
      'content-type': 'application/json',
      'x-signature': 'abc',
      'content-length': String(Buffer.byteLength('{"ip":"203.0.113.9","note":"ü"}')),
    });
  });

  it('keeps the connection alive between calls to the same destination', async () => {
    const { base, seen } = await start((_req, res) => res.end('ok'));
    for (let i = 0; i < 3; i++) await sendOutbound({ method: 'POST', url: `${base}/hook`, headers: {}, body: `n=${i}`, timeoutMs: 5_000 });
    expect(seen).toHaveLength(3);
    expect(new Set(seen.map((s) => s.socket)).size).toBe(1);
  });

  it("stops reusing an idle connection before the server's announced keep-alive timeout", async () => {
    const { server, base, seen } = await start((_req, res) => res.end('ok'));
    server.keepAliveTimeout = 3_000; // announced as "Keep-Alive: timeout=3"; Node's client then keeps it 2 s
    await sendOutbound({ method: 'POST', url: `${base}/hook`, headers: {}, body: 'a', timeoutMs: 5_000 });
    await new Promise((r) => setTimeout(r, 2_500));
    await sendOutbound({ method: 'POST', url: `${base}/hook`, headers: {}, body: 'b', timeoutMs: 5_000 });
    expect(seen).toHaveLength(2);
    expect(seen[1]!.socket).not.toBe(seen[0]!.socket);
  });

  it('keeps at most maxAnswerBytes of a large answer', async () => {
    const { base } = await start((_req, res) => res.end('x'.repeat(200_000)));
    const a = await sendOutbound({ method: 'GET', url: `${base}/big`, headers: {}, timeoutMs: 5_000, maxAnswerBytes: 1_000 });
    expect(a.status).toBe(200);
    expect(a.body).toBe('x'.repeat(1_000));
  });

  it('returns a redirect as the answer instead of following it', async () => {
    const other = await start((_req, res) => res.end('should not be reached'));
    const { base } = await start((_req, res) => {
      res.writeHead(302, { Location: `${other.base}/elsewhere` });
      res.end();
    });
    const a = await sendOutbound({ method: 'POST', url: `${base}/hook`, headers: {}, body: 'x', timeoutMs: 5_000 });
    expect(a.status).toBe(302);
    expect(other.seen).toHaveLength(0);
  });

  it('gives up at the deadline with a timeout failure when no answer comes', async () => {
    const { base, seen } = await start(() => undefined); // never answers
    const err = await sendOutbound({ method: 'POST', url: `${base}/slow`, headers: {}, body: 'x', timeoutMs: 200 }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(OutboundError);
    expect(err).toMatchObject({ failure: 'timeout', detail: 'no complete answer within 200 ms' });
    expect(seen).toHaveLength(1);
  });

  it('reports a refused connection by its code, without the URL (which may hold a token)', async () => {
    const { server, base } = await serve(() => undefined);
    await close(server); // nothing listens on that port any more
    const err = await sendOutbound({
      method: 'POST',
      url: `${base}/services/T000/B000/secret-token`,
      headers: {},
      body: 'x',
      timeoutMs: 5_000,
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ failure: 'network', detail: 'ECONNREFUSED' });
    expect((err as Error).message).not.toContain('secret-token');
  });

  it('refuses a URL it cannot send to, as a failure rather than a throw', async () => {
    await expect(sendOutbound({ method: 'GET', url: 'ftp://example.test/x', headers: {}, timeoutMs: 1_000 })).rejects.toMatchObject({
      failure: 'network',
      detail: 'unsupported scheme ftp:',
    });
    await expect(sendOutbound({ method: 'GET', url: 'not a url', headers: {}, timeoutMs: 1_000 })).rejects.toMatchObject({
      failure: 'network',
      detail: 'invalid URL',
    });
  });

  it('verifies TLS certificates: a self-signed server is refused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'outbound-tls-'));
    try {
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'rsa:2048',
          '-nodes',
          '-keyout',
          'k.pem',
          '-out',
          'c.pem',
          '-days',
          '1',
          '-subj',
          '/CN=127.0.0.1',
          '-addext',
          'subjectAltName=IP:127.0.0.1',
        ],
        { cwd: dir, stdio: 'ignore' },
      );
      const tls = createTlsServer({ key: readFileSync(join(dir, 'k.pem')), cert: readFileSync(join(dir, 'c.pem')) }, (_req, res) =>
        res.end('ok'),
      );
      await new Promise<void>((r) => tls.listen(0, '127.0.0.1', r));
      servers.push(tls as unknown as Server);
      const url = `https://127.0.0.1:${(tls.address() as AddressInfo).port}/hook`;
      await expect(sendOutbound({ method: 'POST', url, headers: {}, body: 'x', timeoutMs: 5_000 })).rejects.toMatchObject({
        failure: 'network',
        detail: 'DEPTH_ZERO_SELF_SIGNED_CERT',
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
