import { compileRuleSet, formatRuleError } from './compile';
import { compileCondition } from './match';
import { ConditionSchema } from './rule';
import { event, rule } from './testing';

const ev = {
  outcome: 'failure',
  action: 'Login',
  source: { ip: '203.0.113.7' },
  actor: { ip: '2001:db8::5' },
  target: { resource: 'C:\\Windows\\System32\\cmd.exe' },
  details: { code: 403, code_text: '429', nothing: null, empty: '' },
};

function m(cond: Record<string, unknown>): boolean {
  const c = compileCondition(ConditionSchema.parse(cond));
  if (!c.ok) throw new Error(c.reason);
  return c.match(ev);
}

describe('operators added for Sigma rules', () => {
  it.each<[string, Record<string, unknown>, boolean]>([
    ['starts_with', { field: 'target.resource', operator: 'starts_with', value: 'C:\\Windows' }, true],
    ['starts_with is case-sensitive by default', { field: 'target.resource', operator: 'starts_with', value: 'c:\\windows' }, false],
    ['starts_with with ignore_case', { field: 'target.resource', operator: 'starts_with', value: 'c:\\windows', ignore_case: true }, true],
    ['starts_with a later part', { field: 'target.resource', operator: 'starts_with', value: 'System32' }, false],
    ['ends_with', { field: 'target.resource', operator: 'ends_with', value: '\\cmd.exe' }, true],
    ['ends_with with ignore_case', { field: 'target.resource', operator: 'ends_with', value: '\\CMD.EXE', ignore_case: true }, true],
    ['ends_with on a number never matches', { field: 'details.code', operator: 'ends_with', value: '3' }, false],
    ['greater_or_equal an equal bound', { field: 'details.code', operator: 'greater_or_equal', value: 403 }, true],
    ['greater_or_equal a larger bound', { field: 'details.code', operator: 'greater_or_equal', value: 404 }, false],
    ['less_or_equal an equal bound on a numeric string', { field: 'details.code_text', operator: 'less_or_equal', value: 429 }, true],
    ['less_or_equal a smaller bound', { field: 'details.code', operator: 'less_or_equal', value: 402 }, false],
    ['cidr v4 inside', { field: 'source.ip', operator: 'cidr', value: '203.0.113.0/24' }, true],
    ['cidr v4 outside', { field: 'source.ip', operator: 'cidr', value: '198.51.100.0/24' }, false],
    ['cidr v6 inside', { field: 'actor.ip', operator: 'cidr', value: '2001:db8::/32' }, true],
    ['cidr v6 network against a v4 address', { field: 'source.ip', operator: 'cidr', value: '::/0' }, false],
    ['cidr on a non-address', { field: 'outcome', operator: 'cidr', value: '0.0.0.0/0' }, false],
    ['exists true on a present field', { field: 'details.empty', operator: 'exists', value: true }, true],
    ['exists true on a null field', { field: 'details.nothing', operator: 'exists', value: true }, false],
    ['exists false on a missing field', { field: 'details.nope', operator: 'exists', value: false }, true],
    ['exists false on a present field', { field: 'outcome', operator: 'exists', value: false }, false],
  ])('%s', (_n, cond, expected) => {
    expect(m(cond)).toBe(expected);
  });

  it.each(['10.0.0.0', '10.0.0.0/33', 'x/8', '::1/129', '10.0.0.0/-1'])('refuses the network %j at load', (value) => {
    const c = compileCondition(ConditionSchema.parse({ field: 'source.ip', operator: 'cidr', value }));
    expect(c.ok).toBe(false);
  });
});

describe('condition groups', () => {
  const base = { id: 'g', name: 'g', severity: 'low', kind: 'threshold', threshold: 1, window: 60, group_by: ['event_id'] };

  it.each<[string, unknown[], boolean]>([
    [
      'any: one branch matches',
      [
        {
          any: [
            { field: 'outcome', operator: 'equals', value: 'success' },
            { field: 'action', operator: 'equals', value: 'login' },
          ],
        },
      ],
      true,
    ],
    [
      'any: no branch matches',
      [
        {
          any: [
            { field: 'outcome', operator: 'equals', value: 'success' },
            { field: 'action', operator: 'equals', value: 'logout' },
          ],
        },
      ],
      false,
    ],
    [
      'all: every branch matches',
      [
        {
          all: [
            { field: 'outcome', operator: 'equals', value: 'failure' },
            { field: 'action', operator: 'equals', value: 'login' },
          ],
        },
      ],
      true,
    ],
    [
      'all: one branch fails',
      [
        {
          all: [
            { field: 'outcome', operator: 'equals', value: 'failure' },
            { field: 'action', operator: 'equals', value: 'x' },
          ],
        },
      ],
      false,
    ],
    ['not inverts', [{ not: { field: 'outcome', operator: 'equals', value: 'success' } }], true],
    ['not of a missing field matches', [{ not: { field: 'details.nope', operator: 'equals', value: 'x' } }], true],
    [
      'nested: failure and not (from 203.0.113.0/24 or as bob)',
      [
        { field: 'outcome', operator: 'equals', value: 'failure' },
        {
          not: {
            any: [
              { field: 'source.ip', operator: 'cidr', value: '203.0.113.0/24' },
              { field: 'actor.user_id', operator: 'equals', value: 'bob' },
            ],
          },
        },
      ],
      false,
    ],
  ])('%s', (_n, conditions, expected) => {
    expect(rule({ ...base, conditions }).matches(event(1))).toBe(expected);
  });

  it('names the exact field of a bad condition inside a group', () => {
    const r = compileRuleSet([
      {
        file: 'r.yaml',
        document: {
          ...base,
          conditions: [
            {
              any: [
                { field: 'outcome', operator: 'equals', value: 'x' },
                { field: 'source.ip', operator: 'cidr', value: 'nope' },
              ],
            },
          ],
        },
      },
    ]);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.map(formatRuleError)).toEqual([expect.stringContaining('conditions[0].any[1].value')]);
  });

  it('refuses an unknown key next to a group and an empty group', () => {
    for (const conditions of [[{ any: [], extra: 1 }], [{ all: [] }], [{ not: { field: 'x', operator: 'nope', value: 1 } }]]) {
      expect(compileRuleSet([{ file: 'r.yaml', document: { ...base, conditions } }]).ok).toBe(false);
    }
  });

  it('refuses groups nested deeper than the limit', () => {
    let c: unknown = { field: 'outcome', operator: 'equals', value: 'failure' };
    for (let i = 0; i < 10; i++) c = { not: c };
    const r = compileRuleSet([{ file: 'r.yaml', document: { ...base, conditions: [c] } }]);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors[0]!.message).toMatch(/deeper than 8/);
  });

  it('leaves rules without groups exactly as before (same fingerprint inputs)', () => {
    const plain = rule({ ...base, conditions: [{ field: 'outcome', operator: 'equals', value: 'failure' }] });
    expect(plain.matches(event(1))).toBe(true);
    expect(plain.matches(event(2, { outcome: 'success' }))).toBe(false);
  });
});
