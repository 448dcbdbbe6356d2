import { canonicalUtcTimestamp, parseZonedTimestamp } from './primitives';

describe('parseZonedTimestamp', () => {
  const cases: Array<[string, string | null]> = [
    ['2026-11-29T10:00:00Z', '2026-11-29T10:00:00.000Z'],
    ['2026-11-29T10:00:00.123Z', '2026-11-29T10:00:00.123Z'],
    // Python's isoformat() with microseconds, then + "Z"
    ['2026-11-29T10:00:00.123456Z', '2026-11-29T10:00:00.123Z'],
    // Go's RFC3339Nano
    ['2026-11-29T10:00:00.123456789Z', '2026-11-29T10:00:00.123Z'],
    ['2026-11-29T12:30:00+02:30', '2026-11-29T10:00:00.000Z'],
    ['2026-11-29T05:00:00-0500', '2026-11-29T10:00:00.000Z'],
    // isoformat() of an aware datetime + "Z": the producer bug the classic shape carries
    ['2026-11-29T10:00:00.5+00:00Z', '2026-11-29T10:00:00.500Z'],
    ['2026-11-29 10:00:00Z', '2026-11-29T10:00:00.000Z'],
    ['2026-11-29T10:00Z', '2026-11-29T10:00:00.000Z'],
    // no zone: ambiguous, refused
    ['2026-11-29T10:00:00', null],
    ['2026-11-29T10:00:00.123456', null],
    ['2026-02-30T10:00:00Z', null],
    ['2026-13-01T10:00:00Z', null],
    ['2026-11-29T24:00:00Z', null],
    ['yesterday', null],
    ['', null],
    ['2026-11-29T10:00:00+25:00', null],
    [`2026-11-29T10:00:00.${'1'.repeat(50)}Z`, null],
  ];
  it.each(cases)('reads %s as %s', (input, expected) => {
    const ms = parseZonedTimestamp(input);
    expect(ms === null ? null : new Date(ms).toISOString()).toBe(expected);
  });
});

describe('canonicalUtcTimestamp', () => {
  it.each([
    ['2026-11-29T10:00:00Z', '2026-11-29T10:00:00.000Z'],
    ['2026-11-29T10:00:00.123456Z', '2026-11-29T10:00:00.123Z'],
    ['2026-11-29T10:00:00.5Z', '2026-11-29T10:00:00.500Z'],
    ['2026-11-29t10:00z', '2026-11-29T10:00:00.000Z'],
    ['2024-02-29T00:00:00Z', '2024-02-29T00:00:00.000Z'],
    ['2026-02-29T00:00:00Z', null],
    ['1900-02-29T00:00:00Z', null],
    ['2000-02-29T00:00:00Z', '2000-02-29T00:00:00.000Z'],
    ['2026-04-31T00:00:00Z', null],
    ['2026-11-29T10:00:60Z', null],
    ['2026-11-29T12:00:00.25+02:00', '2026-11-29T10:00:00.250Z'],
    ['2026-11-29T10:00:00', null],
  ])('writes %s as %s', (input, expected) => {
    expect(canonicalUtcTimestamp(input)).toBe(expected);
  });

  it('agrees with the Date-based parser on every UTC instant of a sample year', () => {
    for (let t = Date.UTC(2024, 0, 1); t < Date.UTC(2025, 0, 1); t += 3_600_000 * 7 + 12_345) {
      const iso = new Date(t).toISOString();
      expect(canonicalUtcTimestamp(iso)).toBe(iso);
      expect(parseZonedTimestamp(iso)).toBe(t);
    }
  });
});
