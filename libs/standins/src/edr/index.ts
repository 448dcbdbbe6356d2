import type { IncomingMessage, ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import { sendJson, startHttp, type RunningServer } from '../http';

/**
 * A generic EDR host-containment API:
 *   POST /hosts/{host}/isolate   body {"reason": string, "alert_id"?: string}  → 200 {"host", "state": "isolated"}
 *   POST /hosts/{host}/release   body {"reason": string, ...}                   → 200 {"host", "state": "normal"}
 *   GET  /hosts/{host}                                                         → 200 {"host", "state"}
 * Auth is an API key header (`X-Api-Key` by default) or a bearer token. Unknown hosts are 404,
 * a body without a reason is 400, a wrong key 401.
 */
export type EdrAuth = { kind: 'header'; header: string; key: string } | { kind: 'bearer'; token: string };

export interface EdrFailure {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

export interface EdrStandin extends RunningServer {
  /** Known hosts and their containment state. */
  readonly hosts: Map<string, 'normal' | 'isolated'>;
  readonly requests: Array<{ method: string; path: string; status: number; body?: unknown }>;
  failNext(failure: EdrFailure, count?: number): void;
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export async function startEdrStandin(opts: { auth: EdrAuth; hosts?: string[]; port?: number }): Promise<EdrStandin> {
  const hosts = new Map<string, 'normal' | 'isolated'>((opts.hosts ?? []).map((h) => [h.toLowerCase(), 'normal']));
  const requests: EdrStandin['requests'] = [];
  const failures: EdrFailure[] = [];
  const answer = (
    req: IncomingMessage,
    res: ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
    reqBody?: unknown,
  ) => {
    requests.push({ method: req.method ?? '', path: req.url ?? '', status, ...(reqBody !== undefined ? { body: reqBody } : {}) });
    sendJson(res, status, body, headers);
  };
  const authorised = (req: IncomingMessage): boolean => {
    if (opts.auth.kind === 'bearer') {
      const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
      return m !== null && same(m[1]!, opts.auth.token);
    }
    const v = req.headers[opts.auth.header.toLowerCase()];
    return typeof v === 'string' && same(v, opts.auth.key);
  };
  const server = await startHttp(
    (req, res, raw) => {
      const url = new URL(req.url ?? '/', 'http://standin');
      if (!authorised(req)) return answer(req, res, 401, { error: 'unauthorized' });
      const failure = failures.shift();
      if (failure) return answer(req, res, failure.status, failure.body ?? { error: 'injected' }, failure.headers);
      const m = /^\/hosts\/([^/]+)(?:\/(isolate|release))?$/.exec(url.pathname);
      if (!m) return answer(req, res, 404, { error: 'not_found' });
      const host = decodeURIComponent(m[1]!).toLowerCase();
      const state = hosts.get(host);
      if (!m[2]) {
        if (req.method !== 'GET') return answer(req, res, 405, { error: 'method_not_allowed' }, { Allow: 'GET' });
        return state ? answer(req, res, 200, { host, state }) : answer(req, res, 404, { error: 'unknown_host', host });
      }
      if (req.method !== 'POST') return answer(req, res, 405, { error: 'method_not_allowed' }, { Allow: 'POST' });
      if (!/^application\/json\b/.test(req.headers['content-type'] ?? ''))
        return answer(req, res, 415, { error: 'unsupported_media_type' });
      let doc: { reason?: unknown } | null = null;
      try {
        doc = JSON.parse(raw.toString('utf8')) as { reason?: unknown };
      } catch {
        return answer(req, res, 400, { error: 'invalid_json' });
      }
      if (!doc || typeof doc.reason !== 'string' || doc.reason.length === 0)
        return answer(req, res, 400, { error: 'reason_required' }, {}, doc);
      if (!state) return answer(req, res, 404, { error: 'unknown_host', host }, {}, doc);
      const next = m[2] === 'isolate' ? 'isolated' : 'normal';
      hosts.set(host, next);
      return answer(req, res, 200, { host, state: next }, {}, doc);
    },
    { port: opts.port ?? 0, maxBody: 64 * 1024 },
  );
  return {
    ...server,
    hosts,
    requests,
    failNext(failure, count = 1) {
      for (let i = 0; i < count; i++) failures.push(failure);
    },
  };
}
