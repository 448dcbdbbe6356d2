import type { IncomingHttpHeaders } from 'node:http';
import { OutboundError, headerValue, parseRetryAfter, sendOutbound } from '@vigil/runtime';

/** An HTTP answer with its body read up to a bound (a destination cannot make us buffer megabytes). */
export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export const MAX_ANSWER_BYTES = 64 * 1024;

/** Failure to reach the destination at all: always worth retrying. */
export class NetworkError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NetworkError';
  }
}

/**
 * POSTs and reads the answer (keep-alive, no redirects followed). Network failures become a
 * NetworkError whose message names the failure (ECONNREFUSED, timeout) but never the URL, which
 * may carry a token (Slack webhooks).
 */
export async function post(url: string, init: { headers: Record<string, string>; body: string; timeoutMs: number }): Promise<HttpAnswer> {
  try {
    return await sendOutbound({
      method: 'POST',
      url,
      headers: init.headers,
      body: init.body,
      timeoutMs: init.timeoutMs,
      maxAnswerBytes: MAX_ANSWER_BYTES,
    });
  } catch (err) {
    if (!(err instanceof OutboundError)) throw err;
    throw new NetworkError(`request failed: ${err.failure === 'timeout' ? `timed out after ${init.timeoutMs} ms` : err.detail}`);
  }
}

/** 408, 425, 429 and 5xx may succeed later; any other 4xx will fail the same way again. */
export function isRetriableStatus(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || status >= 500;
}

/** Longest wait a JSON `retry_after` may ask for (the same cap parseRetryAfter applies). */
const MAX_RETRY_AFTER_MS = 15 * 60_000;

/**
 * How long the destination asked us to wait, in ms: the Retry-After header (seconds or an HTTP
 * date), else a JSON body's `retry_after` in seconds (the form some webhook APIs use on 429).
 */
export function retryAfterOf(answer: HttpAnswer, nowMs: number): number | undefined {
  const header = parseRetryAfter(headerValue(answer.headers, 'retry-after'), nowMs);
  if (header !== null) return header;
  if (answer.status !== 429 || !answer.body.trimStart().startsWith('{')) return undefined;
  try {
    const v = (JSON.parse(answer.body) as { retry_after?: unknown }).retry_after;
    if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return Math.min(Math.round(v * 1000), MAX_RETRY_AFTER_MS);
  } catch {
    // not JSON after all: no hint
  }
  return undefined;
}

/** A short, log-safe excerpt of an answer body. */
export function excerpt(body: string, max = 300): string {
  const flat = body.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}
