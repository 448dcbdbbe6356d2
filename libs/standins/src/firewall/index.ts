import type { IncomingMessage, ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import { timingSafeEqual } from 'node:crypto';
import { sendJson, startHttp, type RunningServer } from '../http';

/**
 * A generic firewall block API, as Vigil's firewall connector speaks it (docs/soar.md):
 *   PUT    /v1/blocks/{network}   body {"comment": string, "expires_in_seconds"?: int}  → 200 (updated) / 201 (created)
 *   DELETE /v1/blocks/{network}                                                       → 204, or 404 when not blocked
 *   GET    /v1/blocks                                                                 → 200 {"blocks": [...]}
 * `{network}` is an IP or CIDR, URL-encoded. Every call needs `Authorization: Bearer <token>`.
 */
export interface FirewallBlock {
  network: string;
  comment: string;
  expiresInSeconds: number | null;
  createdAt: number;
}

export interface InjectedFailure {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

export interface FirewallStandin extends RunningServer {
  readonly blocks: Map<string, FirewallBlock>;
  /** Every request as received (method, path, status answered). */
  readonly requests: Array<{ method: string; path: string; status: number }>;
  /** The next `count` requests answer this failure instead of being served. */
  failNext(failure: InjectedFailure, count?: number): void;
}

function bearerOk(req: IncomingMessage, token: string): boolean {
  const h = req.headers.authorization ?? '';
  const m = /^Bearer (.+)$/.exec(h);
  if (!m) return false;
  const a = Buffer.from(m[1]!);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

function validNetwork(text: string): boolean {
  const [addr, prefix, ...rest] = text.split('/');
  if (rest.length > 0 || !addr) return false;
  const family = isIP(addr);
  if (family === 0) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

export async function startFirewallStandin(opts: { token: string; port?: number }): Promise<FirewallStandin> {
  const blocks = new Map<string, FirewallBlock>();
  const requests: FirewallStandin['requests'] = [];
  const failures: InjectedFailure[] = [];

  const answer = (req: IncomingMessage, res: ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}) => {
    requests.push({ method: req.method ?? '', path: req.url ?? '', status });
    if (body === undefined) {
      res.writeHead(status, headers);
      res.end();
    } else sendJson(res, status, body, headers);
  };

  const server = await startHttp(
    (req, res, body) => {
      const url = new URL(req.url ?? '/', 'http://standin');
      if (!bearerOk(req, opts.token)) {
        return answer(
          req,
          res,
          401,
          { error: 'unauthorized', message: 'missing or invalid bearer token' },
          { 'WWW-Authenticate': 'Bearer' },
        );
      }
      const failure = failures.shift();
      if (failure) return answer(req, res, failure.status, failure.body ?? { error: 'injected' }, failure.headers);
      if (url.pathname === '/v1/blocks') {
        if (req.method !== 'GET') return answer(req, res, 405, { error: 'method not allowed' }, { Allow: 'GET' });
        return answer(req, res, 200, { blocks: [...blocks.values()] });
      }
      const m = /^\/v1\/blocks\/([^/]+)$/.exec(url.pathname);
      if (!m) return answer(req, res, 404, { error: 'not found' });
      let network: string;
      try {
        network = decodeURIComponent(m[1]!);
      } catch {
        return answer(req, res, 400, { error: 'bad_request', message: 'network is not valid percent-encoding' });
      }
      if (!validNetwork(network))
        return answer(req, res, 400, { error: 'invalid_network', message: `${network.slice(0, 64)} is not an IP or CIDR` });
      if (req.method === 'DELETE') {
        if (!blocks.delete(network)) return answer(req, res, 404, { error: 'not_found', message: `${network} is not blocked` });
        return answer(req, res, 204);
      }
      if (req.method !== 'PUT') return answer(req, res, 405, { error: 'method not allowed' }, { Allow: 'PUT, DELETE' });
      if (!/^application\/json\b/.test(req.headers['content-type'] ?? '')) {
        return answer(req, res, 415, { error: 'unsupported_media_type', message: 'send application/json' });
      }
      let doc: unknown;
      try {
        doc = JSON.parse(body.toString('utf8'));
      } catch {
        return answer(req, res, 400, { error: 'bad_request', message: 'body is not JSON' });
      }
      const d = doc as { comment?: unknown; expires_in_seconds?: unknown };
      if (doc === null || typeof doc !== 'object' || typeof d.comment !== 'string' || d.comment.length > 1024) {
        return answer(req, res, 400, { error: 'bad_request', message: 'comment (string, at most 1024 chars) is required' });
      }
      if (d.expires_in_seconds !== undefined && (!Number.isInteger(d.expires_in_seconds) || (d.expires_in_seconds as number) <= 0)) {
        return answer(req, res, 400, { error: 'bad_request', message: 'expires_in_seconds must be a positive integer' });
      }
      const existed = blocks.has(network);
      const block: FirewallBlock = {
        network,
        comment: d.comment,
        expiresInSeconds: (d.expires_in_seconds as number | undefined) ?? null,
        createdAt: blocks.get(network)?.createdAt ?? Date.now(),
      };
      blocks.set(network, block);
      return answer(req, res, existed ? 200 : 201, block);
    },
    { port: opts.port ?? 0, maxBody: 64 * 1024 },
  );
  return {
    ...server,
    blocks,
    requests,
    failNext(failure, count = 1) {
      for (let i = 0; i < count; i++) failures.push(failure);
    },
  };
}
