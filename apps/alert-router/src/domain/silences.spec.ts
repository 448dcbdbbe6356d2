import { alertLabels } from './labels';
import { SilenceInputSchema, activeSilences, expireSilence, newSilence, silenceState, silencedBy, type Silence } from './silences';
import { sampleAlert } from './testing';

const NOW = Date.parse('2026-11-29T12:00:00.000Z');
const H = 3_600_000;
const ids = { id: '11111111-1111-4111-8111-111111111111', tokenName: 'ops' };

function silence(matchers: string[], startsOffsetH: number, endsOffsetH: number): Silence {
  const input = SilenceInputSchema.parse({
    matchers,
    starts_at: new Date(NOW + startsOffsetH * H).toISOString(),
    ends_at: new Date(NOW + endsOffsetH * H).toISOString(),
    created_by: 'alice',
    comment: 'maintenance',
  });
  const r = newSilence(input, ids, startsOffsetH < 0 ? NOW + startsOffsetH * H : NOW);
  if (!r.ok) throw new Error(r.message);
  return r.silence;
}

describe('silences', () => {
  const labels = alertLabels(sampleAlert());
  it.each<[string, string[], number, number, boolean]>([
    ['an active silence with a matching matcher mutes', ['rule="ssh_brute_force"'], -1, 1, true],
    ['every matcher must hold', ['rule="ssh_brute_force"', 'severity="critical"'], -1, 1, false],
    ['a regex matcher on a group value mutes', ['group.source.ip=~"203\\\\.0\\\\.113\\\\.[0-9]+"'], -1, 1, true],
    ['a pending silence does not mute yet', ['rule="ssh_brute_force"'], 1, 2, false],
  ])('%s', (_what, matchers, starts, ends, muted) => {
    const s = silence(matchers, starts, ends);
    expect(silencedBy(labels, activeSilences([s], NOW)).length > 0).toBe(muted);
  });

  it('an expired silence no longer mutes and reads as expired', () => {
    const s = expireSilence(silence(['rule="ssh_brute_force"'], -1, 1), 'ops', NOW);
    expect(silenceState(s, NOW)).toBe('expired');
    expect(activeSilences([s], NOW)).toEqual([]);
    expect(s.expired_by).toBe('ops');
  });

  it('expiring a pending silence ends it without it ever starting', () => {
    const s = expireSilence(silence(['rule="x"'], 1, 2), 'ops', NOW);
    expect(s.starts_at).toBe(s.ends_at);
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['ends before it starts', { starts_at: '2026-11-29T13:00:00Z', ends_at: '2026-11-29T12:30:00Z' }, 'after starts_at'],
    ['ends in the past', { starts_at: '2026-11-29T10:00:00Z', ends_at: '2026-11-29T11:00:00Z' }, 'in the future'],
    ['lasts over 90 days', { ends_at: '2027-06-01T00:00:00Z' }, '90 days'],
  ])('refuses a silence that %s', (_what, times, message) => {
    const input = SilenceInputSchema.parse({ matchers: ['rule="x"'], created_by: 'a', comment: 'c', ...times });
    const r = newSilence(input, ids, NOW);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.message).toContain(message);
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['no matchers', { matchers: [], ends_at: '2026-11-30T00:00:00Z', created_by: 'a', comment: 'c' }, 'matchers'],
    ['a bad matcher', { matchers: ['rule'], ends_at: '2026-11-30T00:00:00Z', created_by: 'a', comment: 'c' }, 'matchers'],
    ['no author', { matchers: ['rule="x"'], ends_at: '2026-11-30T00:00:00Z', comment: 'c' }, 'created_by'],
    ['a zoneless time', { matchers: ['rule="x"'], ends_at: '2026-11-30T00:00:00', created_by: 'a', comment: 'c' }, 'ends_at'],
    ['an unknown field', { matchers: ['rule="x"'], ends_at: '2026-11-30T00:00:00Z', created_by: 'a', comment: 'c', x: 1 }, ''],
  ])('the input schema refuses %s', (_what, input, path) => {
    const r = SilenceInputSchema.safeParse(input);
    expect(r.success).toBe(false);
    expect(r.error!.issues[0]!.path.join('.')).toContain(path);
  });
});
