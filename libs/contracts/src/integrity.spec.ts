import { canonicalJson, computeEventMac, verifyEventMac } from './integrity';

const key = Buffer.alloc(32, 7);

describe('canonicalJson', () => {
  it('sorts keys at every level and omits undefined', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: 'x' }, u: undefined })).toBe(
      '{"a":{"c":"x","d":[3,{"y":2,"z":1}]},"b":1}',
    );
  });
  it('keeps nulls, escapes strings as JSON does', () => {
    expect(canonicalJson({ a: null, s: 'é"\n' })).toBe('{"a":null,"s":"é\\"\\n"}');
  });
  it('refuses non-finite numbers', () => {
    expect(() => canonicalJson({ a: Infinity })).toThrow();
  });
});

describe('event MAC', () => {
  const event = { event_id: 'e1', severity: 'high', details: { n: 1 } };

  it('verifies a MAC computed over the same content in another key order', () => {
    const mac = computeEventMac(event, key);
    expect(verifyEventMac({ details: { n: 1 }, severity: 'high', event_id: 'e1' }, key, mac)).toBe(true);
  });

  it('ignores the integrity block and the classic hash when computing', () => {
    const mac = computeEventMac(event, key);
    expect(verifyEventMac({ ...event, integrity: { mac }, hash: 'abc' }, key, mac)).toBe(true);
  });

  it.each([
    ['a changed value', { ...event, severity: 'low' }],
    ['an added field', { ...event, extra: 1 }],
    ['a removed field', { event_id: 'e1', severity: 'high' }],
    ['a nested change', { ...event, details: { n: 2 } }],
  ])('fails on %s', (_name, tampered) => {
    expect(verifyEventMac(tampered, key, computeEventMac(event, key))).toBe(false);
  });

  it('fails with another key and on a truncated MAC', () => {
    const mac = computeEventMac(event, key);
    expect(verifyEventMac(event, Buffer.alloc(32, 8), mac)).toBe(false);
    expect(verifyEventMac(event, key, mac.slice(0, 16))).toBe(false);
  });
});
