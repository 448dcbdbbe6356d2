import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Metrics, silentLogger } from '@vigil/runtime';
import { RouterMetrics } from '../metrics';
import { alertLabels } from '../domain/labels';
import { matchRoutes } from '../domain/routes';
import { sampleAlert } from '../domain/testing';
import { DEFAULT_ROUTES_FILE } from '../config';
import { RoutesFileError, loadRoutesFile, parseRoutesText } from './config-file';
import { RoutingHolder } from './holder';

const ENV: Record<string, string> = {
  ROUTER_WEBHOOK_URL: 'https://hooks.example.test/vigil',
  ROUTER_WEBHOOK_SECRET: 'w'.repeat(40),
  SLACK_WEBHOOK_URL: 'https://hooks.slack.test/services/T/B/secret-part',
  PAGERDUTY_ROUTING_KEY: 'k'.repeat(32),
};
const read = (name: string) => ENV[name];

const MINIMAL = `
route:
  receiver: hook
receivers:
  - name: hook
    webhook:
      url: https://hooks.example.test/x
      secret: \${ROUTER_WEBHOOK_SECRET}
`;

function problems(text: string, env: Record<string, string> = ENV): string {
  try {
    parseRoutesText('/etc/vigil/routes.yaml', text, (n) => env[n]);
  } catch (err) {
    if (err instanceof RoutesFileError) return err.message;
    throw err;
  }
  throw new Error('expected the file to be refused');
}

describe('the shipped default routes file', () => {
  it('loads and routes critical/high to PagerDuty and Slack, medium to Slack, everything to the webhook', () => {
    const cfg = loadRoutesFile(DEFAULT_ROUTES_FILE, read);
    const to = (severity: 'critical' | 'high' | 'medium' | 'low') =>
      matchRoutes(cfg.route, alertLabels(sampleAlert({ severity })))
        .flatMap((r) => r.receivers)
        .sort();
    expect(to('critical')).toEqual(['pagerduty', 'slack', 'webhook']);
    expect(to('high')).toEqual(['pagerduty', 'slack', 'webhook']);
    expect(to('medium')).toEqual(['slack', 'webhook']);
    expect(to('low')).toEqual(['webhook']);
    expect(cfg.resolveTimeoutMs).toBe(300_000);
    expect(cfg.inhibitRules).toHaveLength(1);
  });
});

describe('routes file validation names the file and the path', () => {
  it.each<[string, string, Record<string, string> | undefined, string]>([
    ['a YAML syntax error, with line and column', 'route:\n  receiver: [unclosed\n', undefined, 'routes.yaml: line'],
    ['an unknown top-level key', `${MINIMAL}\nroutez: []\n`, undefined, 'routes.yaml: Unrecognized key: "routez"'],
    [
      'an unknown key in a route',
      MINIMAL.replace('receiver: hook', 'receiver: hook\n  groupby: [rule]'),
      undefined,
      'routes.yaml: route: Unrecognized key: "groupby"',
    ],
    [
      'a bad duration',
      MINIMAL.replace('receiver: hook', 'receiver: hook\n  group_wait: soon'),
      undefined,
      'route.group_wait: must be a duration',
    ],
    [
      'a bad matcher deep in the tree',
      MINIMAL.replace('receiver: hook', 'receiver: hook\n  routes:\n    - matchers: [\'severity=~"(a+)+"\']'),
      undefined,
      'route.routes[0].matchers[0]: nested quantifiers',
    ],
    [
      'an undefined receiver',
      MINIMAL.replace('receiver: hook', 'receiver: nobody'),
      undefined,
      'route.receiver: receiver "nobody" is not defined',
    ],
    [
      'a literal secret',
      MINIMAL.replace('${ROUTER_WEBHOOK_SECRET}', 'plain-text-secret'),
      undefined,
      'receivers[0].webhook.secret: must be a ${ENV_VAR} reference',
    ],
    [
      'an unset secret variable',
      MINIMAL,
      {},
      'receivers[0].webhook.secret: environment variable ROUTER_WEBHOOK_SECRET (or ROUTER_WEBHOOK_SECRET_FILE) is not set',
    ],
    [
      'a receiver with two channels',
      MINIMAL.replace('    webhook:', '    slack:\n      webhook_url: ${SLACK_WEBHOOK_URL}\n    webhook:'),
      undefined,
      'receivers[0]: a receiver needs exactly one of',
    ],
    [
      'a short PagerDuty routing key',
      `route:\n  receiver: pd\nreceivers:\n  - name: pd\n    pagerduty:\n      routing_key: \${SHORT}\n`,
      { SHORT: 'abc' },
      'receivers[0].pagerduty.routing_key: SHORT must hold a 32-character routing key',
    ],
    [
      'a Slack webhook URL written literally',
      `route:\n  receiver: s\nreceivers:\n  - name: s\n    slack:\n      webhook_url: https://hooks.slack.test/x\n`,
      undefined,
      'receivers[0].slack.webhook_url: must be a ${ENV_VAR} reference',
    ],
    [
      'a bad SMS number',
      `route:\n  receiver: s\nreceivers:\n  - name: s\n    sms:\n      account_sid: AC${'0'.repeat(32)}\n      auth_token: \${T}\n      from: '+14155550100'\n      to: ['555-1234']\n`,
      { T: 't' },
      'receivers[0].sms.to[0]: must be an E.164 number',
    ],
    ['duplicate keys', `${MINIMAL}\nroute:\n  receiver: hook\n`, undefined, 'routes.yaml: line'],
  ])('refuses %s', (_what, text, env, expected) => {
    expect(problems(text, env)).toContain(expected);
  });

  it('never prints a secret value in its messages', () => {
    const msg = problems(MINIMAL.replace('url: https://hooks.example.test/x', 'url: ${SLACK_WEBHOOK_URL}x'), ENV);
    expect(msg).not.toContain('secret-part');
  });

  it('resolves ${NAME} secrets from NAME_FILE too', () => {
    const dir = mkdtempSync(join(tmpdir(), 'routes-'));
    const file = join(dir, 'routes.yaml');
    writeFileSync(file, MINIMAL);
    const cfg = loadRoutesFile(file, (n) => (n === 'ROUTER_WEBHOOK_SECRET' ? 'f'.repeat(32) : undefined));
    expect(cfg.receivers.get('hook')?.kind).toBe('webhook');
  });
});

describe('RoutingHolder.reload (SIGHUP)', () => {
  it('applies a good file and keeps the old config when the new one is bad, counting each by outcome', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'routes-'));
    const file = join(dir, 'routes.yaml');
    writeFileSync(file, MINIMAL);
    const { reloads } = new RouterMetrics(new Metrics('alert-router', { defaultMetrics: false }));
    const holder = new RoutingHolder(file, read, silentLogger(), reloads);
    const v1 = holder.current.config.version;

    writeFileSync(file, MINIMAL.replace('receiver: hook', 'receiver: hook\n  group_wait: 1s'));
    expect(holder.reload()).toBe(true);
    expect(holder.current.config.route.groupWaitMs).toBe(1_000);
    const v2 = holder.current.config.version;
    expect(v2).not.toBe(v1);

    writeFileSync(file, 'route: [this is not a route');
    expect(holder.reload()).toBe(false);
    expect(holder.current.config.version).toBe(v2);
    expect(holder.current.channels.get('hook')?.kind).toBe('webhook');
    expect((await reloads.get()).values.map((v) => [v.labels.outcome, v.value])).toEqual([
      ['applied', 1],
      ['rejected', 1],
    ]);
  });
});
