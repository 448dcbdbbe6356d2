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
const Decoder = require('kafkajs/src/protocol/decoder') as new (b: Buffer) => unknown;
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
