import { createHash } from 'node:crypto';
import { parseHecTokens } from './config';
import { TokenStore, bearerAuth, hecAuth } from './tokens';

const sha = (t: string) => createHash('sha256').update(t).digest('hex');
const A = sha('token-a');
const B = sha('token-b');

describe('INGEST_HEC_TOKENS', () => {
  it('reads name:sha256[:indexes[:sources]] entries, comma or newline separated', () => {
    const t = parseHecTokens(`fluent:${A}:security|main:web|shop\n# comment\nvector:${B}:*`);
    expect(t.map((x) => [x.name, x.sha256.toString('hex'), x.indexes, x.sources])).toEqual([
      ['fluent', A, ['security', 'main'], ['web', 'shop']],
      ['vector', B, [], []],
    ]);
  });

  it('reads the JSON form', () => {
    const t = parseHecTokens(JSON.stringify([{ name: 'otel', sha256: A, indexes: ['security'] }]));
    expect(t[0]).toMatchObject({ name: 'otel', indexes: ['security'], sources: [] });
  });

  it.each([
    ['a raw token instead of its hash', 'fluent:token-a'],
    ['an uppercase hash', `fluent:${A.toUpperCase()}`],
    ['a bad name', `flu ent:${A}`],
    ['a duplicate name', `a:${A},a:${B}`],
    ['a shared hash', `a:${A},b:${A}`],
    ['too many parts', `a:${A}:i:s:x`],
    ['invalid JSON', '[{'],
    ['JSON without sha256', '[{"name":"x"}]'],
  ])('refuses %s', (_n, text) => {
    expect(() => parseHecTokens(text)).toThrow(/INGEST_HEC_TOKENS/);
  });
});

describe('token checks', () => {
  const store = new TokenStore(parseHecTokens(`a:${A},b:${B}`));
  it.each<[string | undefined, string]>([
    [undefined, 'tokenRequired'],
    ['Splunk token-a', 'a'],
    ['Splunk  token-b', 'b'],
    [`Basic ${Buffer.from('x:token-b').toString('base64')}`, 'b'],
    ['Splunk token-c', 'invalidToken'],
    ['Bearer token-a', 'invalidAuthorization'],
    ['Splunk', 'invalidAuthorization'],
  ])('HEC %j → %s', (header, expected) => {
    const r = hecAuth(header, store);
    expect(r.ok ? r.token.name : r.answer).toBe(expected);
  });
  it.each<[string | undefined, string]>([
    [undefined, 'tokenRequired'],
    ['Bearer token-a', 'a'],
    ['Splunk token-a', 'invalidAuthorization'],
    ['Bearer nope', 'invalidToken'],
  ])('NDJSON %j → %s', (header, expected) => {
    const r = bearerAuth(header, store);
    expect(r.ok ? r.token.name : r.answer).toBe(expected);
  });
});
