import { createHash, timingSafeEqual } from 'node:crypto';
import type { ApiToken } from '../config';

/**
 * Checks `Authorization: Bearer <token>` against the configured sha256 hashes. The presented token
 * is hashed and compared with every configured hash in constant time (no early exit, so timing
 * tells nothing about which or how many tokens exist). Returns the token's name, or null.
 */
export function authenticate(header: string | undefined, tokens: readonly ApiToken[]): string | null {
  if (!header || header.length > 4096) return null;
  const m = /^Bearer ([\x21-\x7e]{1,2048})$/.exec(header.trim());
  if (!m) return null;
  const presented = createHash('sha256').update(m[1]!, 'utf8').digest();
  let found: string | null = null;
  for (const t of tokens) {
    if (timingSafeEqual(presented, t.sha256) && found === null) found = t.name;
  }
  return found;
}
