import type { SecurityEvent } from '@vigil/contracts';
import { compileRuleSet } from '../domain/compile';
import { groupCalls, planEvent, type PlannedUpdate, type TimeSettings } from '../domain/plan';
import type { Rule } from '../domain/rule';
import { event as baseEvent, T0 } from '../domain/testing';
import { MemoryWindowStore } from '../domain/window';
import { DEFAULT_SIGMA_MAPPING, SigmaMappingSchema, mergeMappings, type SigmaMapping } from './mapping';
import { parseSigmaFile } from './parse';
import { translateSigma } from './translate';

const S = 1000;
const TIME: TimeSettings = { latenessMs: 3600 * S, maxFutureMs: 3600 * S };

/** A deployment that forwards Windows security events into Vigil with the Windows fields in details. */
const WINDOWS: SigmaMapping = mergeMappings(
  DEFAULT_SIGMA_MAPPING,
  SigmaMappingSchema.parse({
    fields: {
      EventID: 'details.event_id',
      ComputerName: 'source.hostname',
      WorkstationName: 'details.workstation',
      CommandLine: 'details.command_line',
    },
    keywords: { fields: ['action', 'details.message'] },
    logsources: [{ match: { product: 'windows', service: 'security' } }, { match: { product: 'windows', category: 'process_creation' } }],
  }),
);

function importText(text: string, mapping: SigmaMapping = WINDOWS) {
  return translateSigma(parseSigmaFile('rules.yml', text), mapping);
}

function only(text: string, mapping?: SigmaMapping): Rule {
  const r = importText(text, mapping);
  expect(r.refused).toEqual([]);
  expect(r.accepted).toHaveLength(1);
  return r.accepted[0]!.rule;
}

let n = 0;
function ev(at: number, over: Partial<SecurityEvent> & { details?: Record<string, unknown> } = {}): SecurityEvent {
  return baseEvent(`sigma-${n++}`, { at: T0 + at, ...over });
}

/** Feeds events (in order, one batch each) through the real evaluator; returns the firings. */
function fire(rule: Rule, events: SecurityEvent[]): Array<{ rule: string; n: number; group: Record<string, string> }> {
  const compiled = compileRuleSet([{ file: 'imported.yaml', document: rule }]);
  if (!compiled.ok) throw new Error(JSON.stringify(compiled.errors));
  const store = new MemoryWindowStore();
  const out: Array<{ rule: string; n: number; group: Record<string, string> }> = [];
  for (const e of events) {
    const plan = planEvent(compiled.ruleSet, e, Buffer.from(JSON.stringify(e)), 0, T0, TIME);
    const calls = groupCalls(plan.updates, TIME);
    store
      .apply(
        calls.map((c) => c.call),
        T0,
      )
      .forEach((res, i) =>
        res.fires.forEach((f, j) => {
          const u: PlannedUpdate = calls[i]!.updates[j]!;
          if (f) out.push({ rule: u.rule.id, n: f.n, group: { ...u.group } });
        }),
      );
  }
  return out;
}

const failedLogin = (at: number, user = 'alice') =>
  ev(at, { actor: { type: 'user', user_id: user }, outcome: 'failure', details: { event_id: 4625 } });
const goodLogin = (at: number, user = 'alice') =>
  ev(at, { actor: { type: 'user', user_id: user }, outcome: 'success', details: { event_id: 4624 } });

// The Sigma correlation specification's own example, "Failed Logins Followed by Successful Login".
const SPEC_EXAMPLE = `title: Correlation - Multiple Failed Logins Followed by Successful Login
id: b180ead8-d58f-40b2-ae54-c8940995b9b6
status: experimental
description: Detects multiple failed logins by a single user followed by a successful login of that user
references:
    - https://reference.com
author: Florian Roth (Nextron Systems)
date: 2023-06-16
correlation:
    type: temporal_ordered
    rules:
        - multiple_failed_login
        - successful_login
    group-by:
        - User
    timespan: 10m
falsepositives:
    - Unlikely
level: high
---
title: Multiple failed logons
id: a8418a5a-5fc4-46b5-b23b-6c73beb19d41
description: Detects multiple failed logins within a certain amount of time
name: multiple_failed_login
correlation:
    type: event_count
    rules:
        - failed_login
    group-by:
        - User
    timespan: 10m
    condition:
        gte: 10
---
title: Single failed login
id: 53ba33fd-3a50-4468-a5ef-c583635cfa92
name: failed_login
logsource:
    product: windows
    service: security
detection:
    selection:
        EventID:
            - 529
            - 4625
    condition: selection
---
title: Successful login
id: 4d0a2c83-c62c-4ed4-b475-c7e23a9269b8
description: Detects a successful login
name: successful_login
logsource:
    product: windows
    service: security
detection:
    selection:
        EventID:
            - 528
            - 4624
    condition: selection
`;

describe('the specification example: failed logins followed by a successful login', () => {
  const rule = only(SPEC_EXAMPLE);

  it('becomes one ordered sequence: 10 failures then a success, per user, within 10 minutes', () => {
    expect(rule).toMatchObject({
      id: 'sigma.correlation_multiple_failed_logins_followed_by_successf',
      kind: 'sequence',
      ordered: true,
      window: 600,
      group_by: ['actor.user_id'],
      severity: 'high',
      steps: [
        { name: 'multiple_failed_login', count: 10, conditions: [{ field: 'details.event_id', operator: 'in', value: [529, 4625] }] },
        { name: 'successful_login', count: 1, conditions: [{ field: 'details.event_id', operator: 'in', value: [528, 4624] }] },
      ],
    });
  });

  it('fires for ten failures and then a success of the same user', () => {
    const events = [...Array.from({ length: 10 }, (_, i) => failedLogin(i * 10 * S)), goodLogin(120 * S)];
    expect(fire(rule, events)).toEqual([{ rule: rule.id, n: 11, group: { 'actor.user_id': 'alice' } }]);
  });

  it.each<[string, SecurityEvent[]]>([
    ['nine failures then a success', [...Array.from({ length: 9 }, (_, i) => failedLogin(i * S)), goodLogin(60 * S)]],
    [
      'ten failures of one user then a success of another',
      [...Array.from({ length: 10 }, (_, i) => failedLogin(i * S)), goodLogin(60 * S, 'bob')],
    ],
    ['the success before the failures', [goodLogin(0), ...Array.from({ length: 10 }, (_, i) => failedLogin((i + 1) * S))]],
    [
      'ten failures and a success spread over more than 10 minutes',
      [...Array.from({ length: 10 }, (_, i) => failedLogin(i * 60 * S)), goodLogin(11 * 60 * S)],
    ],
    [
      'failures by alice and bob, five each, then a success',
      [...Array.from({ length: 10 }, (_, i) => failedLogin(i * S, i % 2 ? 'bob' : 'alice')), goodLogin(60 * S)],
    ],
  ])('does not fire for %s', (_n, events) => {
    expect(fire(rule, events)).toEqual([]);
  });

  it('does not emit the referenced rules on their own (generate is false by default)', () => {
    expect(importText(SPEC_EXAMPLE).accepted.map((a) => a.title)).toEqual([
      'Correlation - Multiple Failed Logins Followed by Successful Login',
    ]);
  });

  it('emits the rules it refers to as well with generate: true (rules referred only by others stay out)', () => {
    const text = SPEC_EXAMPLE.replace('    timespan: 10m\nfalsepositives', '    timespan: 10m\n    generate: true\nfalsepositives');
    expect(importText(text).accepted.map((a) => [a.title, a.rule.kind])).toEqual([
      ['Correlation - Multiple Failed Logins Followed by Successful Login', 'sequence'],
      ['Multiple failed logons', 'threshold'],
      ['Successful login', 'threshold'],
    ]);
  });
});

describe('the specification examples for each correlation type', () => {
  const failed = `
---
title: Failed logon
name: failed_logon
id: 5638f7c0-ac70-491d-8465-2a65075e0d86
logsource: { product: windows, service: security }
detection:
    selection:
        EventID: 4625
    condition: selection
`;

  it('event_count: 100 failed logons to one computer within an hour', () => {
    const rule = only(`title: Many failed logins
id: 0e95725d-7320-415d-80f7-004da920fc11
correlation:
    type: event_count
    rules:
        - 5638f7c0-ac70-491d-8465-2a65075e0d86
    group-by:
        - ComputerName
    timespan: 1h
    condition:
        gte: 100
${failed}`);
    expect(rule).toMatchObject({ kind: 'threshold', threshold: 100, window: 3600, group_by: ['source.hostname'] });
    const on = (h: string, i: number) => failedLogin(i * S, `u${i}`);
    const hundred = Array.from({ length: 100 }, (_, i) => ({ ...on('dc1', i), source: { application: 'win', hostname: 'dc1' } }));
    expect(fire(rule, hundred)).toHaveLength(1);
    expect(fire(rule, hundred.slice(0, 99))).toEqual([]);
    const split = hundred.map((e, i) => ({ ...e, source: { application: 'win', hostname: i % 2 ? 'dc1' : 'dc2' } }));
    expect(fire(rule, split)).toEqual([]);
  });

  it('value_count: failed logons for 100 different users per computer and workstation within a day', () => {
    const rule = only(`title: Failed login
id: 0e95725d-7320-415d-80f7-004da920fc12
correlation:
    type: value_count
    rules:
        - 5638f7c0-ac70-491d-8465-2a65075e0d86
    group-by:
        - ComputerName
        - WorkstationName
    timespan: 1d
    condition:
        field: User
        gte: 100
${failed}`);
    expect(rule).toMatchObject({
      kind: 'distinct_count',
      field: 'actor.user_id',
      threshold: 100,
      window: 86_400,
      group_by: ['source.hostname', 'details.workstation'],
    });
    const mk = (user: string, i: number) => ({
      ...failedLogin(i * S, user),
      source: { application: 'win', hostname: 'dc1' },
      details: { event_id: 4625, workstation: 'ws7' },
    });
    expect(
      fire(
        rule,
        Array.from({ length: 100 }, (_, i) => mk(`user${i}`, i)),
      ),
    ).toHaveLength(1);
    expect(
      fire(
        rule,
        Array.from({ length: 150 }, (_, i) => mk(`user${i % 99}`, i)),
      ),
    ).toEqual([]);
  });

  it('temporal: three reconnaissance commands in any order within 5 minutes, same computer and user', () => {
    const recon = (name: string, cmd: string) => `
---
title: Recon ${cmd}
name: ${name}
logsource: { product: windows, category: process_creation }
detection:
    selection:
        CommandLine|contains: ${cmd}
    condition: selection
`;
    const rule = only(`title: Recon burst
correlation:
    type: temporal
    rules:
        - recon_cmd_a
        - recon_cmd_b
        - recon_cmd_c
    group-by:
        - ComputerName
        - User
    timespan: 5m
${recon('recon_cmd_a', 'whoami')}${recon('recon_cmd_b', 'ipconfig')}${recon('recon_cmd_c', 'net user')}`);
    expect(rule).toMatchObject({ kind: 'sequence', ordered: false, window: 300, group_by: ['source.hostname', 'actor.user_id'] });
    const cmd = (at: number, line: string, user = 'alice') => ({
      ...ev(at, { actor: { type: 'user', user_id: user }, details: { command_line: line } }),
      source: { application: 'edr', hostname: 'pc1' },
    });
    expect(fire(rule, [cmd(0, 'C:\\> NET USER /domain'), cmd(10 * S, 'whoami /all'), cmd(20 * S, 'ipconfig /all')])).toHaveLength(1);
    expect(fire(rule, [cmd(0, 'net user'), cmd(10 * S, 'whoami')])).toEqual([]);
    expect(fire(rule, [cmd(0, 'net user'), cmd(10 * S, 'whoami'), cmd(400 * S, 'ipconfig')])).toEqual([]);
    expect(fire(rule, [cmd(0, 'net user'), cmd(10 * S, 'whoami'), cmd(20 * S, 'ipconfig', 'bob')])).toEqual([]);
  });

  it('aliases: different fields per rule are refused (a Vigil rule groups every event by one field), with the line', () => {
    const text = `title: Internal error then connection
correlation:
    type: temporal
    rules:
        - internal_error
        - new_network_connection
    group-by:
        - internal_ip
    timespan: 10s
    aliases:
        internal_ip:
            internal_error: destination.ip
            new_network_connection: source.ip
---
title: Internal error
name: internal_error
logsource: { product: vigil }
detection:
    selection:
        details.status_code: 500
    condition: selection
---
title: New connection
name: new_network_connection
logsource: { product: vigil }
detection:
    selection:
        event.category: network
        event.outcome: success
    condition: selection
`;
    const mapping = mergeMappings(
      DEFAULT_SIGMA_MAPPING,
      SigmaMappingSchema.parse({ fields: { 'destination.ip': 'details.destination_ip' } }),
    );
    const r = importText(text, mapping);
    expect(r.accepted).toEqual([]);
    expect(r.refused).toEqual([
      {
        file: 'rules.yml',
        line: 11,
        title: 'Internal error then connection',
        reason: expect.stringContaining('alias "internal_ip" maps to different Vigil fields'),
      },
    ]);
  });

  it('aliases that resolve to one field are kept', () => {
    const rule = only(`title: Same address
correlation:
    type: temporal_ordered
    rules: [a, b]
    group-by: [addr]
    timespan: 1m
    aliases:
        addr: { a: source.ip, b: SourceIp }
---
title: A
name: a
logsource: { product: vigil, category: network_event }
detection: { s: { action: probe }, condition: s }
---
title: B
name: b
logsource: { product: vigil, category: authentication }
detection: { s: { event.outcome: success }, condition: s }
`);
    expect(rule).toMatchObject({ kind: 'sequence', group_by: ['source.ip'], steps: [{ name: 'a' }, { name: 'b' }] });
    expect(rule.kind === 'sequence' && rule.steps[1]!.conditions).toEqual([
      {
        all: [
          { field: 'event_type', operator: 'equals', value: 'authentication' },
          { field: 'outcome', operator: 'equals', value: 'success' },
        ],
      },
    ]);
  });
});

describe('detection rules: one alert per matching event', () => {
  const detection = (body: string, extra = '') => `title: T
logsource: { product: vigil }
${extra}detection:
${body}`;
  const e = (over: Partial<SecurityEvent> & { details?: Record<string, unknown> } = {}) => ev(0, over);
  const matches = (text: string, event: SecurityEvent) =>
    fire(
      only(text, mergeMappings(DEFAULT_SIGMA_MAPPING, SigmaMappingSchema.parse({ keywords: { fields: ['action', 'details.message'] } }))),
      [event],
    ).length === 1;

  it('is a threshold-1 rule grouped by event id', () => {
    expect(only(detection('  s: { action: login }\n  condition: s'))).toMatchObject({
      kind: 'threshold',
      threshold: 1,
      window: 1,
      suppress_for: 1,
      group_by: ['event_id'],
    });
  });

  it.each<[string, string, Partial<SecurityEvent> & { details?: Record<string, unknown> }, boolean]>([
    ['map fields are AND-ed', '  s: { action: login, outcome: failure }\n  condition: s', { action: 'login', outcome: 'failure' }, true],
    [
      'map fields are AND-ed (one differs)',
      '  s: { action: login, outcome: success }\n  condition: s',
      { action: 'login', outcome: 'failure' },
      false,
    ],
    ['value lists are OR-ed', '  s: { action: [logout, login] }\n  condition: s', { action: 'login' }, true],
    ['plain values ignore case', '  s: { action: LOGIN }\n  condition: s', { action: 'login' }, true],
    ['cased keeps case', '  s: { action|cased: LOGIN }\n  condition: s', { action: 'login' }, false],
    ['a list of maps is OR-ed', '  s:\n    - { action: nope }\n    - { outcome: failure }\n  condition: s', { outcome: 'failure' }, true],
    ['contains', "  s: { target.resource|contains: '/admin/' }\n  condition: s", { target: { resource: '/x/ADMIN/users' } }, true],
    [
      'contains|all needs every value',
      "  s: { target.resource|contains|all: ['/admin', 'users'] }\n  condition: s",
      { target: { resource: '/admin/groups' } },
      false,
    ],
    [
      'contains|all with every value',
      "  s: { target.resource|contains|all: ['/admin', 'users'] }\n  condition: s",
      { target: { resource: '/admin/users' } },
      true,
    ],
    [
      'startswith',
      "  s: { target.resource|startswith: 'C:\\Windows' }\n  condition: s",
      { target: { resource: 'c:\\windows\\cmd.exe' } },
      true,
    ],
    [
      'endswith',
      "  s: { target.resource|endswith: '\\cmd.exe' }\n  condition: s",
      { target: { resource: 'C:\\Windows\\powershell.exe' } },
      false,
    ],
    [
      'wildcards in the middle (\\\\* is a backslash then a wildcard)',
      "  s: { target.resource: 'C:\\\\*\\cmd.exe' }\n  condition: s",
      { target: { resource: 'C:\\Windows\\System32\\cmd.exe' } },
      true,
    ],
    [
      '\\* is a literal star',
      "  s: { target.resource: 'C:\\*\\cmd.exe' }\n  condition: s",
      { target: { resource: 'C:\\Windows\\cmd.exe' } },
      false,
    ],
    ['? is one character', "  s: { action: 'log?n' }\n  condition: s", { action: 'logon' }, true],
    ['an escaped * is literal', "  s: { action: 'a\\*b' }\n  condition: s", { action: 'axb' }, false],
    ['re is case-sensitive', "  s: { action|re: '^Log' }\n  condition: s", { action: 'login' }, false],
    ['re|i is not', "  s: { action|re|i: '^Log' }\n  condition: s", { action: 'login' }, true],
    [
      'cidr',
      "  s: { source.ip|cidr: ['10.0.0.0/8', '203.0.113.0/24'] }\n  condition: s",
      { source: { application: 'w', ip: '203.0.113.9' } },
      true,
    ],
    ['cidr outside', "  s: { source.ip|cidr: '10.0.0.0/8' }\n  condition: s", { source: { application: 'w', ip: '203.0.113.9' } }, false],
    ['numbers compare with numeric strings', '  s: { details.code: 403 }\n  condition: s', { details: { code: '403' } }, true],
    ['gte', '  s: { details.records|gte: 1000 }\n  condition: s', { details: { records: 1000 } }, true],
    ['null is a missing field', '  s: { details.reason: null }\n  condition: s', { details: {} }, true],
    ['exists false', '  s: { details.reason|exists: false }\n  condition: s', { details: { reason: 'x' } }, false],
    ['and not', '  s: { action: login }\n  f: { source.ip|cidr: 203.0.113.0/24 }\n  condition: s and not f', { action: 'login' }, false],
    [
      'or with parentheses',
      '  a: { action: x }\n  b: { outcome: failure }\n  c: { severity: medium }\n  condition: (a or b) and c',
      { outcome: 'failure' },
      true,
    ],
    [
      '1 of with a wildcard',
      '  sel_a: { action: x }\n  sel_b: { action: login }\n  filter: { action: login }\n  condition: 1 of sel_*',
      { action: 'login' },
      true,
    ],
    [
      'all of with a wildcard',
      '  sel_a: { action: login }\n  sel_b: { outcome: success }\n  condition: all of sel_*',
      { action: 'login' },
      false,
    ],
    [
      '1 of them leaves out _ identifiers',
      '  _x: { action: login }\n  y: { action: zzz }\n  condition: 1 of them',
      { action: 'login' },
      false,
    ],
    [
      'keywords search the mapped message fields',
      "  keywords: ['brute', 'spray']\n  condition: keywords",
      { details: { message: 'password SPRAY detected' } },
      true,
    ],
    ['keywords that are absent', "  keywords: ['brute']\n  condition: keywords", { details: { message: 'ok' } }, false],
    [
      "keywords with '|all'",
      "  keywords:\n    '|all': ['password', 'spray']\n  condition: keywords",
      { details: { message: 'password spray' } },
      true,
    ],
    ['a condition list is OR-ed', '  a: { action: x }\n  b: { action: login }\n  condition: [a, b]', { action: 'login' }, true],
    [
      'ECS names and values through the default mapping',
      '  s: { event.category: iam, event.outcome: failure, user.id: alice }\n  condition: s',
      { event_type: 'authorization', outcome: 'denied' },
      true,
    ],
  ])('%s', (_n, body, over, expected) => {
    expect(matches(detection(body), e(over))).toBe(expected);
  });

  it('puts the logsource conditions in front: category authentication selects our event type', () => {
    const rule = only(
      `title: T\nlogsource: { product: vigil, category: authentication }\ndetection:\n  s: { action: login }\n  condition: s\n`,
    );
    expect(fire(rule, [e({ event_type: 'authentication' })])).toHaveLength(1);
    expect(fire(rule, [e({ event_type: 'authorization' })])).toEqual([]);
  });
});

describe('refusals, with the reason and the line', () => {
  const refusal = (text: string, mapping: SigmaMapping = DEFAULT_SIGMA_MAPPING) => {
    const r = translateSigma(parseSigmaFile('r.yml', text), mapping);
    expect(r.accepted).toEqual([]);
    expect(r.refused).toHaveLength(1);
    return r.refused[0]!;
  };
  const base = (det: string) => `title: T\nlogsource: { product: vigil }\ndetection:\n${det}`;

  it.each<[string, string, number, RegExp]>([
    ['an unsupported modifier', base('  s:\n    action: x\n    details.cmd|base64: whoami\n  condition: s\n'), 6, /modifier "base64"/],
    ['an unknown modifier', base('  s:\n    details.cmd|foo: whoami\n  condition: s\n'), 5, /unknown modifier "foo"/],
    ['an unmapped field', base('  s:\n    Image: cmd.exe\n  condition: s\n'), 5, /field "Image" has no mapping/],
    [
      'a value the mapping cannot translate',
      base('  s:\n    event.category: malware\n  condition: s\n'),
      5,
      /value "malware" of "event.category"/,
    ],
    ['an aggregation in the condition', base('  s: { action: x }\n  condition: s | count() > 5\n'), 5, /aggregation/],
    ['a condition naming no identifier', base('  s: { action: x }\n  condition: s and t\n'), 5, /"t"/],
    ['a pattern matching nothing', base('  s: { action: x }\n  condition: 1 of f*\n'), 5, /selects no search identifier/],
    ['2 of', base('  s1: { action: x }\n  s2: { action: y }\n  condition: 2 of s*\n'), 6, /"2 of" is not supported/],
    ['all with one value', base('  s:\n    action|contains|all: x\n  condition: s\n'), 5, /at least two values/],
    [
      'an unknown logsource',
      'title: T\nlogsource:\n  product: linux\ndetection:\n  s: { action: x }\n  condition: s\n',
      2,
      /logsource .*linux.* has no mapping/,
    ],
    ['a regex outside the safe subset', base("  s:\n    action|re: '(a+)+$'\n  condition: s\n"), 3, /does not compile/],
    ['an m regex flag', base("  s:\n    action|re|m: '^x'\n  condition: s\n"), 5, /multi-line/],
    ['a timeframe', base('  s: { action: x }\n  timeframe: 5m\n  condition: s\n'), 5, /timeframe/],
  ])('%s', (_n, text, line, reason) => {
    const r = refusal(text);
    expect(r.line).toBe(line);
    expect(r.reason).toMatch(reason);
  });

  it('refuses keywords when the mapping names no keyword fields', () => {
    const r = refusal(base("  k: ['x']\n  condition: k\n"), { ...DEFAULT_SIGMA_MAPPING, keywords: { fields: [] } });
    expect(r).toMatchObject({ line: 4, reason: expect.stringMatching(/keywords.fields/) });
  });

  const corr = (c: string) => `title: C
correlation:
    type: event_count
    rules: [r]
    group-by: [User]
    timespan: 5m
${c}---
title: R
name: r
logsource: { product: vigil }
detection: { s: { action: x }, condition: s }
`;

  it.each<[string, string, RegExp]>([
    ['lt', '    condition: { lt: 5 }\n', /only gte or gt/],
    ['a range', '    condition: { gt: 100, lte: 200 }\n', /ranges/],
    ['eq', '    condition: { eq: 3 }\n', /only gte or gt/],
  ])('an event_count condition with %s cannot be kept exactly', (_n, c, reason) => {
    const r = refusal(corr(c));
    expect(r.line).toBe(7);
    expect(r.reason).toMatch(reason);
  });

  it('keeps gt exactly by firing at one more', () => {
    const r = translateSigma(parseSigmaFile('r.yml', corr('    condition: { gt: 4 }\n')), DEFAULT_SIGMA_MAPPING);
    expect(r.accepted[0]!.rule).toMatchObject({ kind: 'threshold', threshold: 5 });
  });

  it('refuses a chained count whose window is shorter than the sequence window', () => {
    const text = SPEC_EXAMPLE.replace('    timespan: 10m\n    condition:', '    timespan: 5m\n    condition:');
    const r = translateSigma(parseSigmaFile('r.yml', text), WINDOWS);
    expect(r.refused).toEqual([
      expect.objectContaining({ line: 12, reason: expect.stringMatching(/counts within 300s, less than .* 600s/) }),
    ]);
  });

  it('refuses a chained count grouped by other fields', () => {
    const text = SPEC_EXAMPLE.replace(
      '    group-by:\n        - User\n    timespan: 10m\n    condition:',
      '    group-by:\n        - ComputerName\n    timespan: 10m\n    condition:',
    );
    const r = translateSigma(parseSigmaFile('r.yml', text), WINDOWS);
    expect(r.refused[0]!.reason).toMatch(/groups by ComputerName, not by the same fields/);
  });

  it('reports a YAML error with its line and keeps reading the other documents', () => {
    const r = translateSigma(
      parseSigmaFile(
        'r.yml',
        `title: ok\nlogsource: { product: vigil }\ndetection: { s: { action: x }, condition: s }\n---\ntitle: bad\ndetection: [unclosed\n`,
      ),
      DEFAULT_SIGMA_MAPPING,
    );
    expect(r.accepted).toHaveLength(1);
    expect(r.refused).toEqual([expect.objectContaining({ reason: expect.stringMatching(/^YAML/) })]);
    expect(r.refused[0]!.line).toBeGreaterThanOrEqual(5);
  });
});
