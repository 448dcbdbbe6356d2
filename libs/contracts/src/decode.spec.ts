import { decodeJsonObject, describeIssues } from './decode';

const limits = { maxBytes: 1024, maxDepth: 5 };
const b = (s: string) => Buffer.from(s, 'utf8');

describe('decodeJsonObject', () => {
  it('accepts a plain JSON object', () => {
    expect(decodeJsonObject(b('{"a":1,"b":{"c":[1,2]}}'), limits)).toEqual({ ok: true, value: { a: 1, b: { c: [1, 2] } } });
  });

  const rejects: Array<[string, Buffer | null, string]> = [
    ['an empty message', b(''), 'invalid_json'],
    ['a null message (tombstone)', null, 'invalid_json'],
    ['bytes that are not JSON', b('hello'), 'invalid_json'],
    ['JSON that is an array', b('[1,2]'), 'not_an_object'],
    ['JSON that is a string', b('"x"'), 'not_an_object'],
    ['JSON null', b('null'), 'not_an_object'],
    ['a message over the size limit', b(`{"a":"${'x'.repeat(2000)}"}`), 'too_large'],
    ['invalid UTF-8', Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]), 'invalid_utf8'],
    ['nesting deeper than the limit', b('{"a":{"b":{"c":{"d":{"e":{"f":1}}}}}}'), 'too_deep'],
    ['arrays nested deeper than the limit', b('{"a":[[[[[1]]]]]}'), 'too_deep'],
    ['a __proto__ key', b('{"a":{"__proto__":{"polluted":true}}}'), 'forbidden_key'],
    ['a constructor key', b('{"constructor":{"prototype":{}}}'), 'forbidden_key'],
    ['a NUL byte in a string', b('{"a":"x\\u0000y"}'), 'nul_byte'],
    ['a NUL byte in a key', b('{"a\\u0000":"y"}'), 'nul_byte'],
  ];
  it.each(rejects)('rejects %s', (_name, input, kind) => {
    const r = decodeJsonObject(input, limits);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.kind).toBe(kind);
      expect(r.reason.length).toBeGreaterThan(5);
    }
  });

  it('names the path of a forbidden key', () => {
    const r = decodeJsonObject(b('{"details":{"x":{"__proto__":1}}}'), limits);
    expect(!r.ok && r.issues[0]!.path).toBe('details.x.__proto__');
  });

  it('does not pollute Object.prototype however the input is shaped', () => {
    decodeJsonObject(b('{"__proto__":{"polluted":"yes"}}'), limits);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('survives hostile nesting far beyond the limit without a stack overflow', () => {
    const deep = '{"a":'.repeat(20_000) + '1' + '}'.repeat(20_000);
    const r = decodeJsonObject(b(deep), { maxBytes: 1024 * 1024, maxDepth: 32 });
    expect(r.ok).toBe(false);
  });
});

describe('describeIssues', () => {
  it('joins the first issues with their paths and counts the rest', () => {
    const issues = Array.from({ length: 7 }, (_, i) => ({ path: `f${i}`, message: 'bad' }));
    expect(describeIssues(issues, 2)).toBe('f0: bad; f1: bad; and 5 more');
  });
});
