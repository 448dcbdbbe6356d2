import { compileRuleSet, formatRuleError } from './compile';

const { threshold: _t, ...noThreshold } = {
  id: 'brute',
  name: 'Brute force',
  severity: 'high',
  kind: 'threshold',
  threshold: 5,
  window: 300,
};

const good = {
  id: 'brute',
  name: 'Brute force',
  severity: 'high',
  kind: 'threshold',
  conditions: [{ field: 'outcome', operator: 'equals', value: 'failure' }],
  threshold: 5,
  window: 300,
};

function errorsOf(...documents: unknown[]): string[] {
  const r = compileRuleSet(documents.map((document, i) => ({ file: `f${i}.yaml`, document })));
  return r.ok ? [] : r.errors.map(formatRuleError);
}

describe('compileRuleSet', () => {
  it('fills the documented defaults', () => {
    const r = compileRuleSet([{ file: 'a.yaml', document: good }]);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const c = r.ruleSet.rules[0]!;
    expect(c.groupBy).toEqual(['source.ip', 'actor.user_id']);
    expect(c.suppressMs).toBe(300_000);
    expect(c.windowMs).toBe(300_000);
    expect(c.rule.enabled).toBe(true);
    expect(c.rule.description).toBe('');
  });

  it('accepts a file holding a list of rules, and leaves disabled ones out of evaluation', () => {
    const r = compileRuleSet([{ file: 'a.yaml', document: { rules: [good, { ...good, id: 'off', enabled: false }] } }]);
    expect(r.ok && r.ruleSet.rules.map((x) => x.id)).toEqual(['brute']);
    expect(r.ok && r.ruleSet.ids).toEqual(['brute', 'off']);
  });

  const bad: Array<[string, unknown, RegExp]> = [
    ['an unknown kind', { ...good, kind: 'fuzzy' }, /f0\.yaml: rule "brute": kind: /],
    ['a missing threshold', { ...good, threshold: undefined }, /rule "brute": threshold: /],
    ['a negative window', { ...good, window: -1 }, /rule "brute": window: /],
    [
      'an unknown operator',
      { ...good, conditions: [{ field: 'a', operator: 'like', value: 'x' }] },
      /rule "brute": conditions\[0\]\.operator: /,
    ],
    [
      'a list value for equals',
      { ...good, conditions: [{ field: 'a', operator: 'equals', value: [1] }] },
      /rule "brute": conditions\[0\]\.value: /,
    ],
    [
      'a string bound for greater_than',
      { ...good, conditions: [{ field: 'a', operator: 'greater_than', value: 'x' }] },
      /conditions\[0\]\.value/,
    ],
    [
      'an unsafe regex',
      { ...good, conditions: [{ field: 'a', operator: 'regex', value: '(a+)+$' }] },
      /rule "brute": conditions\[0\]\.value: .*nested quantifier/,
    ],
    [
      'an unsafe regex in a sequence step',
      {
        ...noThreshold,
        kind: 'sequence',
        steps: [
          { name: 's1', conditions: [{ field: 'a', operator: 'equals', value: 1 }] },
          { name: 's2', conditions: [{ field: 'a', operator: 'regex', value: '(a|aa)*' }] },
        ],
      },
      /rule "brute": steps\[1\]\.conditions\[0\]\.value: .*alternation/,
    ],
    ['a bad field path', { ...good, group_by: ['source..ip'] }, /group_by\[0\]: must be a dotted field path/],
    ['an unknown field (a typo)', { ...good, treshold: 5 }, /rule "brute": .*treshold/],
    ['a bad id', { ...good, id: 'Brute Force!' }, /rule "Brute Force!": id: /],
    [
      'a sequence with one step',
      { ...noThreshold, kind: 'sequence', steps: [{ name: 'a', conditions: [{ field: 'a', operator: 'equals', value: 1 }] }] },
      /steps/,
    ],
    ['a distinct_count without a field', { ...good, kind: 'distinct_count' }, /rule "brute": field: /],
    ['a bad action name', { ...good, action: 'Block IP' }, /action: must be a snake_case/],
    ['a file that is a list', [good], /f0\.yaml: rule \(file\): must hold a rule object/],
    ['an empty rules list', { rules: [] }, /rules: must be a non-empty list/],
  ];
  it.each(bad)('names file, rule and field for %s', (_name, doc, expected) => {
    const errs = errorsOf(doc);
    expect(errs.length).toBeGreaterThan(0);
    expect(errs.join('\n')).toMatch(expected);
  });

  it('names a rule without an id by its position in the file', () => {
    expect(errorsOf({ rules: [good, { ...good, id: undefined }] }).join('\n')).toMatch(/rule #2: id: /);
  });

  it('refuses a rule id defined in two files', () => {
    expect(errorsOf(good, good).join('\n')).toMatch(/f1\.yaml: rule "brute": id: duplicate rule id, already defined in f0\.yaml/);
  });

  it('reports every problem at once, not only the first', () => {
    expect(errorsOf({ ...good, window: 0, severity: 'urgent' })).toHaveLength(2);
  });

  it('keeps the state fingerprint when only descriptive fields change, and changes it when the window changes', () => {
    const fp = (doc: unknown) => {
      const r = compileRuleSet([{ file: 'a', document: doc }]);
      return r.ok ? r.ruleSet.rules[0]!.fingerprint : 'invalid';
    };
    expect(fp({ ...good, name: 'Renamed', severity: 'low', tags: ['x'] })).toBe(fp(good));
    expect(fp({ ...good, window: 301 })).not.toBe(fp(good));
    expect(fp({ ...good, conditions: [] })).not.toBe(fp(good));
  });
});
