import { isRetriableStatus, retryAfterOf, type HttpAnswer } from './http';

const NOW = Date.parse('2026-11-29T12:00:00.000Z');
function answer(status: number, headers: Record<string, string>, body = ''): HttpAnswer {
  return { status, headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v])), body };
}

describe('retryAfterOf', () => {
  it.each<[string, HttpAnswer, number | undefined]>([
    ['Retry-After in seconds', answer(429, { 'retry-after': '7' }), 7_000],
    ['Retry-After as an HTTP date', answer(503, { 'retry-after': 'Sun, 29 Nov 2026 12:00:30 GMT' }), 30_000],
    ['retry_after in a JSON 429 body', answer(429, {}, '{"retry_after": 2.5}'), 2_500],
    ['the header wins over the body', answer(429, { 'retry-after': '1' }, '{"retry_after": 60}'), 1_000],
    ['a huge retry_after is capped', answer(429, {}, '{"retry_after": 999999}'), 900_000],
    ['no hint', answer(429, {}, 'rate_limited'), undefined],
    ['a body hint on a 500 is ignored', answer(500, {}, '{"retry_after": 5}'), undefined],
    ['a negative retry_after is ignored', answer(429, {}, '{"retry_after": -1}'), undefined],
  ])('%s', (_what, a, ms) => expect(retryAfterOf(a, NOW)).toBe(ms));
});

describe('isRetriableStatus', () => {
  it.each<[number, boolean]>([
    [400, false],
    [401, false],
    [403, false],
    [404, false],
    [408, true],
    [413, false],
    [425, true],
    [429, true],
    [500, true],
    [502, true],
    [503, true],
  ])('%d → %s', (status, expected) => expect(isRetriableStatus(status)).toBe(expected));
});
