import type { Severity } from '@vigil/contracts';
import { alertLabels } from './labels';
import { RouteSpecSchema, buildRouteTree, groupLabels, matchRoutes, type Route, type RouteSpec } from './routes';
import { sampleAlert } from './testing';

const RECEIVERS = new Set(['pagerduty', 'slack', 'webhook', 'email', 'sms']);

function tree(spec: RouteSpec): Route {
  const parsed = RouteSpecSchema.parse(spec);
  const r = buildRouteTree(parsed, RECEIVERS);
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.route;
}

// The shipped default: critical and high to PagerDuty and Slack, medium to Slack, everything to the webhook.
const simple = tree({
  receiver: 'webhook',
  group_by: ['rule', 'group.*'],
  group_wait: '30s',
  routes: [
    { name: 'webhook-all', receiver: 'webhook', continue: true },
    { name: 'page', matchers: ['severity=~"critical|high"'], receivers: ['pagerduty', 'slack'], group_wait: '10s' },
    { name: 'chat', matchers: ['severity="medium"'], receiver: 'slack' },
  ],
});

function routed(route: Route, severity: Severity, extra: Parameters<typeof sampleAlert>[0] = {}): string[] {
  return matchRoutes(route, alertLabels(sampleAlert({ severity, ...extra }))).flatMap((r) => r.receivers.map((x) => `${r.id}:${x}`));
}

describe('matchRoutes on the simple default', () => {
  it.each<[Severity, string[]]>([
    ['critical', ['webhook-all:webhook', 'page:pagerduty', 'page:slack']],
    ['high', ['webhook-all:webhook', 'page:pagerduty', 'page:slack']],
    ['medium', ['webhook-all:webhook', 'chat:slack']],
    ['low', ['webhook-all:webhook']],
    ['info', ['webhook-all:webhook']],
  ])('%s goes to %j', (severity, expected) => expect(routed(simple, severity)).toEqual(expected));
});

describe('matchRoutes semantics (Alertmanager)', () => {
  const t = tree({
    receiver: 'webhook',
    routes: [
      {
        matchers: ['rule=~"ssh_.*"'],
        receiver: 'slack',
        routes: [
          { matchers: ['severity="critical"'], receiver: 'pagerduty' },
          { matchers: ['tag="ssh"'], receiver: 'email' },
        ],
      },
      { matchers: ['severity="high"'], receiver: 'sms' },
    ],
  });

  it.each<[string, Severity, string, string[]]>([
    ['the first matching child wins, depth first', 'critical', 'ssh_brute_force', ['root.0.0:pagerduty']],
    ['a later child matches when earlier ones do not', 'high', 'ssh_brute_force', ['root.0.1:email']],
    ['no further siblings after a match without continue', 'high', 'ssh_brute_force', ['root.0.1:email']],
    ['a sibling subtree takes what the first one does not match', 'high', 'port_scan', ['root.1:sms']],
    ['the root takes what no child matches', 'low', 'port_scan', ['root:webhook']],
  ])('%s', (_what, severity, ruleId, expected) => {
    expect(routed(t, severity, { ruleId, tags: ruleId.startsWith('ssh') ? ['ssh'] : [] })).toEqual(expected);
  });

  it('a matching parent whose children do not match takes the alert itself', () => {
    expect(routed(t, 'low', { ruleId: 'ssh_x', tags: [] })).toEqual(['root.0:slack']);
  });

  it('inherits receiver, group_by and timers from the parent', () => {
    const t2 = tree({
      receiver: 'webhook',
      group_by: ['rule'],
      group_wait: '1s',
      group_interval: '2m',
      repeat_interval: '3h',
      routes: [{ matchers: ['severity="high"'], routes: [{ matchers: ['rule="r"'], group_wait: '5s' }] }],
    });
    const leaf = t2.routes[0]!.routes[0]!;
    expect(leaf).toMatchObject({ receivers: ['webhook'], groupWaitMs: 5_000, groupIntervalMs: 120_000, repeatIntervalMs: 10_800_000 });
    expect(leaf.groupBy).toEqual({ kind: 'labels', labels: ['rule'], groupValues: false });
  });

  it('uses Alertmanager defaults when nothing is set', () => {
    expect(tree({ receiver: 'webhook' })).toMatchObject({ groupWaitMs: 30_000, groupIntervalMs: 300_000, repeatIntervalMs: 14_400_000 });
  });
});

describe('buildRouteTree refuses configs a schema cannot catch', () => {
  it.each<[string, RouteSpec, string]>([
    ['unknown receiver', { receiver: 'nobody' }, 'route.receiver: receiver "nobody" is not defined'],
    [
      'unknown receiver in a child list',
      { receiver: 'webhook', routes: [{ receivers: ['slack', 'ghost'] }] },
      'route.routes[0].receivers[1]',
    ],
    ['no receiver on the root', { routes: [{ receiver: 'slack' }] }, 'route.receiver: the root route needs a receiver'],
    ['matchers on the root', { receiver: 'webhook', matchers: ['severity="high"'] }, 'route.matchers'],
    ['duplicate names', { receiver: 'webhook', routes: [{ name: 'a' }, { name: 'a' }] }, 'route.routes[1].name'],
    ['receiver and receivers', { receiver: 'webhook', receivers: ['slack'] }, 'set receiver or receivers, not both'],
  ])('%s', (_what, spec, message) => {
    const r = buildRouteTree(RouteSpecSchema.parse(spec), RECEIVERS);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.problems.map((p) => `${p.path}: ${p.message}`).join('\n')).toContain(message);
  });

  it.each<[string, unknown, string]>([
    ['a bad duration', { receiver: 'webhook', group_wait: '5 minutes' }, 'group_wait'],
    ['a bad matcher', { receiver: 'webhook', routes: [{ matchers: ['severity'] }] }, 'routes.0.matchers.0'],
    ['an unknown key', { receiver: 'webhook', groupby: ['rule'] }, 'groupby'],
  ])('the schema refuses %s with its path', (_what, spec, path) => {
    const r = RouteSpecSchema.safeParse(spec);
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error?.issues)).toContain(path.split('.').pop());
    if (path.includes('.')) expect(r.error?.issues[0]?.path.join('.')).toBe(path);
  });
});

describe('groupLabels', () => {
  const labels = alertLabels(sampleAlert({ group: { 'source.ip': '1.2.3.4', 'actor.user_id': 'bob' } }));
  it.each<[string[], Record<string, string>]>([
    [['rule'], { rule: 'ssh_brute_force' }],
    [['rule', 'group.*'], { 'group.actor.user_id': 'bob', 'group.source.ip': '1.2.3.4', rule: 'ssh_brute_force' }],
    [['group.source.ip', 'missing'], { 'group.source.ip': '1.2.3.4', missing: '' }],
    [['tag'], { tag: 'brute-force,ssh' }],
    [[], {}],
  ])('group_by %j → %j', (groupBy, expected) => {
    expect(groupLabels(tree({ receiver: 'webhook', group_by: groupBy }), labels)).toEqual(expected);
  });

  it('"..." groups by every label, so each dedup key is its own group', () => {
    const g = groupLabels(tree({ receiver: 'webhook', group_by: ['...'] }), labels);
    expect(g).toMatchObject({ dedup_key: 'ssh_brute_force|source.ip=203.0.113.7', severity: 'high' });
  });
});
