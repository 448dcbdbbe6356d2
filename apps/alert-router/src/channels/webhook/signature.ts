import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'X-Vigil-Signature';
export const TIMESTAMP_HEADER = 'X-Vigil-Timestamp';
export const DEFAULT_TOLERANCE_SECONDS = 300;

/**
 * The signature of a webhook body: HMAC-SHA256 with the shared secret over
 * `<timestamp>.<raw body bytes>`, hex, sent as `X-Vigil-Signature: v1=<hex>` next to
 * `X-Vigil-Timestamp: <unix seconds>`. The timestamp inside the MAC lets a receiver refuse replays.
 */
export function signWebhook(secret: string, timestampSeconds: number, body: string | Buffer): string {
  return createHmac('sha256', secret).update(`${timestampSeconds}.`).update(body).digest('hex');
}

/** The verification recipe, as a receiver implements it (docs/alert-router.md shows it in other languages). */
export function verifyWebhook(
  secret: string,
  headers: { signature: string | undefined; timestamp: string | undefined },
  body: Buffer,
  nowSeconds: number,
  toleranceSeconds = DEFAULT_TOLERANCE_SECONDS,
): { ok: true } | { ok: false; reason: string } {
  if (!headers.signature || !headers.timestamp) return { ok: false, reason: 'missing signature or timestamp header' };
  if (!/^\d{1,12}$/.test(headers.timestamp)) return { ok: false, reason: 'timestamp is not unix seconds' };
  const ts = Number(headers.timestamp);
  if (Math.abs(nowSeconds - ts) > toleranceSeconds) return { ok: false, reason: 'timestamp outside the tolerance window' };
  const expected = Buffer.from(signWebhook(secret, ts, body), 'hex');
  // Several v1= entries may be present while a secret rotates: any one matching is enough.
  for (const part of headers.signature.split(',')) {
    const m = /^\s*v1=([0-9a-f]{64})\s*$/.exec(part);
    if (m && timingSafeEqual(Buffer.from(m[1]!, 'hex'), expected)) return { ok: true };
  }
  return { ok: false, reason: 'signature does not match' };
}
