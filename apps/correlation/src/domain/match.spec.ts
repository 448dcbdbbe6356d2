import { compileCondition, readPath, isMissing } from './match';
import { ConditionSchema } from './rule';

const ev = {
  event_type: 'authentication',
  outcome: 'failure',
  source: { ip: '203.0.113.7', port: 443 },
  target: { resource: '/Admin/users' },
  details: { response_code: 403, code_text: '429', nested: { deep: true }, list: ['a', 'b'], nothing: null, big: 'x'.repeat(5000) },
  tags: ['vpn', 'mfa'],
};

function m(cond: Record<string, unknown>): boolean {
  const parsed = ConditionSchema.parse(cond);
  const c = compileCondition(parsed);
  if (!c.ok) throw new Error(c.reason);
  return c.match(ev);
}

describe('conditions, one row per operator and edge', () => {
  const rows: Array<[string, Record<string, unknown>, boolean]> = [
    ['equals on a string', { field: 'outcome', operator: 'equals', value: 'failure' }, true],
    ['equals is case-sensitive by default', { field: 'outcome', operator: 'equals', value: 'FAILURE' }, false],
    ['equals with ignore_case', { field: 'outcome', operator: 'equals', value: 'FAILURE', ignore_case: true }, true],
    ['equals a number with a number', { field: 'details.response_code', operator: 'equals', value: 403 }, true],
    ['equals a number with its numeric string', { field: 'details.response_code', operator: 'equals', value: '403' }, true],
    ['equals a numeric string with a number', { field: 'details.code_text', operator: 'equals', value: 429 }, true],
    ['equals a boolean', { field: 'details.nested.deep', operator: 'equals', value: true }, true],
    [
      'equals does not match a string "true" against boolean true',
      { field: 'details.nested.deep', operator: 'equals', value: 'true' },
      false,
    ],
    ['equals on a missing field', { field: 'actor.user_id', operator: 'equals', value: 'x' }, false],
    ['equals on an object field never matches', { field: 'details.nested', operator: 'equals', value: 'x' }, false],
    ['not_equals on a different value', { field: 'outcome', operator: 'not_equals', value: 'success' }, true],
    ['not_equals on the same value', { field: 'outcome', operator: 'not_equals', value: 'failure' }, false],
    ['not_equals on a missing field does not match', { field: 'actor.user_id', operator: 'not_equals', value: 'x' }, false],
    ['not_equals on a null field does not match', { field: 'details.nothing', operator: 'not_equals', value: 'x' }, false],
    ['contains a substring', { field: 'target.resource', operator: 'contains', value: 'Admin' }, true],
    ['contains is case-sensitive by default', { field: 'target.resource', operator: 'contains', value: 'admin' }, false],
    ['contains with ignore_case', { field: 'target.resource', operator: 'contains', value: 'admin', ignore_case: true }, true],
    ['contains an element of an array', { field: 'tags', operator: 'contains', value: 'mfa' }, true],
    ['contains on an array without it', { field: 'tags', operator: 'contains', value: 'sso' }, false],
    ['contains on a number field never matches', { field: 'details.response_code', operator: 'contains', value: '40' }, false],
    ['regex that matches', { field: 'target.resource', operator: 'regex', value: '^/admin/', ignore_case: true }, true],
    ['regex that does not match', { field: 'target.resource', operator: 'regex', value: '^/admin/' }, false],
    ['regex on a number field never matches', { field: 'details.response_code', operator: 'regex', value: '4' }, false],
    ['regex on a value over the input cap never matches', { field: 'details.big', operator: 'regex', value: 'x' }, false],
    ['greater_than a smaller bound', { field: 'details.response_code', operator: 'greater_than', value: 400 }, true],
    ['greater_than an equal bound', { field: 'details.response_code', operator: 'greater_than', value: 403 }, false],
    ['greater_than on a numeric string', { field: 'details.code_text', operator: 'greater_than', value: 400 }, true],
    ['greater_than on a non-numeric string', { field: 'outcome', operator: 'greater_than', value: 0 }, false],
    ['less_than a larger bound', { field: 'source.port', operator: 'less_than', value: 1024 }, true],
    ['less_than on a missing field', { field: 'source.nope', operator: 'less_than', value: 1024 }, false],
    ['in a list with the value', { field: 'details.response_code', operator: 'in', value: [401, 403, 429] }, true],
    ['in a list with the numeric string', { field: 'details.code_text', operator: 'in', value: [401, 403, 429] }, true],
    ['in a list without the value', { field: 'details.response_code', operator: 'in', value: [500, 502] }, false],
    ['in on an array field never matches', { field: 'tags', operator: 'in', value: ['vpn'] }, false],
    ['not_in a list without the value', { field: 'outcome', operator: 'not_in', value: ['success', 'unknown'] }, true],
    ['not_in a list with the value', { field: 'outcome', operator: 'not_in', value: ['failure'] }, false],
    ['not_in on a missing field does not match', { field: 'actor.type', operator: 'not_in', value: ['user'] }, false],
    ['array index paths', { field: 'details.list.1', operator: 'equals', value: 'b' }, true],
    ['paths cannot reach the prototype', { field: 'source.constructor', operator: 'not_equals', value: 'x' }, false],
    ['paths through a string never throw', { field: 'outcome.length', operator: 'equals', value: 7 }, false],
  ];
  it.each(rows)('%s', (_name, cond, expected) => {
    expect(m(cond)).toBe(expected);
  });
});

describe('readPath', () => {
  it('reads own properties only and reports missing values', () => {
    expect(readPath(ev, 'source.ip')).toBe('203.0.113.7');
    expect(isMissing(readPath(ev, 'source.toString'))).toBe(true);
    expect(isMissing(readPath(ev, 'details.nothing'))).toBe(true);
    expect(isMissing(readPath(null, 'a'))).toBe(true);
  });
});
