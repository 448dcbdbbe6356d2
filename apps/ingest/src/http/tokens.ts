import { createHash, timingSafeEqual } from 'node:crypto';
import type { HecToken } from './config';

/**
 * Finds the token a request presents by its SHA-256, comparing against every configured hash in
 * constant time (no early exit), so response time says nothing about how close a guess was.
 */
export class TokenStore {
  constructor(private readonly tokens: readonly HecToken[]) {}

  find(presented: string): HecToken | null {
    const digest = createHash('sha256').update(presented, 'utf8').digest();
    let found: HecToken | null = null;
    for (const t of this.tokens) if (timingSafeEqual(digest, t.sha256) && found === null) found = t;
    return found;
  }
}

export type AuthResult = { ok: true; token: HecToken } | { ok: false; answer: 'tokenRequired' | 'invalidAuthorization' | 'invalidToken' };

/** HEC authorization: `Splunk <token>` (or Basic with the token as password). */
export function hecAuth(header: string | undefined, store: TokenStore): AuthResult {
  if (!header) return { ok: false, answer: 'tokenRequired' };
  let token: string | undefined;
  const m = /^Splunk\s+(\S{1,512})$/.exec(header);
  if (m) token = m[1];
  else if (/^Basic\s+/i.test(header)) {
    const decoded = Buffer.from(header.replace(/^Basic\s+/i, ''), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    token = colon >= 0 && decoded.length - colon - 1 <= 512 ? decoded.slice(colon + 1) : undefined;
  }
  if (!token) return { ok: false, answer: 'invalidAuthorization' };
  const t = store.find(token);
  return t ? { ok: true, token: t } : { ok: false, answer: 'invalidToken' };
}

/** NDJSON authorization: `Bearer <token>`. */
export function bearerAuth(header: string | undefined, store: TokenStore): AuthResult {
  if (!header) return { ok: false, answer: 'tokenRequired' };
  const m = /^Bearer\s+(\S{1,512})$/i.exec(header);
  if (!m) return { ok: false, answer: 'invalidAuthorization' };
  const t = store.find(m[1]!);
  return t ? { ok: true, token: t } : { ok: false, answer: 'invalidToken' };
}
