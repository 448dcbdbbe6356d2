import { encodingOf, fitSegments, segmentCount } from './segments';

describe('SMS segments', () => {
  it.each<[string, string, 'GSM-7' | 'UCS-2', number]>([
    ['empty', '', 'GSM-7', 1],
    ['160 GSM characters', 'a'.repeat(160), 'GSM-7', 1],
    ['161 GSM characters', 'a'.repeat(161), 'GSM-7', 2],
    ['306 GSM characters (2 × 153)', 'a'.repeat(306), 'GSM-7', 2],
    ['307 GSM characters', 'a'.repeat(307), 'GSM-7', 3],
    ['80 extension characters cost 160 septets', '€'.repeat(80), 'GSM-7', 1],
    ['81 extension characters', '€'.repeat(81), 'GSM-7', 2],
    ['GSM accents stay GSM-7', 'Ça été àÖ', 'GSM-7', 1],
    ['70 UCS-2 characters', 'ж'.repeat(70), 'UCS-2', 1],
    ['71 UCS-2 characters', 'ж'.repeat(71), 'UCS-2', 2],
    ['134 UCS-2 characters (2 × 67)', 'ж'.repeat(134), 'UCS-2', 2],
    ['an emoji forces UCS-2 and takes two units', `${'a'.repeat(69)}🚨`, 'UCS-2', 2],
    ['a curly quote is not GSM-7', '’', 'UCS-2', 1],
  ])('%s', (_what, text, enc, segments) => {
    expect(encodingOf(text)).toBe(enc);
    expect(segmentCount(text)).toBe(segments);
  });

  it('never splits an escape pair across segments', () => {
    // 152 plain + "€" (2 septets) does not fit the 153 of segment one: "€" moves to segment two.
    expect(segmentCount(`${'a'.repeat(152)}€${'a'.repeat(152)}`)).toBe(3);
    expect(segmentCount(`${'a'.repeat(151)}€${'a'.repeat(153)}`)).toBe(2);
  });

  it.each<[string, string, 1 | 2, number]>([
    ['GSM text cut to one segment ends with "..."', 'word '.repeat(100), 1, 1],
    ['GSM text cut to two segments', 'word '.repeat(100), 2, 2],
    ['UCS-2 text cut to two segments ends with "…"', 'слово '.repeat(60), 2, 2],
  ])('fitSegments: %s', (_what, text, max, segments) => {
    const out = fitSegments(text, max);
    expect(segmentCount(out)).toBe(segments);
    expect(encodingOf(out)).toBe(encodingOf(text));
    expect(out.endsWith(encodingOf(text) === 'GSM-7' ? '...' : '…')).toBe(true);
    expect(out.length).toBeGreaterThan(max === 1 ? 50 : 120);
  });

  it('leaves text that fits alone', () => expect(fitSegments('short', 1)).toBe('short'));
});
