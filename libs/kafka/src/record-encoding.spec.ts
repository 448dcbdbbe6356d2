/* eslint-disable @typescript-eslint/no-require-imports */
import fc from 'fast-check';

/**
 * The kafkajs patch (patches/kafkajs@2.2.4.patch) writes each produced record into one buffer of
 * the exact size and computes the batch CRC eight bytes at a time. The original code stays in the
 * patched files (`legacy`, `bytewise`) so that these tests can hold the fast paths to the very
 * same bytes, for any input either one accepts.
 */

interface EncoderLike {
  buffer: Buffer;
  size(): number;
}
type Headers = Record<string, string | Buffer | Array<string | Buffer>>;
interface RecordArgs {
  offsetDelta?: number;
  timestampDelta?: number;
  key?: string | Buffer | null;
  value?: string | Buffer | null;
  headers?: Headers;
}
type RecordFn = ((a: RecordArgs) => EncoderLike) & {
  legacy: (a: RecordArgs) => EncoderLike;
  fast: (a: RecordArgs) => EncoderLike | null;
};
type Crc = ((b: Buffer) => number) & { bytewise: (b: Buffer) => number };

const Record = require('kafkajs/src/protocol/recordBatch/record/v0') as RecordFn;
const crc32C = require('kafkajs/src/protocol/recordBatch/crc32C/crc32C') as Crc;
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0') as {
  RecordBatch: (a: Record<string, unknown>) => Promise<EncoderLike>;
};
const RecordBatchDecoder = require('kafkajs/src/protocol/recordBatch/v0/decoder') as (d: unknown) => Promise<{
  records: Array<{ key: Buffer | null; value: Buffer | null; headers: Record<string, Buffer | Buffer[]>; offset: string }>;
}>;
const Decoder = require('kafkajs/src/protocol/decoder') as new (b: Buffer) => { readVarIntBytes(): Buffer; offset: number };
interface DecodedRecord {
  timestamp: string;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, unknown>;
}
type RecordDecoderFn = ((d: unknown, ctx: Record<string, unknown>) => DecodedRecord) & {
  legacy: (d: unknown, ctx: Record<string, unknown>) => DecodedRecord;
};
const RecordDecoder = require('kafkajs/src/protocol/recordBatch/record/v0/decoder') as RecordDecoderFn;
const Long = require('kafkajs/src/utils/long') as { fromInt(n: number): unknown };

/** Either the bytes or the error message: the fast path must match the original in both. */
function outcome(f: () => EncoderLike): { bytes: string } | { error: string } {
  try {
    return { bytes: f().buffer.toString('hex') };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

const text = fc.string({ unit: 'binary', maxLength: 40 });
const bytes = fc.oneof(
  fc.constant(null),
  fc.constant(undefined),
  text,
  fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
  fc.uint8Array({ minLength: 1_000, maxLength: 20_000 }).map((a) => Buffer.from(a)),
);
const headerValue = fc.oneof(
  text,
  fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)),
);
const headers = fc.dictionary(text, fc.oneof(headerValue, fc.array(headerValue, { maxLength: 3 })), { maxKeys: 4 });
const delta = fc.oneof(fc.integer({ min: -1_000, max: 100_000 }), fc.integer({ min: -(2 ** 31), max: 2 ** 31 }));
const recordArgs = fc.record(
  { offsetDelta: fc.integer({ min: 0, max: 1_000_000 }), timestampDelta: delta, key: bytes, value: bytes, headers },
  { requiredKeys: [] },
);

describe('kafkajs patch: record encoding', () => {
  it('writes exactly the bytes the original encoder writes, for any record', () => {
    fc.assert(
      fc.property(recordArgs, (args) => {
        expect(outcome(() => Record(args as RecordArgs))).toEqual(outcome(() => Record.legacy(args as RecordArgs)));
      }),
      { numRuns: 3_000 },
    );
  });

  it('takes the fast path for what producers send, and leaves the rest to the original', () => {
    const common = { offsetDelta: 7, timestampDelta: 0, key: Buffer.from('203.0.113.7'), value: Buffer.from('{"a":1}') };
    expect(Record.fast({ ...common, headers: { 'vigil-schema': '1', trace: Buffer.from('x') } })).not.toBeNull();
    expect(Record.fast({ ...common, key: 'k', value: 'é€😀' })).not.toBeNull();
    // Beyond ±2^30 the 32-bit zig-zag no longer equals the 64-bit one: the original (Long) code.
    expect(Record.fast({ ...common, timestampDelta: 2 ** 31 })).toBeNull();
    // A null header value makes the original throw; the fast path does not hide that.
    const nullHeader = { ...common, headers: { h: null as unknown as string } };
    expect(Record.fast(nullHeader)).toBeNull();
    expect(() => Record(nullHeader)).toThrow();
  });

  it('survives a round trip through the batch decoder of kafkajs', async () => {
    const sent = Array.from({ length: 50 }, (_, i) => ({
      key: i % 5 === 0 ? null : Buffer.from(`key-${i}`),
      value: Buffer.from(JSON.stringify({ i, text: 'é'.repeat(i) })),
      headers: { 'vigil-schema': '1', multi: [`a${i}`, `b${i}`] },
    }));
    const batch = await RecordBatch({
      records: sent.map((m, i) => Record({ ...m, offsetDelta: i, timestampDelta: i * 3 })),
      firstTimestamp: 1_764_410_400_000,
      maxTimestamp: 1_764_410_400_147,
      lastOffsetDelta: sent.length - 1,
      producerId: Long.fromInt(9),
      firstSequence: 0,
    });
    const decoded = await RecordBatchDecoder(new Decoder(batch.buffer));
    expect(decoded.records).toHaveLength(sent.length);
    decoded.records.forEach((r, i) => {
      expect(r.key).toEqual(sent[i]!.key);
      expect(r.value).toEqual(sent[i]!.value);
      expect(r.headers['vigil-schema']).toEqual(Buffer.from('1'));
      expect(r.headers.multi).toEqual([Buffer.from(`a${i}`), Buffer.from(`b${i}`)]);
      expect(r.offset).toBe(String(i));
    });
    // The CRC field (bytes 17-20) covers everything after it.
    const crc = batch.buffer.readUInt32BE(17);
    expect(crc).toBe(crc32C.bytewise(batch.buffer.subarray(21)));
  });
});

describe('kafkajs patch: CRC32C eight bytes at a time', () => {
  it('gives the standard check value', () => {
    expect(crc32C(Buffer.from('123456789')).toString(16)).toBe('e3069283');
    expect(crc32C(Buffer.alloc(0))).toBe(0);
  });

  it('agrees with the byte-at-a-time loop for any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (a) => {
        const b = Buffer.from(a);
        expect(crc32C(b)).toBe(crc32C.bytewise(b));
      }),
      { numRuns: 2_000 },
    );
  });
});

describe('kafkajs patch: record decoding', () => {
  /** A record as comparable text: own keys in order (so "__proto__" and inherited names count), bytes as hex. */
  const show = (r: DecodedRecord | { error: string }) =>
    JSON.stringify(r, (_k, v: unknown) => {
      if (Buffer.isBuffer(v)) return `hex:${v.toString('hex')}`;
      if (typeof v === 'function') return `function:${v.name}`;
      if (v && typeof v === 'object' && !Array.isArray(v)) {
        const out: Array<[string, unknown]> = [];
        for (const k of Object.keys(v)) if (k !== 'batchContext') out.push([k, (v as Record<string, unknown>)[k]]);
        return out;
      }
      return v;
    });
  const decode = (f: RecordDecoderFn | RecordDecoderFn['legacy'], encoded: Buffer, ctx: Record<string, unknown>) => {
    try {
      return f(new Decoder(new Decoder(encoded).readVarIntBytes()), ctx);
    } catch (err) {
      return { error: (err as Error).message };
    }
  };
  const headerKey = fc.oneof(text, fc.constantFrom('__proto__', 'constructor', 'toString', 'vigil-schema', '0', '10'));
  const decodable = fc.record({
    offsetDelta: fc.integer({ min: 0, max: 1_000_000 }),
    timestampDelta: fc.oneof(delta, fc.integer({ min: -(2 ** 52), max: 2 ** 52 })),
    key: bytes,
    value: bytes,
    headers: fc.array(fc.tuple(headerKey, headerValue), { maxLength: 5 }),
  });
  const context = fc.record({
    firstOffset: fc.oneof(fc.bigInt({ min: 0n, max: 2n ** 40n }), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })).map(String),
    firstTimestamp: fc.oneof(
      fc.constant('1764410400000'),
      fc.constant('-1'),
      fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String),
    ),
    timestampType: fc.constantFrom(0, 1),
    maxTimestamp: fc.constantFrom('1764410400999', '', undefined),
    magicByte: fc.constant(2),
    isControlBatch: fc.boolean(),
  });

  it('gives exactly the record the original decoder gives, for any record and batch', () => {
    fc.assert(
      fc.property(decodable, context, (r, ctx) => {
        // Repeated header names: the wire allows them; the encoder takes them as an array per name.
        const headers: Headers = {};
        const wire: Array<[string, string | Buffer]> = [];
        for (const [k, v] of r.headers) {
          if (k === '__proto__') continue; // an encoder input cannot carry it as a plain key; added below
          wire.push([k, v]);
        }
        for (const [k, v] of wire) {
          const cur = Object.prototype.hasOwnProperty.call(headers, k) ? headers[k] : undefined;
          headers[k] = cur === undefined ? v : ([] as Array<string | Buffer>).concat(cur, v);
        }
        if (r.headers.some(([k]) => k === '__proto__')) Object.defineProperty(headers, '__proto__', { value: 'x', enumerable: true });
        const encoded = Record.legacy({ ...r, headers }).buffer;
        expect(show(decode(RecordDecoder, encoded, ctx))).toBe(show(decode(RecordDecoder.legacy, encoded, ctx)));
      }),
      { numRuns: 3_000 },
    );
  });

  it('decodes a batch of the shape every consumer reads the same way, record for record', async () => {
    const records = Array.from({ length: 200 }, (_, i) =>
      Record({ key: `k${i}`, value: Buffer.from(`v${i}`), headers: { a: '1', b: ['2', '3'] }, offsetDelta: i, timestampDelta: i * 7 }),
    );
    const batch = await RecordBatch({
      records,
      firstOffset: Long.fromInt(123_456_789),
      firstTimestamp: 1_764_410_400_000,
      maxTimestamp: 1_764_410_401_393,
      lastOffsetDelta: 199,
    });
    const decoded = await RecordBatchDecoder(new Decoder(batch.buffer));
    decoded.records.forEach((r, i) => {
      expect(r.offset).toBe(String(123_456_789 + i));
      expect((r as unknown as DecodedRecord).timestamp).toBe(String(1_764_410_400_000 + i * 7));
    });
  });
});
