import { fitCount, fitsAlone, flushDecision, requestBytes, type BatchLimits, type FlushInput } from './batching';

const JSON_ARRAY: BatchLimits = { maxEvents: 3, maxBytes: 100, frameBytes: 2, separatorBytes: 1 };
const CONCAT: BatchLimits = { maxEvents: 1000, maxBytes: 50, frameBytes: 0, separatorBytes: 0 };

describe('request size arithmetic', () => {
  it.each([
    ['no records', [], JSON_ARRAY, 0],
    ['one record in a JSON array: brackets around it', [10], JSON_ARRAY, 12],
    ['three records in a JSON array: brackets and two commas', [10, 10, 10], JSON_ARRAY, 34],
    ['concatenated records: just their sizes', [10, 20], CONCAT, 30],
  ])('%s', (_name, sizes, limits, expected) => {
    expect(requestBytes(sizes, limits)).toBe(expected);
  });

  it.each([
    ['takes everything when it fits', [10, 10], JSON_ARRAY, 2],
    ['stops at the event limit', [1, 1, 1, 1, 1], JSON_ARRAY, 3],
    ['stops before the byte limit', [40, 40, 40], JSON_ARRAY, 2],
    ['counts the frame and separators: 2 + 49 + 1 + 48 = 100 fits exactly', [49, 48, 1], JSON_ARRAY, 2],
    ['one byte more does not fit', [49, 49], JSON_ARRAY, 1],
    ['always takes a first record that fits alone', [98], JSON_ARRAY, 1],
    ['nothing from nothing', [], JSON_ARRAY, 0],
    ['concatenated bodies fill to the byte', [25, 25, 1], CONCAT, 2],
  ])('fitCount %s', (_name, sizes, limits, expected) => {
    expect(fitCount(sizes, limits)).toBe(expected);
  });

  it.each([
    [98, true],
    [99, false],
  ])('a %d-byte record fits alone in a 100-byte JSON array: %s', (size, expected) => {
    expect(fitsAlone(size, JSON_ARRAY)).toBe(expected);
  });
});

describe('when a batch is flushed', () => {
  const base: FlushInput = { count: 1, bytes: 12, oldestAtMs: 1_000, nowMs: 1_000, lingerMs: 500, backlog: false, limits: JSON_ARRAY };

  it.each<[string, Partial<FlushInput>, ReturnType<typeof flushDecision>]>([
    ['nothing pending: nothing to do, ever', { count: 0, bytes: 0 }, { flush: false, waitMs: Number.POSITIVE_INFINITY }],
    ['a lone event waits the whole flush interval', {}, { flush: false, waitMs: 500 }],
    ['part of the interval gone: waits the rest', { nowMs: 1_300 }, { flush: false, waitMs: 200 }],
    ['the interval is up: the timer flushes it', { nowMs: 1_500 }, { flush: true, reason: 'timer' }],
    ['long past the interval: still flushes', { nowMs: 9_000 }, { flush: true, reason: 'timer' }],
    ['full by count: goes at once', { count: 3, bytes: 34 }, { flush: true, reason: 'count' }],
    ['full by bytes: goes at once', { count: 2, bytes: 100 }, { flush: true, reason: 'bytes' }],
    ['a backlog waits behind it: no point lingering', { backlog: true }, { flush: true, reason: 'backlog' }],
    ['count beats backlog as the reason', { count: 5, backlog: true }, { flush: true, reason: 'count' }],
  ])('%s', (_name, input, expected) => {
    expect(flushDecision({ ...base, ...input })).toEqual(expected);
  });
});
