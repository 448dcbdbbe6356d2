import { z } from 'zod';
import { decodeJsonObject, decodeVersioned, describeIssues } from './decode';

const limits = { maxBytes: 1024, maxDepth: 5 };
const b = (s: string) => Buffer.from(s, 'utf8');

describe('decodeJsonObject', () => {
  it('accepts a plain JSON object', () => {
    expect(decodeJsonObject(b('{"a":1,"b":{"c":[1,2]}}'), limits)).toEqual({ ok: true, value: { a: 1, b: { c: [1, 2] } } });
  });

  it('accepts nesting of exactly the limit, and brackets inside strings beyond it', () => {
    expect(decodeJsonObject(b('{"a":{"b":{"c":{"d":{"e":1}}}}}'), limits).ok).toBe(true);
    expect(decodeJsonObject(b('{"a":[[[["x"]]]]}'), limits).ok).toBe(true);
    expect(decodeJsonObject(b('{"a":"{{{{{{[[[[[[","b":{"c":1}}'), limits)).toEqual({
      ok: true,
      value: { a: '{{{{{{[[[[[[', b: { c: 1 } },
    });
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

describe('decodeVersioned', () => {
  const Schema = z.object({ schema_version: z.literal(3), name: z.string() });
  const read = (v: unknown) => decodeVersioned(Buffer.from(JSON.stringify(v)), Schema, 3, 'the test reader');

  it('returns the parsed value of the version it knows', () => {
    expect(read({ schema_version: 3, name: 'a' })).toEqual({ ok: true, value: { schema_version: 3, name: 'a' } });
  });

  it('refuses another or a missing version as unsupported, naming the reader, before the schema runs', () => {
    for (const v of [{ schema_version: 4, name: 'a' }, { name: 'a' }, { schema_version: '3', name: 'a' }]) {
      const r = read(v);
      expect(r.ok).toBe(false);
      if (r.ok) continue;
      expect(r.kind).toBe('unsupported_schema_version');
      expect(r.reason).toMatch(/is not supported \(the test reader reads version 3\)/);
      expect(r.issues).toEqual([{ path: 'schema_version', message: r.reason }]);
    }
  });

  it('classifies undecodable bytes and schema failures', () => {
    const junk = decodeVersioned(Buffer.from('{nope'), Schema, 3, 'r');
    expect(!junk.ok && junk.kind).toBe('invalid_json');
    const bad = read({ schema_version: 3, name: 7 });
    expect(!bad.ok && bad.kind).toBe('schema_violation');
    expect(!bad.ok && bad.issues[0]!.path).toBe('name');
  });
});
