import { compileSafeRegex, findUnsafeConstruct, safeRegexTest, REGEX_MAX_INPUT } from './regex-safety';

describe('regex safety check', () => {
  const accepted = [
    '^/admin',
    'admin|root',
    '^/api/v[0-9]+/users$',
    '\\.(exe|dll|ps1)$',
    '^(?:GET|POST) /login',
    '^.*admin.*$',
    'admin.*root',
    '[a-z]{2,8}@example\\.com',
    '^\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}$',
    '(ab)+c',
    '(?<user>[a-z]+)@',
    '\\p{L}+',
    'a{3}',
    '(a?)',
    '[(+*]+',
  ];
  it.each(accepted)('accepts %s', (p) => {
    expect(findUnsafeConstruct(p)).toBeNull();
    expect(compileSafeRegex(p).ok).toBe(true);
  });

  const refused: Array<[string, RegExp]> = [
    ['(a+)+$', /nested quantifier/],
    ['(a*)*b', /nested quantifier/],
    ['(x+x+)+y', /nested quantifier/],
    ['((a)+)+', /nested quantifier/],
    ['(a|aa)+$', /alternation/],
    ['(a|a)*', /alternation/],
    ['(.*a){20}', /nested quantifier/],
    ['.*.*.*x', /unbounded/],
    ['.*a.*b', /not anchored/],
    ['[a-z]+[a-z]+b', /not anchored/],
    ['^a+b+c+', /at most 2/],
    ['^a|.*b.*c', /not anchored/],
    ['(a)\\1', /backreference/],
    ['(?<n>a)\\k<n>', /backreference/],
    ['foo(?=bar)', /lookaround/],
    ['foo(?!bar)', /lookaround/],
    ['(?<=a)b', /lookaround/],
    ['(?<!a)b', /lookaround/],
    ['a{1,100000}', /limit/],
    ['a{0,100}a{0,100}b', /unbounded or long/],
    ['a{0,9}a{0,9}a{0,9}a{0,9}b', /multiply/],
    ['a{0,9}a{0,9}.*b', /multiply/],
    ['a{1000,}', /limit/],
    ['x'.repeat(300), /limit/],
    ['(abc', /unclosed/],
    ['abc)', /unbalanced/],
    ['[abc', /unterminated/],
    ['*a', /nothing to repeat/],
    ['', /empty/],
  ];
  it.each(refused)('refuses %s', (p, why) => {
    const r = compileSafeRegex(p);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(why);
  });

  it('reports a pattern the engine cannot compile', () => {
    const r = compileSafeRegex('a{2,1}');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(/does not compile/);
  });

  it('never tests a value longer than the input cap', () => {
    const r = compileSafeRegex('^x+$');
    if (!r.ok) throw new Error(r.reason);
    expect(safeRegexTest(r.regex, 'x'.repeat(REGEX_MAX_INPUT))).toBe(true);
    expect(safeRegexTest(r.regex, 'x'.repeat(REGEX_MAX_INPUT + 1))).toBe(false);
  });
});
