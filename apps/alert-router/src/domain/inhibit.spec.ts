import type { Alert } from '@vigil/contracts';
import { buildInhibitRules, inhibitedBy, isInhibitSource, type InhibitSource } from './inhibit';
import { alertLabels } from './labels';
import { InhibitRuleSpecSchema } from './routes';
import { sampleAlert } from './testing';

// A critical alert for a source IP mutes high and medium alerts for the same IP.
const rules = buildInhibitRules([
  InhibitRuleSpecSchema.parse({
    source_matchers: ['severity="critical"'],
    target_matchers: ['severity=~"high|medium"'],
    equal: ['group.source.ip'],
  }),
]);

function src(over: Partial<Alert>): InhibitSource {
  const a = sampleAlert(over);
  return { dedupKey: a.dedup_key, labels: alertLabels(a) };
}

describe('inhibitedBy', () => {
  const critical = src({ severity: 'critical', dedup_key: 'c1' });
  it.each<[string, InhibitSource, InhibitSource[], boolean]>([
    ['a high alert for the same IP is muted by a firing critical', src({ severity: 'high' }), [critical], true],
    ['a medium alert for the same IP is muted too', src({ severity: 'medium' }), [critical], true],
    ['a low alert is not a target', src({ severity: 'low' }), [critical], false],
    ['a high alert for another IP is not muted', src({ severity: 'high', group: { 'source.ip': '198.51.100.1' } }), [critical], false],
    ['nothing mutes without a source', src({ severity: 'high' }), [], false],
    ['a high alert does not act as a source', src({ severity: 'high' }), [src({ severity: 'high', dedup_key: 'h2' })], false],
  ])('%s', (_what, target, sources, expected) => {
    expect(inhibitedBy(rules, target, sources) !== null).toBe(expected);
  });

  it('an alert that matches both sides does not inhibit itself', () => {
    const both = buildInhibitRules([
      InhibitRuleSpecSchema.parse({ source_matchers: ['tag="ssh"'], target_matchers: ['tag="ssh"'], equal: [] }),
    ]);
    const a = src({ dedup_key: 'same' });
    expect(inhibitedBy(both, a, [a])).toBeNull();
    expect(inhibitedBy(both, a, [src({ dedup_key: 'other' })])).toEqual({ rule: 0, source: 'other' });
  });

  it('equal on a label absent from both sides counts as equal (both empty), as in Alertmanager', () => {
    const r = buildInhibitRules([
      InhibitRuleSpecSchema.parse({
        source_matchers: ['severity="critical"'],
        target_matchers: ['severity="high"'],
        equal: ['group.user'],
      }),
    ]);
    expect(inhibitedBy(r, src({ severity: 'high' }), [critical])).not.toBeNull();
  });
});

describe('equal on group.*', () => {
  const byGroup = buildInhibitRules([
    InhibitRuleSpecSchema.parse({ source_matchers: ['severity="critical"'], target_matchers: ['severity="high"'], equal: ['group.*'] }),
  ]);
  it.each<[string, Record<string, string>, boolean]>([
    ['same group values mute', { 'source.ip': '203.0.113.7' }, true],
    ['another value does not', { 'source.ip': '198.51.100.9' }, false],
    ['an extra group field does not', { 'source.ip': '203.0.113.7', 'actor.user_id': 'bob' }, false],
  ])('%s', (_what, group, expected) => {
    expect(inhibitedBy(byGroup, src({ severity: 'high', group }), [src({ severity: 'critical', dedup_key: 'c' })]) !== null).toBe(expected);
  });
});

describe('isInhibitSource', () => {
  it.each<[Alert['severity'], boolean]>([
    ['critical', true],
    ['high', false],
  ])('%s → %s', (severity, expected) => expect(isInhibitSource(rules, alertLabels(sampleAlert({ severity })))).toBe(expected));
});
