import { hashToken, parseApiTokens } from '../config';
import { authenticate } from './auth';

const tokens = parseApiTokens(`ops:${hashToken('ops-token-123')},bot:${hashToken('bot-token-456')}`);

describe('authenticate', () => {
  it.each<[string, string | undefined, string | null]>([
    ['the first token', 'Bearer ops-token-123', 'ops'],
    ['the second token', 'Bearer bot-token-456', 'bot'],
    ['an unknown token', 'Bearer nope', null],
    ['a token differing in one character', 'Bearer ops-token-124', null],
    ['no header', undefined, null],
    ['another scheme', 'Basic b3BzOnRva2Vu', null],
    ['a bare token', 'ops-token-123', null],
    ['an empty bearer', 'Bearer ', null],
  ])('%s', (_what, header, name) => expect(authenticate(header, tokens)).toBe(name));

  it('refuses everything when no token is configured', () => expect(authenticate('Bearer ops-token-123', [])).toBeNull());
});

describe('parseApiTokens', () => {
  it('keeps only hashes', () => {
    expect(tokens.map((t) => [t.name, t.sha256.toString('hex')])).toEqual([
      ['ops', hashToken('ops-token-123')],
      ['bot', hashToken('bot-token-456')],
    ]);
  });
  it.each(['ops', 'ops:abc', `bad name:${'a'.repeat(64)}`, `a:${'a'.repeat(64)},a:${'b'.repeat(64)}`])('refuses %p', (text) => {
    expect(() => parseApiTokens(text)).toThrow('ROUTER_API_TOKENS');
  });
});
