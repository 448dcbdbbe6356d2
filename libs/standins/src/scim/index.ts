import type { IncomingMessage, ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import { startHttp, type RunningServer } from '../http';

/**
 * A SCIM 2.0 service provider for Users (RFC 7643 / RFC 7644), strict where identity providers are:
 *  - every request needs `Authorization: Bearer <token>` (401 with a SCIM Error otherwise);
 *  - `GET /Users?filter=userName eq "x"` and `GET /Users/{id}`;
 *  - `PATCH /Users/{id}` with Content-Type application/scim+json and a PatchOp body
 *    (`schemas` = [PatchOp URN], `Operations` of add/replace/remove); `active` takes a boolean;
 *  - errors are SCIM Error documents with `status` as a string and `scimType` where the RFC has one:
 *    400 invalidSyntax / invalidValue / invalidPath / invalidFilter, 404 unknown user, 415, 429.
 */
export const SCIM_PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
export const SCIM_ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';
export const SCIM_LIST = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
export const SCIM_USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const SCIM_TYPE = 'application/scim+json';

export interface ScimUser {
  id: string;
  userName: string;
  active: boolean;
  version: number;
}

export interface ScimFailure {
  status: number;
  headers?: Record<string, string>;
  detail?: string;
}

export interface ScimStandin extends RunningServer {
  readonly users: Map<string, ScimUser>;
  readonly requests: Array<{ method: string; path: string; status: number; body?: unknown }>;
  addUser(userName: string, opts?: { id?: string; active?: boolean }): ScimUser;
  failNext(failure: ScimFailure, count?: number): void;
}

function userResource(u: ScimUser, base: string): Record<string, unknown> {
  return {
    schemas: [SCIM_USER],
    id: u.id,
    userName: u.userName,
    active: u.active,
    meta: { resourceType: 'User', version: `W/"${u.version}"`, location: `${base}/Users/${encodeURIComponent(u.id)}` },
  };
}

export async function startScimStandin(opts: { token: string; port?: number }): Promise<ScimStandin> {
  const users = new Map<string, ScimUser>();
  const requests: ScimStandin['requests'] = [];
  const failures: ScimFailure[] = [];
  let nextId = 1;
  let base = '';

  const send = (
    req: IncomingMessage,
    res: ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
    reqBody?: unknown,
  ) => {
    requests.push({ method: req.method ?? '', path: req.url ?? '', status, ...(reqBody !== undefined ? { body: reqBody } : {}) });
    const text = JSON.stringify(body);
    res.writeHead(status, { 'Content-Type': SCIM_TYPE, 'Content-Length': Buffer.byteLength(text), ...headers });
    res.end(text);
  };
  const error = (
    req: IncomingMessage,
    res: ServerResponse,
    status: number,
    detail: string,
    scimType?: string,
    headers: Record<string, string> = {},
    reqBody?: unknown,
  ) =>
    send(req, res, status, { schemas: [SCIM_ERROR], status: String(status), ...(scimType ? { scimType } : {}), detail }, headers, reqBody);

  const server = await startHttp(
    (req, res, raw) => {
      const url = new URL(req.url ?? '/', 'http://standin');
      const auth = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
      const given = Buffer.from(auth?.[1] ?? '');
      const want = Buffer.from(opts.token);
      if (!auth || given.length !== want.length || !timingSafeEqual(given, want)) {
        return error(req, res, 401, 'Authorization failure. The authorization header is invalid or missing.', undefined, {
          'WWW-Authenticate': 'Bearer realm="scim"',
        });
      }
      const failure = failures.shift();
      if (failure) return error(req, res, failure.status, failure.detail ?? 'injected failure', undefined, failure.headers);

      if (url.pathname === '/Users' && req.method === 'GET') {
        const filter = url.searchParams.get('filter');
        const all = [...users.values()];
        let found = all;
        if (filter !== null) {
          const m = /^userName eq "((?:[^"\\]|\\.){1,256})"$/i.exec(filter.trim());
          if (!m) return error(req, res, 400, `unsupported filter: ${filter.slice(0, 100)}`, 'invalidFilter');
          const wanted = m[1]!.replace(/\\(.)/g, '$1');
          // userName is case-insensitive (RFC 7643 §4.1.1, caseExact false).
          found = all.filter((u) => u.userName.toLowerCase() === wanted.toLowerCase());
        }
        return send(req, res, 200, {
          schemas: [SCIM_LIST],
          totalResults: found.length,
          startIndex: 1,
          itemsPerPage: found.length,
          Resources: found.map((u) => userResource(u, base)),
        });
      }
      const m = /^\/Users\/([^/]+)$/.exec(url.pathname);
      if (!m) return error(req, res, 404, `no endpoint ${url.pathname.slice(0, 100)}`);
      const id = decodeURIComponent(m[1]!);
      const user = users.get(id);
      if (req.method === 'GET')
        return user ? send(req, res, 200, userResource(user, base)) : error(req, res, 404, `Resource ${id} not found`);
      if (req.method !== 'PATCH')
        return error(req, res, 405, `method ${req.method} not supported on /Users/{id}`, undefined, { Allow: 'GET, PATCH' });
      const ctype = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      if (ctype !== SCIM_TYPE) return error(req, res, 415, `Content-Type must be ${SCIM_TYPE}`);
      let doc: unknown;
      try {
        doc = JSON.parse(raw.toString('utf8'));
      } catch {
        return error(req, res, 400, 'request body is not valid JSON', 'invalidSyntax');
      }
      const d = doc as { schemas?: unknown; Operations?: unknown };
      if (!Array.isArray(d?.schemas) || d.schemas.length !== 1 || d.schemas[0] !== SCIM_PATCH_OP) {
        return error(req, res, 400, `schemas must be ["${SCIM_PATCH_OP}"]`, 'invalidSyntax', {}, doc);
      }
      if (!Array.isArray(d.Operations) || d.Operations.length === 0)
        return error(req, res, 400, 'Operations must be a non-empty array', 'invalidSyntax', {}, doc);
      if (!user) return error(req, res, 404, `Resource ${id} not found`, undefined, {}, doc);
      let active = user.active;
      for (const op of d.Operations as Array<{ op?: unknown; path?: unknown; value?: unknown }>) {
        const kind = typeof op?.op === 'string' ? op.op.toLowerCase() : '';
        if (!['add', 'replace', 'remove'].includes(kind))
          return error(req, res, 400, `op must be add, replace or remove`, 'invalidSyntax', {}, doc);
        if (kind === 'remove') return error(req, res, 400, 'active cannot be removed', 'mutability', {}, doc);
        let value: unknown;
        if (op.path === undefined) {
          if (op.value === null || typeof op.value !== 'object' || Array.isArray(op.value))
            return error(req, res, 400, 'value must be an object when path is absent', 'invalidValue', {}, doc);
          const keys = Object.keys(op.value);
          if (keys.some((k) => k !== 'active'))
            return error(req, res, 400, `attribute ${keys.find((k) => k !== 'active')} is not supported`, 'invalidPath', {}, doc);
          value = (op.value as { active?: unknown }).active;
        } else {
          if (typeof op.path !== 'string' || op.path.toLowerCase() !== 'active')
            return error(req, res, 400, `path ${String(op.path).slice(0, 64)} is not supported`, 'invalidPath', {}, doc);
          value = op.value;
        }
        if (typeof value !== 'boolean') return error(req, res, 400, 'active must be a boolean', 'invalidValue', {}, doc);
        active = value;
      }
      user.active = active;
      user.version++;
      return send(req, res, 200, userResource(user, base), { ETag: `W/"${user.version}"` }, doc);
    },
    { port: opts.port ?? 0, maxBody: 256 * 1024 },
  );
  base = server.url;
  return {
    ...server,
    users,
    requests,
    addUser(userName, o = {}) {
      const u: ScimUser = { id: o.id ?? `u-${String(nextId++).padStart(6, '0')}`, userName, active: o.active ?? true, version: 1 };
      users.set(u.id, u);
      return u;
    },
    failNext(failure, count = 1) {
      for (let i = 0; i < count; i++) failures.push(failure);
    },
  };
}
