import { formatDuration, parseDuration } from './duration';

describe('parseDuration', () => {
  it.each([
    ['0s', 0],
    ['250ms', 250],
    ['30s', 30_000],
    ['5m', 300_000],
    ['4h', 14_400_000],
    ['1d', 86_400_000],
    ['1h30m', 5_400_000],
    ['1m30s500ms', 90_500],
  ])('%s is %d ms', (text, ms) => expect(parseDuration(text)).toBe(ms));

  it.each(['', '5', 'm', '5 m', '-5m', '5y', '1.5h', 'five minutes'])('refuses %p', (text) => expect(parseDuration(text)).toBeNull());

  it.each([
    [0, '0s'],
    [90_000, '1m30s'],
    [14_400_000, '4h'],
    [250, '250ms'],
  ])('formats %d ms as %s', (ms, text) => expect(formatDuration(ms)).toBe(text));
});
