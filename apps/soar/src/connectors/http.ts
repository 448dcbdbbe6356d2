import { parseRetryAfter } from '@vigil/runtime';
import { ConnectorError } from './types';

export interface HttpCall {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
  timeoutMs: number;
}

export interface HttpAnswer {
  status: number;
  /** At most MAX_ANSWER bytes of the body, as text. */
  text: string;
  headers: Headers;
}

const MAX_ANSWER = 64 * 1024;

/** Reads at most `limit` bytes of a response body, then stops reading. */
async function readCapped(res: Response, limit: number): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.length;
    if (size >= limit) {
      await reader.cancel();
      break;
    }
  }
  return Buffer.concat(chunks).subarray(0, limit).toString('utf8');
}

/**
 * One HTTP request with a timeout. Network errors and timeouts become retriable ConnectorErrors;
 * any answer (including 4xx/5xx) is returned for the connector to classify.
 */
export async function httpCall(call: HttpCall, audit: Record<string, string>): Promise<HttpAnswer> {
  let res: Response;
  try {
    res = await fetch(call.url, {
      method: call.method,
      headers: call.headers,
      ...(call.body !== undefined ? { body: call.body } : {}),
      signal: AbortSignal.timeout(call.timeoutMs),
      redirect: 'error',
    });
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    const why = e.name === 'TimeoutError' ? `no answer within ${call.timeoutMs} ms` : (e.cause?.code ?? e.message);
    throw new ConnectorError(`${call.method} ${audit.path ?? call.url} failed: ${why}`, true, audit);
  }
  return { status: res.status, text: await readCapped(res, MAX_ANSWER), headers: res.headers };
}

/** The house classification of an HTTP status: 2xx ok; 408, 429 and 5xx retriable; other 4xx not. */
export function failFor(answer: HttpAnswer, what: string, audit: Record<string, string>, nowMs: number): ConnectorError {
  const retriable = answer.status === 408 || answer.status === 429 || answer.status >= 500;
  const retryAfter = parseRetryAfter(answer.headers.get('retry-after'), nowMs) ?? undefined;
  const detail = answer.text.replace(/\s+/g, ' ').slice(0, 300);
  return new ConnectorError(
    `${what}: HTTP ${answer.status}${detail ? ` ${detail}` : ''}`,
    retriable,
    { ...audit, status: String(answer.status) },
    retryAfter,
  );
}
