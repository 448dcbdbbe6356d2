import type { IncomingHttpHeaders } from 'node:http';
import { OutboundError, headerValue, parseRetryAfter, sendOutbound } from '@vigil/runtime';
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
  headers: IncomingHttpHeaders;
}

const MAX_ANSWER = 64 * 1024;

/**
 * One HTTP request with a timeout (keep-alive, no redirects followed). Network errors and timeouts
 * become retriable ConnectorErrors; any answer (including 3xx, 4xx and 5xx) is returned for the
 * connector to classify.
 */
export async function httpCall(call: HttpCall, audit: Record<string, string>): Promise<HttpAnswer> {
  try {
    const a = await sendOutbound({ ...call, maxAnswerBytes: MAX_ANSWER });
    return { status: a.status, text: a.body, headers: a.headers };
  } catch (err) {
    if (!(err instanceof OutboundError)) throw err;
    const why = err.failure === 'timeout' ? `no answer within ${call.timeoutMs} ms` : err.detail;
    throw new ConnectorError(`${call.method} ${audit.path ?? 'request'} failed: ${why}`, true, audit); // never the URL: it may carry credentials
  }
}

/** The house classification of an HTTP status: 2xx ok; 408, 429 and 5xx retriable; other 4xx not. */
export function failFor(answer: HttpAnswer, what: string, audit: Record<string, string>, nowMs: number): ConnectorError {
  const retriable = answer.status === 408 || answer.status === 429 || answer.status >= 500;
  const retryAfter = parseRetryAfter(headerValue(answer.headers, 'retry-after'), nowMs) ?? undefined;
  const detail = answer.text.replace(/\s+/g, ' ').slice(0, 300);
  return new ConnectorError(
    `${what}: HTTP ${answer.status}${detail ? ` ${detail}` : ''}`,
    retriable,
    { ...audit, status: String(answer.status) },
    retryAfter,
  );
}
