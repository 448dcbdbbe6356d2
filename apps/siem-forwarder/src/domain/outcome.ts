/**
 * What a sink said about one request, in the terms the delivery engine acts on. Every sink client
 * translates its protocol's answers into these, so the retry policy lives in one place.
 */

/** The fate of one item of a request the sink answered item by item (or all at once). */
export type ItemOutcome =
  /** Stored. `duplicate`: the sink already had it (a redelivery), which is success too. */
  | { status: 'ok'; duplicate?: boolean }
  /** Failed in a way that may pass later (429, 5xx for this item): retry, counting an attempt. */
  | { status: 'retry'; reason: string }
  /** Refused for what it is (mapping error, bad index, invalid format): dead-letter it. */
  | { status: 'reject'; reason: string }
  /** Not processed because of another item (after an invalid event in a HEC body): send again, no attempt spent. */
  | { status: 'resend'; reason: string };

export type SendOutcome =
  /** The sink answered for each item (`items[i]` belongs to the i-th record sent). */
  | { kind: 'items'; items: ItemOutcome[] }
  /** The whole request failed and the sink looks unavailable (network, timeout, 429, 5xx, busy). */
  | { kind: 'unavailable'; reason: string; retryAfterMs?: number | undefined }
  /** The whole request was refused in a way retrying cannot fix (bad token, no permission, malformed). */
  | { kind: 'refused'; reason: string }
  /** The request was too large for the sink (413): split it, do not resend it as is. */
  | { kind: 'too_large'; reason: string };

export const allOk = (count: number): SendOutcome => ({ kind: 'items', items: Array.from({ length: count }, () => ({ status: 'ok' })) });

/** Trims a sink's answer text for logs and DLQ reasons. */
export function brief(text: string, max = 300): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length > max ? `${oneLine.slice(0, max)}…` : oneLine;
}
