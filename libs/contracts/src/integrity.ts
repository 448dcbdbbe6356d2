import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Canonical JSON (RFC 8785 style for the values events carry): object keys sorted by
 * UTF-16 code units, no whitespace, numbers and strings as JSON.stringify writes them.
 * Producer and verifier must agree byte for byte, so this is the single definition.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new TypeError('non-finite number');
    return JSON.stringify(value) ?? 'null';
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
}

/** Fields excluded from the MAC: the proof itself and the classic unkeyed hash. */
const UNSIGNED_FIELDS = new Set(['integrity', 'hash']);

function signedPart(event: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(event)) if (!UNSIGNED_FIELDS.has(k)) out[k] = v;
  return out;
}

/** HMAC-SHA256 over the canonical JSON of the event without its integrity fields, hex. */
export function computeEventMac(event: Record<string, unknown>, key: Buffer): string {
  return createHmac('sha256', key)
    .update(canonicalJson(signedPart(event)), 'utf8')
    .digest('hex');
}

/** Constant-time comparison of a claimed MAC with the recomputed one. */
export function verifyEventMac(event: Record<string, unknown>, key: Buffer, claimedHex: string): boolean {
  const expected = Buffer.from(computeEventMac(event, key), 'hex');
  const claimed = Buffer.from(claimedHex, 'hex');
  return claimed.length === expected.length && timingSafeEqual(claimed, expected);
}
