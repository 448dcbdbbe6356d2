import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HttpClient, HttpTransportError, type TlsSettings } from './client';
import { sinkUrl, tlsSettings, transportWarnings } from './endpoint';

/** A throwaway CA, a server certificate for 127.0.0.1 and a client certificate, made with openssl. */
function makePki(dir: string): Record<'ca' | 'serverKey' | 'serverCert' | 'clientKey' | 'clientCert', string> {
  const run = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  run(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=Vigil Test CA']);
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1\n');
  writeFileSync(join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
  for (const who of ['server', 'client']) {
    run([
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      `${who}.key`,
      '-out',
      `${who}.csr`,
      '-subj',
      `/CN=${who === 'server' ? '127.0.0.1' : 'vigil-forwarder'}`,
    ]);
    run([
      'x509',
      '-req',
      '-in',
      `${who}.csr`,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${who}.crt`,
      '-days',
      '2',
      '-extfile',
      `${who}.ext`,
    ]);
  }
  const f = (n: string) => join(dir, n);
  return {
    ca: f('ca.crt'),
    serverKey: f('server.key'),
    serverCert: f('server.crt'),
    clientKey: f('client.key'),
    clientCert: f('client.crt'),
  };
}

function listen(server: Server | HttpServer): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

const opts = (port: number, tls: TlsSettings, scheme = 'https') => ({
  baseUrl: `${scheme}://127.0.0.1:${port}`,
  tls,
  timeoutMs: 5_000,
  maxResponseBytes: 1024,
  maxSockets: 2,
});
const get = (c: HttpClient) => c.request({ method: 'GET', path: '/ping' });

describe('TLS to a sink', () => {
  let dir: string;
  let pki: ReturnType<typeof makePki>;
  let server: Server;
  let mtls: Server;
  let port: number;
  let mtlsPort: number;
  const clients: HttpClient[] = [];
  const client = (o: ReturnType<typeof opts>) => {
    const c = new HttpClient(o);
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-tls-'));
    pki = makePki(dir);
    const handler = (_req: unknown, res: import('node:http').ServerResponse) => res.end('pong');
    server = createServer({ key: readFileSync(pki.serverKey), cert: readFileSync(pki.serverCert) }, handler);
    mtls = createServer(
      {
        key: readFileSync(pki.serverKey),
        cert: readFileSync(pki.serverCert),
        ca: readFileSync(pki.ca),
        requestCert: true,
        rejectUnauthorized: true,
      },
      handler,
    );
    port = await listen(server);
    mtlsPort = await listen(mtls);
  });
  afterAll(() => {
    for (const c of clients) c.close();
    server.close();
    mtls.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('verifies the server certificate by default: a private CA is refused', async () => {
    const tls = tlsSettings('ES', { insecureSkipVerify: false });
    expect(tls.rejectUnauthorized).toBe(true);
    await expect(get(client(opts(port, tls)))).rejects.toThrow(/certificate/i);
  });

  it('trusts a server signed by the configured CA bundle', async () => {
    const res = await get(client(opts(port, tlsSettings('ES', { caFile: pki.ca, insecureSkipVerify: false }))));
    expect(res.body.toString()).toBe('pong');
  });

  it('skips verification only when explicitly told, and says so at start', async () => {
    const tls = tlsSettings('ES', { insecureSkipVerify: true });
    expect((await get(client(opts(port, tls)))).status).toBe(200);
    expect(transportWarnings('ES', `https://127.0.0.1:${port}`, tls)).toEqual([
      expect.stringContaining('ES_TLS_INSECURE_SKIP_VERIFY=true'),
    ]);
  });

  it('presents the client certificate to a server that requires one (mutual TLS)', async () => {
    await expect(get(client(opts(mtlsPort, tlsSettings('SPLUNK', { caFile: pki.ca, insecureSkipVerify: false }))))).rejects.toThrow();
    const withCert = tlsSettings('SPLUNK', { caFile: pki.ca, certFile: pki.clientCert, keyFile: pki.clientKey, insecureSkipVerify: false });
    expect((await get(client(opts(mtlsPort, withCert)))).body.toString()).toBe('pong');
  });

  it('refuses a client certificate without its key, and unreadable files, at boot', () => {
    expect(() => tlsSettings('ES', { certFile: pki.clientCert, insecureSkipVerify: false })).toThrow('ES_TLS_KEY_FILE');
    expect(() => tlsSettings('ES', { caFile: join(dir, 'missing.pem'), insecureSkipVerify: false })).toThrow('ES_TLS_CA_FILE: cannot read');
  });
});

describe('sink URLs', () => {
  it.each([
    ['https://splunk.example:8088', false, 'https://splunk.example:8088'],
    ['https://es.example/prefix/', false, 'https://es.example/prefix'],
    ['http://127.0.0.1:9200', true, 'http://127.0.0.1:9200'],
  ])('accepts %s (plaintext allowed: %s)', (url, plain, expected) => {
    expect(sinkUrl('ES_URL', url, plain)).toBe(expected);
  });

  it.each([
    ['http://es.example:9200', 'must use https://'],
    ['https://user:pw@es.example', 'must not carry credentials'],
    ['https://es.example/?token=x', 'must not have a query'],
    ['ftp://es.example', 'must be an http(s) URL'],
    ['es.example:9200', 'must be an'],
  ])('refuses %s', (url, problem) => {
    expect(() => sinkUrl('ES_URL', url, false)).toThrow(problem);
  });
});

describe('answers and deadlines', () => {
  let server: HttpServer;
  let port: number;
  let c: HttpClient;
  beforeAll(async () => {
    server = createHttpServer((req, res) => {
      if (req.url === '/big') res.end('x'.repeat(5000));
      else if (req.url === '/slow') setTimeout(() => res.end('late'), 2_000).unref();
      else res.end('ok');
    });
    port = await listen(server);
    c = new HttpClient({ ...opts(port, { rejectUnauthorized: true }, 'http'), timeoutMs: 300 });
  });
  afterAll(() => {
    c.close();
    server.closeAllConnections();
    server.close();
  });

  it('cuts off an answer larger than the limit', async () => {
    await expect(c.request({ method: 'GET', path: '/big' })).rejects.toMatchObject({ failure: 'response_too_large' });
  });

  it('gives up on a request that takes longer than its deadline', async () => {
    const err = await c.request({ method: 'GET', path: '/slow' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpTransportError);
    expect((err as HttpTransportError).failure).toBe('timeout');
  });

  it('reports a refused connection as a transport failure', async () => {
    const dead = new HttpClient({ ...opts(1, { rejectUnauthorized: true }, 'http') });
    await expect(dead.request({ method: 'GET', path: '/' })).rejects.toMatchObject({ failure: 'network' });
    dead.close();
  });
});
