import { Redis } from 'ioredis';
import { testRedisUrl } from '@vigil/testing';
import { packFlatArray } from '../src/redis/msgpack';

/**
 * packFlatArray is read by Redis's own cmsgpack (the window script's ARGV[1]): each case is
 * unpacked there and every element described back as type and exact text.
 */
const DESCRIBE = `
local t = cmsgpack.unpack(ARGV[1])
local out = { tostring(#t) }
for i = 1, #t do
  local v = t[i]
  if type(v) == 'number' then
    if v == math.floor(v) then out[#out + 1] = 'n:' .. string.format('%.0f', v)
    else out[#out + 1] = 'n:' .. string.format('%.17g', v) end
  else out[#out + 1] = type(v) .. ':' .. v end
end
return out
`;

function expected(items: ReadonlyArray<string | number>): string[] {
  return [
    String(items.length),
    ...items.map((v) =>
      typeof v === 'string' ? `string:${v}` : Number.isInteger(v) ? `n:${v}` : `n:${v.toPrecision(17).replace(/0+$/, '')}`,
    ),
  ];
}

describe('packFlatArray, read by Redis cmsgpack', () => {
  let redis: Redis;
  beforeAll(() => {
    redis = new Redis(testRedisUrl(), { lazyConnect: false });
  });
  afterAll(() => redis.disconnect());

  const unpack = async (items: ReadonlyArray<string | number | Uint8Array>) =>
    (await redis.eval(DESCRIBE, 0, packFlatArray(items))) as string[];

  it.each([
    [
      'every string header size',
      ['', 'a', 'x'.repeat(31), 'x'.repeat(32), 'x'.repeat(255), 'x'.repeat(256), 'x'.repeat(65_535), 'x'.repeat(65_536)],
    ],
    ['multi-byte UTF-8 (lengths in bytes, not characters)', ['é'.repeat(16), 'ü'.repeat(200), '\u{1F600}'.repeat(10), 'a\tb:c']],
    [
      'every integer size',
      [0, 1, 127, 128, 255, 256, 65_535, 65_536, 4_294_967_295, 4_294_967_296, 1_764_410_000_123, Number.MAX_SAFE_INTEGER],
    ],
    ['negative and fractional numbers', [-1, -1_764_410_000_123, 0.5, -2.25]],
    ['strings and numbers mixed, as the window script gets them', ['t', 300_000, '1', '5,1', 'evt-1', 1_764_410_000_123, '3', '0:evt-1']],
  ])('%s', async (_name, items) => {
    expect(await unpack(items)).toEqual(expected(items));
  });

  it.each([15, 16, 65_535, 65_536])('arrays of %d elements', async (n) => {
    const items = Array.from({ length: n }, (_, i) => (i % 2 ? i : `s${i}`));
    const out = await unpack(items);
    expect(out[0]).toBe(String(n));
    expect(out[n]).toBe(expected(items)[n]);
    expect(out).toEqual(expected(items));
  });

  it('bytes arrive as the same string, at every header size, from slices of a larger buffer too', async () => {
    const texts = ['', 'x'.repeat(31), 'x'.repeat(32), 'é'.repeat(200), 'y'.repeat(65_536), '{"a":"\u00e9\t"}'];
    // Slices at an offset inside one shared buffer, as consumed Kafka values are.
    const shared = Buffer.from(`#${texts.join('#')}#`, 'utf8');
    const slices: Uint8Array[] = [];
    let at = 1;
    for (const t of texts) {
      const len = Buffer.byteLength(t);
      slices.push(shared.subarray(at, at + len));
      at += len + 1;
    }
    const items = ['before', ...slices, 7, new Uint8Array(Buffer.from('plain Uint8Array')), 'after'];
    expect(await unpack(items)).toEqual(expected(['before', ...texts, 7, 'plain Uint8Array', 'after']));
  });
});
