import { alertLabels } from './labels';
import { matcherHolds, parseMatcher, unsafeRegexReason } from './matchers';
import { sampleAlert } from './testing';

const labels = alertLabels(sampleAlert());

describe('parseMatcher', () => {
  it.each([
    ['severity="high"', 'severity', '=', 'high'],
    ['severity=high', 'severity', '=', 'high'],
    ['  rule != "x y" ', 'rule', '!=', 'x y'],
    ['group.source.ip=~"203\\\\.0\\\\..*"', 'group.source.ip', '=~', '203\\.0\\..*'],
    ['tag!~"ssh|rdp"', 'tag', '!~', 'ssh|rdp'],
    ['comment="say \\"hi\\""', 'comment', '=', 'say "hi"'],
    ['empty=""', 'empty', '=', ''],
  ])('reads %s', (text, name, op, value) => {
    const r = parseMatcher(text);
    expect(r.ok && { name: r.value.name, op: r.value.op, value: r.value.value }).toEqual({ name, op, value });
  });

  it.each([
    ['severity', 'is not a matcher'],
    ['=high', 'is not a matcher'],
    ['1abc="x"', 'is not a matcher'],
    ['rule="open', 'unterminated'],
    ['rule=two words', 'may not contain spaces'],
    ['rule=~"("', 'invalid regex'],
    ['rule=~"(a+)+"', 'nested quantifiers'],
    ['rule=~"(a|aa)*"', 'nested quantifiers'],
    ['rule=~"(x)\\\\1"', 'back-references'],
    [`rule=~"${'a'.repeat(300)}"`, 'longer than 256'],
  ])('refuses %s', (text, why) => {
    const r = parseMatcher(text);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error).toContain(why);
  });
});

describe('matcherHolds', () => {
  it.each([
    ['severity="high"', true],
    ['severity="critical"', false],
    ['severity!="critical"', true],
    ['severity=~"critical|high"', true],
    ['severity=~"hig"', false], // anchored: a regex must match the whole value
    ['severity!~"critical|high"', false],
    ['rule="ssh_brute_force"', true],
    ['group.source.ip="203.0.113.7"', true],
    ['group.source.ip=~"203\\\\.0\\\\.113\\\\..*"', true],
    ['group.user.id=""', true], // an absent label reads as ""
    ['group.user.id!=""', false],
    ['tag="ssh"', true],
    ['tag="rdp"', false],
    ['tag!="ssh"', false], // != holds only when no tag equals the value
    ['tag!="rdp"', true],
    ['tag=~"brute-.*"', true],
    ['tag!~"brute-.*"', false],
    ['kind="threshold"', true],
  ])('%s on the sample alert → %s', (text, expected) => {
    const m = parseMatcher(text);
    if (!m.ok) throw new Error(m.error);
    expect(matcherHolds(m.value, labels)).toBe(expected);
  });

  it('treats an alert without tags as one empty tag', () => {
    const none = alertLabels(sampleAlert({ tags: [] }));
    const eq = parseMatcher('tag=""');
    const ne = parseMatcher('tag!="ssh"');
    expect(eq.ok && matcherHolds(eq.value, none)).toBe(true);
    expect(ne.ok && matcherHolds(ne.value, none)).toBe(true);
  });
});

describe('unsafeRegexReason', () => {
  it.each([
    ['critical|high', null],
    ['ssh_.*', null],
    ['(ab)+', null],
    ['[a+]+', null], // quantifier characters inside a class are literals
    ['(?:a|b)?c', null],
    ['(a*)*', 'nested quantifiers'],
    ['((ab)+c)+', 'nested quantifiers'],
  ])('%s → %s', (pattern, reason) => {
    const r = unsafeRegexReason(pattern);
    if (reason === null) expect(r).toBeNull();
    else expect(r).toContain(reason);
  });
});
