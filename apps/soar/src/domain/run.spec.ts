import type { Alert, ResponseAction } from '@vigil/contracts';
import { PlaybookSchema, escalatedDuration, matchPlaybooks, type ConnectorName, type Playbook } from './playbook';
import {
  decide,
  durationFor,
  expire,
  mergeUndo,
  nextMove,
  planRun,
  recordOutcome,
  refuse,
  requestApproval,
  undoFailure,
  undoFor,
  undoMove,
  type Run,
} from './run';
import { parseNetworks, type TargetPolicy } from './targets';

const T0 = Date.UTC(2026, 10, 29, 10, 0, 0);
const MIN = 60_000;

function alert(over: Partial<Alert> = {}): Alert {
  return {
    schema_version: 1,
    alert_id: '0b7f6c1e-1111-4a4a-8a8a-000000000001',
    dedup_key: 'auth.brute_force|203.0.113.7',
    rule: { id: 'auth.brute_force', name: 'Brute force', description: '', kind: 'threshold' },
    severity: 'high',
    group: { 'source.ip': '203.0.113.7', 'actor.user_id': 'alice', host: 'web-01' },
    event_count: 12,
    first_event_at: '2026-11-29T09:59:00.000Z',
    last_event_at: '2026-11-29T10:00:00.000Z',
    sample_events: [],
    action: 'block_ip',
    tags: ['auth'],
    created_at: '2026-11-29T10:00:00.000Z',
    ...over,
  };
}

function playbook(doc: unknown): Playbook {
  return PlaybookSchema.parse(doc);
}

const allow = parseNetworks(['10.0.0.0/8']);
if (!allow.ok) throw new Error('bad allowlist');
const policy: TargetPolicy = {
  ip: { neverBlock: allow.value, minPrefixV4: 16, minPrefixV6: 48 },
  neverDisable: new Set(['root']),
  neverIsolate: new Set(),
};
const connectors: Record<ResponseAction, ConnectorName> = {
  block_ip: 'firewall',
  unblock_ip: 'firewall',
  disable_user: 'scim',
  enable_user: 'scim',
  isolate_host: 'edr',
  release_host: 'edr',
  notify: 'alert_router',
};
const retry = { maxAttempts: 3, baseDelayMs: 1_000, maxDelayMs: 10_000 };

const BLOCK_THEN_DISABLE = playbook({
  id: 'contain',
  trigger: { rule_id: 'auth.brute_force' },
  steps: [
    { action: 'block_ip', target: '{{ group["source.ip"] }}', duration: '1h', escalation: ['6h', '1d'] },
    { action: 'disable_user', target: '{{ group["actor.user_id"] }}', requires_approval: true, approval_ttl: '30m' },
    { action: 'notify', message: 'contained {{ group["source.ip"] }}' },
  ],
});

function plan(pb: Playbook = BLOCK_THEN_DISABLE, a: Alert = alert(), dryRun = false): Run {
  return planRun({
    runId: 'run-1',
    playbook: pb,
    alert: a,
    now: T0,
    dryRun,
    defaultApprovalTtlMs: 4 * 60 * MIN,
    defaultConnectors: connectors,
    policy,
  });
}

describe('planRun', () => {
  it('renders and validates every step before anything runs', () => {
    const run = plan();
    expect(run.steps.map((s) => [s.action, s.target ?? s.message, s.connector, s.refusal])).toEqual([
      ['block_ip', '203.0.113.7', 'firewall', undefined],
      ['disable_user', 'alice', 'scim', undefined],
      ['notify', 'contained 203.0.113.7', 'alert_router', undefined],
    ]);
    expect(run.steps[0]!.reversible).toBe(true);
    expect(run.steps[1]!.reversible).toBe(false);
    expect(run.steps[1]!.approval_ttl_ms).toBe(30 * MIN);
  });

  it.each([
    [{ 'source.ip': '10.0.0.5' }, 'never-block allowlist'],
    [{ 'source.ip': '1.2.3.4; nft flush ruleset' }, 'is not an IP address'],
    [{ 'source.ip': 'x'.repeat(5000) }, 'longer than any IP'],
    [{}, 'is not in the alert'],
  ])('refuses a block whose target is %j', (group, reason) => {
    const run = plan(BLOCK_THEN_DISABLE, alert({ group: group as Record<string, string> }));
    expect(run.steps[0]!.refusal).toContain(reason);
    const move = nextMove(run, T0);
    expect(move.kind).toBe('refuse');
  });

  it('refuses a target of the wrong type with the type in the reason', () => {
    const pb = playbook({ id: 'p', trigger: { tags: ['auth'] }, steps: [{ action: 'block_ip', target: '{{ event_count }}' }] });
    expect(plan(pb).steps[0]!.refusal).toBe('target {{ event_count }}: must be a string, got number');
  });

  it('takes dry-run from the service or the playbook', () => {
    expect(plan(BLOCK_THEN_DISABLE, alert(), true).dry_run).toBe(true);
    expect(plan(playbook({ ...structuredCloneDoc(), dry_run: true })).dry_run).toBe(true);
  });
});

function structuredCloneDoc() {
  return { id: 'x', trigger: { rule_id: 'auth.brute_force' }, steps: [{ action: 'notify', message: 'hi' }] };
}

describe('playbook stepping', () => {
  type Step = (run: Run) => Run;
  const ok: Step = (r) => recordOutcome(r, { kind: 'succeeded', result: 'ok' }, T0 + 1, retry);
  const pause: Step = (r) => requestApproval(r, T0 + 2);
  const approveBy =
    (role: 'analyst' | 'admin', at = T0 + 5 * MIN): Step =>
    (r) => {
      const d = decide(r, r.cursor, { approve: true, by: 'carol', role }, at);
      if (!d.ok) throw new Error(d.message);
      return d.run;
    };
  const reject: Step = (r) => {
    const d = decide(r, r.cursor, { approve: false, by: 'carol', role: 'analyst', reason: 'false positive' }, T0 + 5 * MIN);
    if (!d.ok) throw new Error(d.message);
    return d.run;
  };

  it.each<[string, Step[], string, string[], string]>([
    ['pending → approved → resumed', [ok, pause, approveBy('admin'), ok, ok], 'succeeded', ['succeeded', 'succeeded', 'succeeded'], 'none'],
    ['paused at the approval step', [ok, pause], 'awaiting_approval', ['succeeded', 'awaiting_approval', 'pending'], 'wait'],
    ['approved, about to run the step', [ok, pause, approveBy('admin')], 'running', ['succeeded', 'approved', 'pending'], 'execute'],
    ['rejected stops the run', [ok, pause, reject], 'rejected', ['succeeded', 'rejected', 'pending'], 'none'],
    ['expired stops the run', [ok, pause, (r) => expire(r, T0 + 31 * MIN)], 'expired', ['succeeded', 'expired', 'pending'], 'none'],
    ['refused step fails the run', [(r) => refuse(r, 'bad', T0)], 'failed', ['refused', 'pending', 'pending'], 'none'],
  ])('%s', (_name, steps, runStatus, stepStatuses, move) => {
    const run = steps.reduce((r, f) => f(r), plan());
    expect(run.status).toBe(runStatus);
    expect(run.steps.map((s) => s.status)).toEqual(stepStatuses);
    expect(nextMove(run, T0 + 6 * MIN).kind).toBe(move);
  });

  it('asks for approval, waits until the TTL, then expires', () => {
    let run = ok(plan());
    const ask = nextMove(run, T0 + 2);
    expect(ask).toMatchObject({ kind: 'request_approval', expiresAt: T0 + 2 + 30 * MIN });
    run = requestApproval(run, T0 + 2);
    expect(nextMove(run, T0 + 29 * MIN)).toEqual({ kind: 'wait', until: T0 + 2 + 30 * MIN });
    expect(nextMove(run, T0 + 2 + 30 * MIN).kind).toBe('expire');
  });

  it.each<[string, 'analyst' | 'admin', boolean, number, number, string | null]>([
    ['an admin approves a permanent disable', 'admin', true, 1, T0 + MIN, null],
    ['an analyst may not approve a permanent disable', 'analyst', true, 1, T0 + MIN, 'forbidden'],
    ['an analyst may reject it', 'analyst', false, 1, T0 + MIN, null],
    ['an answer after expiry is refused', 'admin', true, 1, T0 + 31 * MIN, 'expired'],
    ['an answer for another step is refused', 'admin', true, 0, T0 + MIN, 'wrong_step'],
  ])('%s', (_name, role, approve, stepIndex, at, code) => {
    const run = requestApproval(ok(plan()), T0 + 2);
    const d = decide(run, stepIndex, { approve, by: 'carol', role }, at);
    expect(d.ok ? null : d.code).toBe(code);
    if (d.ok) expect(d.run.steps[1]).toMatchObject({ decided_by: 'carol', decided_role: role, decided_at: at });
  });

  it('lets an analyst approve a step that undoes itself', () => {
    const pb = playbook({
      id: 'iso',
      trigger: { rule_id: 'x' },
      steps: [{ action: 'isolate_host', target: '{{ group.host }}', requires_approval: true, duration: '2h' }],
    });
    const run = requestApproval(plan(pb), T0);
    expect(decide(run, 0, { approve: true, by: 'dave', role: 'analyst' }, T0 + 1).ok).toBe(true);
  });

  it('refuses a second decision on the same approval', () => {
    const run = approveBy('admin')(requestApproval(ok(plan()), T0 + 2));
    const again = decide(run, 1, { approve: false, by: 'eve', role: 'admin' }, T0 + 6 * MIN);
    expect(!again.ok && again.code).toBe('not_pending');
  });

  it.each<[string, boolean, number, string, number | undefined]>([
    ['a retriable failure schedules another attempt', true, 1, 'pending', T0 + 1_000],
    ['a retriable failure at the cap fails the step', true, 3, 'failed', undefined],
    ['a permanent failure fails the step at once', false, 1, 'failed', undefined],
  ])('%s', (_name, retriable, attempts, status, retryAt) => {
    let run = plan();
    for (let i = 0; i < attempts; i++) run = recordOutcome(run, { kind: 'failed', error: 'HTTP 503', retriable }, T0, retry);
    expect(run.steps[0]!.status).toBe(status);
    expect(run.steps[0]!.retry_at).toBe(retryAt);
    expect(run.status).toBe(status === 'failed' ? 'failed' : 'running');
  });

  it('waits for the retry time, then executes again', () => {
    const run = recordOutcome(plan(), { kind: 'failed', error: 'timeout', retriable: true }, T0, retry);
    expect(nextMove(run, T0 + 999)).toEqual({ kind: 'wait', until: T0 + 1_000 });
    expect(nextMove(run, T0 + 1_000).kind).toBe('execute');
  });

  it('goes on after a failed step marked continue_on_failure and ends failed', () => {
    const pb = playbook({
      id: 'c',
      trigger: { rule_id: 'x' },
      steps: [
        { action: 'block_ip', target: '{{ group["source.ip"] }}', continue_on_failure: true },
        { action: 'notify', message: 'n' },
      ],
    });
    let run = recordOutcome(plan(pb), { kind: 'failed', error: 'HTTP 400', retriable: false }, T0, retry);
    expect(nextMove(run, T0).kind).toBe('execute');
    run = ok(run);
    expect(run.status).toBe('failed');
  });
});

describe('undo and escalation', () => {
  it.each([
    [0, 60 * MIN],
    [1, 6 * 60 * MIN],
    [2, 24 * 60 * MIN],
    [7, 24 * 60 * MIN],
  ])('after %i earlier offences the block lasts %i ms', (prior, expected) => {
    expect(durationFor(plan().steps[0]!, prior)).toBe(expected);
  });

  it('has no duration for a step without one', () => {
    expect(escalatedDuration({}, 3)).toBeUndefined();
  });

  it('schedules the inverse action on the same connector and target', () => {
    const run = plan();
    const task = undoFor(run, run.steps[0]!, T0 + 60 * MIN)!;
    expect(task).toMatchObject({ action: 'unblock_ip', connector: 'firewall', target: '203.0.113.7', due_at: T0 + 60 * MIN });
    expect(undoFor(run, run.steps[1]!, T0)).toBeNull();
  });

  it.each([
    [T0 + 60 * MIN - 1, 'wait'],
    [T0 + 60 * MIN, 'run'],
    [T0 + 61 * MIN, 'run'],
  ])('an undo due at T0+60m at %i is %s', (now, kind) => {
    const run = plan();
    expect(undoMove(undoFor(run, run.steps[0]!, T0 + 60 * MIN)!, now).kind).toBe(kind);
  });

  it('keeps the later undo when a target is blocked again', () => {
    const run = plan();
    const early = undoFor(run, run.steps[0]!, T0 + 60 * MIN)!;
    const late = { ...early, alert_id: 'second', due_at: T0 + 360 * MIN };
    expect(mergeUndo(early, late).alert_id).toBe('second');
    expect(mergeUndo(late, early).alert_id).toBe('second');
    expect(mergeUndo(null, early)).toBe(early);
  });

  it('retries a failed undo with backoff, then gives up', () => {
    const run = plan();
    const task = undoFor(run, run.steps[0]!, T0)!;
    const first = undoFailure(task, T0, retry);
    expect(first).toMatchObject({ kind: 'retry', task: { attempts: 1, due_at: T0 + 1_000 } });
    const second = first.kind === 'retry' ? undoFailure(first.task, T0, retry) : first;
    expect(second).toMatchObject({ kind: 'retry', task: { attempts: 2, due_at: T0 + 2_000 } });
    expect(second.kind === 'retry' && undoFailure(second.task, T0, retry).kind).toBe('give_up');
  });
});

describe('matchPlaybooks', () => {
  const pbs = [
    playbook({ id: 'by-rule', trigger: { rule_id: ['auth.brute_force', 'x'] }, steps: [{ action: 'notify', message: 'm' }] }),
    playbook({ id: 'by-hint', trigger: { action: 'block_ip', min_severity: 'critical' }, steps: [{ action: 'notify', message: 'm' }] }),
    playbook({ id: 'by-tags', trigger: { tags: ['auth', 'prod'] }, steps: [{ action: 'notify', message: 'm' }] }),
    playbook({ id: 'off', enabled: false, trigger: { rule_id: 'auth.brute_force' }, steps: [{ action: 'notify', message: 'm' }] }),
  ];
  it.each<[string, Partial<Alert>, string[]]>([
    ['rule id matches', {}, ['by-rule']],
    ['severity too low for the hint playbook', { severity: 'high' }, ['by-rule']],
    ['critical with the hint', { severity: 'critical' }, ['by-rule', 'by-hint']],
    ['all tags present', { tags: ['prod', 'auth'] }, ['by-rule', 'by-tags']],
    ['nothing matches', { rule: { id: 'other', name: 'o', description: '', kind: 'threshold' }, action: undefined }, []],
  ])('%s', (_name, over, ids) => {
    expect(matchPlaybooks(pbs, alert(over)).map((p) => p.id)).toEqual(ids);
  });
});

describe('PlaybookSchema', () => {
  it.each<[unknown, string]>([
    [{ id: 'p', trigger: {}, steps: [{ action: 'notify', message: 'm' }] }, 'trigger'],
    [{ id: 'p', trigger: { rule_id: 'r' }, steps: [{ action: 'block_ip' }] }, 'steps.0.target'],
    [{ id: 'p', trigger: { rule_id: 'r' }, steps: [{ action: 'notify', message: 'm', duration: '1h' }] }, 'steps.0.duration'],
    [{ id: 'p', trigger: { rule_id: 'r' }, steps: [{ action: 'block_ip', target: '{{ x', duration: '1h' }] }, 'steps.0.target'],
    [{ id: 'p', trigger: { rule_id: 'r' }, steps: [{ action: 'block_ip', target: 'x', duration: '1 hour' }] }, 'steps.0.duration'],
    [{ id: 'p', trigger: { rule_id: 'r' }, steps: [{ action: 'block_ip', target: 'x', connector: 'scim' }] }, 'steps.0.connector'],
    [{ id: 'p', trigger: { rule_id: 'r' }, steps: [{ action: 'rm_rf', target: 'x' }] }, 'steps.0.action'],
    [{ id: 'p', trigger: { rule_id: 'r' }, steps: [{ action: 'notify', message: 'm', extra: 1 }] }, 'steps.0'],
    [{ id: 'Bad Id', trigger: { rule_id: 'r' }, steps: [{ action: 'notify', message: 'm' }] }, 'id'],
  ])('refuses %j at %s', (doc, path) => {
    const r = PlaybookSchema.safeParse(doc);
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => i.path.join('.'))).toContain(path);
  });
});
