import type { ItemResult, RawItem } from '../domain/batch';
import { packItems, packResults, unpackItems, unpackResults } from './wire';

describe('worker wire format', () => {
  it('carries items (values sliced from one larger buffer, tombstones, two topics) across unchanged', () => {
    const fetched = Buffer.from('xx{"a":1}{"b":"é"}yy');
    const items: RawItem[] = [
      { topic: 'raw', partition: 3, offset: '10', value: fetched.subarray(2, 9) },
      { topic: 'raw', partition: 3, offset: '11', value: null },
      { topic: 'other', partition: 0, offset: '9007199254740993', value: fetched.subarray(9, 19) },
      { topic: 'raw', partition: 3, offset: '12', value: Buffer.alloc(0) },
    ];
    const { message, transfer } = packItems(items);
    // only the values travel, not the buffer they were sliced from
    expect(message.bytes.byteLength).toBe(7 + 10);
    expect(transfer).toEqual([message.bytes]);
    const back = unpackItems(structuredClone(message, { transfer }));
    expect(back.map((i) => ({ ...i, value: i.value === null ? null : Buffer.from(i.value).toString() }))).toEqual(
      items.map((i) => ({ ...i, value: i.value === null ? null : i.value.toString() })),
    );
  });

  it('carries results back: UTF-8 values, keys, refusals with their issues, flags', () => {
    const results: ItemResult[] = [
      { ok: true, key: '10.0.0.1', value: '{"x":"ascii"}' },
      { ok: false, kind: 'invalid_json', reason: 'message is not JSON', issues: [{ path: '', message: 'message is not JSON' }] },
      { ok: true, key: '2001:db8::1', value: JSON.stringify({ name: 'Zoë 東京 🚀' }), flags: ['future_timestamp'] },
      // longer than everything before it: the block has to grow
      { ok: true, key: 'k', value: 'ü'.repeat(5000) },
    ];
    const { message, transfer } = packResults(results);
    const back = unpackResults(structuredClone(message, { transfer }));
    expect(back.map((r) => (r.ok ? { ...r, value: r.value.toString('utf8') } : r))).toEqual(results);
  });

  it('handles a batch with nothing accepted', () => {
    const results: ItemResult[] = [{ ok: false, kind: 'too_large', reason: 'big', issues: [] }];
    const { message, transfer } = packResults(results);
    expect(unpackResults(structuredClone(message, { transfer }))).toEqual(results);
  });
});
