import type { Alert, ResponderRole, ResponseAction, Severity } from '@vigil/contracts';
import { ACTION_SPECS, escalatedDuration, type ConnectorName, type Playbook } from './playbook';
import { checkBlockableIp, checkHost, checkUserId, type Checked, type TargetPolicy } from './targets';
import { renderTemplate } from './template';

export type StepStatus =
  'pending' | 'awaiting_approval' | 'approved' | 'succeeded' | 'skipped' | 'dry_run' | 'failed' | 'refused' | 'rejected' | 'expired';
export type RunStatus = 'running' | 'awaiting_approval' | 'succeeded' | 'failed' | 'rejected' | 'expired';

const TERMINAL_RUN: ReadonlySet<RunStatus> = new Set(['succeeded', 'failed', 'rejected', 'expired']);
const FAILED_STEP: ReadonlySet<StepStatus> = new Set(['failed', 'refused']);

export function isTerminal(status: RunStatus): boolean {
  return TERMINAL_RUN.has(status);
}

/** One step of a run: the playbook step with its parameters resolved from the alert and checked. */
export interface StepState {
  index: number;
  name?: string;
  action: ResponseAction;
  connector: ConnectorName;
  /** Validated, normalised target; absent for notify or when refused. */
  target?: string;
  /** notify: rendered message and severity. */
  message?: string;
  severity?: Severity;
  /** Set when the parameters failed validation: the step is refused when reached, never run. */
  refusal?: string;
  requires_approval: boolean;
  approval_ttl_ms: number;
  /** Undone automatically after a duration: what an analyst may approve. */
  reversible: boolean;
  duration_ms?: number;
  escalation_ms?: number[];
  continue_on_failure: boolean;
  status: StepStatus;
  attempts: number;
  retry_at?: number;
  decided_by?: string;
  decided_role?: ResponderRole;
  decided_at?: number;
  reason?: string;
  error?: string;
  result?: string;
  /** Duration actually applied (after escalation) and when the undo is due. */
  applied_duration_ms?: number;
  undo_at?: number;
}

/** A playbook run for one alert. Persisted between moves; every change goes through the functions below. */
export interface Run {
  run_id: string;
  alert_id: string;
  playbook_id: string;
  dry_run: boolean;
  created_at: number;
  updated_at: number;
  status: RunStatus;
  /** Index of the step being worked on. */
  cursor: number;
  steps: StepState[];
  approval?: { step_index: number; requested_at: number; expires_at: number };
  alert: { rule_id: string; rule_name: string; severity: Severity; group: Record<string, string> };
}

export interface PlanInput {
  runId: string;
  playbook: Playbook;
  alert: Alert;
  now: number;
  /** Service-wide dry run (a playbook may also ask for it). */
  dryRun: boolean;
  defaultApprovalTtlMs: number;
  /** Connector used when a step names none. */
  defaultConnectors: Readonly<Record<ResponseAction, ConnectorName>>;
  policy: TargetPolicy;
}

function checkTarget(action: ResponseAction, value: unknown, policy: TargetPolicy): Checked {
  switch (ACTION_SPECS[action].target) {
    case 'ip':
      // Unblocking an allowlisted address is harmless; blocking one is what the list prevents.
      return action === 'block_ip' ? checkBlockableIp(value, policy.ip) : checkBlockableIp(value, { ...policy.ip, neverBlock: [] });
    case 'user':
      return checkUserId(value, action === 'disable_user' ? policy.neverDisable : new Set());
    case 'host':
      return checkHost(value, action === 'isolate_host' ? policy.neverIsolate : new Set());
    default:
      return { ok: true, value: '' };
  }
}

/** Builds a run: every step's parameters rendered from the alert and validated before anything runs. */
export function planRun(input: PlanInput): Run {
  const { playbook, alert, now, policy } = input;
  const context: Record<string, unknown> = { ...alert, alert };
  const steps = playbook.steps.map((s, index): StepState => {
    const spec = ACTION_SPECS[s.action];
    const step: StepState = {
      index,
      ...(s.name ? { name: s.name } : {}),
      action: s.action,
      connector: s.connector ?? input.defaultConnectors[s.action],
      requires_approval: s.requires_approval,
      approval_ttl_ms: s.approval_ttl ?? input.defaultApprovalTtlMs,
      reversible: spec.inverse !== undefined && s.duration !== undefined,
      ...(s.duration !== undefined ? { duration_ms: s.duration } : {}),
      ...(s.escalation ? { escalation_ms: s.escalation } : {}),
      continue_on_failure: s.continue_on_failure,
      status: 'pending',
      attempts: 0,
    };
    if (s.target) {
      const rendered = renderTemplate(s.target, context);
      const checked = rendered.ok ? checkTarget(s.action, rendered.value, policy) : rendered;
      if (checked.ok) step.target = checked.value;
      else step.refusal = `target ${s.target.source}: ${checked.reason}`;
    }
    if (s.message) {
      const rendered = renderTemplate(s.message, context);
      if (rendered.ok) step.message = String(rendered.value).slice(0, 2048);
      else step.refusal = `message: ${rendered.reason}`;
      step.severity = s.severity ?? alert.severity;
    }
    return step;
  });
  return {
    run_id: input.runId,
    alert_id: alert.alert_id,
    playbook_id: playbook.id,
    dry_run: input.dryRun || playbook.dry_run,
    created_at: now,
    updated_at: now,
    status: 'running',
    cursor: 0,
    steps,
    alert: { rule_id: alert.rule.id, rule_name: alert.rule.name, severity: alert.severity, group: alert.group },
  };
}

/** What the runner should do next with a run. */
export type Move =
  | { kind: 'none' }
  | { kind: 'refuse'; step: StepState; reason: string }
  | { kind: 'request_approval'; step: StepState; expiresAt: number }
  | { kind: 'wait'; until: number }
  | { kind: 'expire'; step: StepState }
  | { kind: 'execute'; step: StepState };

export function nextMove(run: Run, now: number): Move {
  if (isTerminal(run.status)) return { kind: 'none' };
  const step = run.steps[run.cursor];
  if (!step) return { kind: 'none' };
  switch (step.status) {
    case 'pending':
      if (step.refusal) return { kind: 'refuse', step, reason: step.refusal };
      if (step.requires_approval) return { kind: 'request_approval', step, expiresAt: now + step.approval_ttl_ms };
      break;
    case 'awaiting_approval': {
      const expiresAt = run.approval?.expires_at ?? 0;
      return now >= expiresAt ? { kind: 'expire', step } : { kind: 'wait', until: expiresAt };
    }
    case 'approved':
      break;
    default:
      return { kind: 'none' };
  }
  if (step.retry_at !== undefined && now < step.retry_at) return { kind: 'wait', until: step.retry_at };
  return { kind: 'execute', step };
}

/** Applies a change to the current step; a key set to undefined is removed (runs are stored as JSON). */
function withStep(run: Run, now: number, change: Partial<StepState>): Run {
  const apply = (s: StepState): StepState => {
    const next = { ...s, ...change } as Record<string, unknown>;
    for (const k of Object.keys(change)) if (next[k] === undefined) delete next[k];
    return next as unknown as StepState;
  };
  const steps = run.steps.map((s) => (s.index === run.cursor ? apply(s) : s));
  return { ...run, steps, updated_at: now };
}

/** After a step reached a final status: stop on failure (unless it may continue), else move on. */
function settle(run: Run, now: number): Run {
  const step = run.steps[run.cursor]!;
  if (FAILED_STEP.has(step.status) && !step.continue_on_failure) return { ...run, status: 'failed', updated_at: now };
  const cursor = run.cursor + 1;
  if (cursor < run.steps.length) return { ...run, cursor, status: 'running', updated_at: now };
  const failed = run.steps.some((s) => FAILED_STEP.has(s.status));
  return { ...run, cursor, status: failed ? 'failed' : 'succeeded', updated_at: now };
}

export function requestApproval(run: Run, now: number): Run {
  const step = run.steps[run.cursor]!;
  const next = withStep(run, now, { status: 'awaiting_approval' });
  return {
    ...next,
    status: 'awaiting_approval',
    approval: { step_index: step.index, requested_at: now, expires_at: now + step.approval_ttl_ms },
  };
}

export function refuse(run: Run, reason: string, now: number): Run {
  return settle(withStep(run, now, { status: 'refused', reason }), now);
}

export function expire(run: Run, now: number): Run {
  const { approval: _approval, ...rest } = withStep(run, now, { status: 'expired', reason: 'approval not given in time' });
  return { ...rest, status: 'expired' };
}

export interface Decision {
  approve: boolean;
  by: string;
  role: ResponderRole;
  reason?: string;
}

export type DecisionResult =
  { ok: true; run: Run } | { ok: false; code: 'not_pending' | 'forbidden' | 'expired' | 'wrong_step'; message: string };

/** Who may approve what: an admin anything; an analyst only a step that undoes itself. */
export function mayApprove(role: ResponderRole, step: Pick<StepState, 'reversible'>): boolean {
  return role === 'admin' || step.reversible;
}

/**
 * An analyst's answer to a pending approval. `stepIndex` names the step the analyst saw, so an
 * answer given for an earlier pause can never approve a later one.
 */
export function decide(run: Run, stepIndex: number, d: Decision, now: number): DecisionResult {
  const step = run.steps[run.cursor];
  if (run.status !== 'awaiting_approval' || !step || step.status !== 'awaiting_approval' || !run.approval) {
    return { ok: false, code: 'not_pending', message: `run ${run.run_id} is ${run.status}, not awaiting approval` };
  }
  if (step.index !== stepIndex)
    return { ok: false, code: 'wrong_step', message: `run ${run.run_id} awaits step ${step.index}, not ${stepIndex}` };
  if (now >= run.approval.expires_at) return { ok: false, code: 'expired', message: 'the approval has expired' };
  if (d.approve && !mayApprove(d.role, step)) {
    return { ok: false, code: 'forbidden', message: `${step.action} without an automatic undo needs an admin's approval` };
  }
  const decided = { decided_by: d.by, decided_role: d.role, decided_at: now, ...(d.reason ? { reason: d.reason } : {}) };
  const { approval: _approval, ...rest } = withStep(run, now, { ...decided, status: d.approve ? 'approved' : 'rejected' });
  return { ok: true, run: { ...rest, status: d.approve ? 'running' : 'rejected' } };
}

export type StepOutcome =
  | { kind: 'succeeded'; result: string; appliedDurationMs?: number; undoAt?: number }
  | { kind: 'dry_run'; result: string; appliedDurationMs?: number; undoAt?: number }
  | { kind: 'skipped'; reason: string }
  | { kind: 'failed'; error: string; retriable: boolean };

export interface RetryPolicy {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export function retryDelay(attempt: number, p: RetryPolicy): number {
  return Math.min(p.maxDelayMs, p.baseDelayMs * 2 ** Math.max(0, attempt - 1));
}

/** Records what executing the current step gave. A retriable failure under the cap schedules another attempt. */
export function recordOutcome(run: Run, outcome: StepOutcome, now: number, policy: RetryPolicy): Run {
  const step = run.steps[run.cursor]!;
  const attempts = step.attempts + 1;
  switch (outcome.kind) {
    case 'succeeded':
    case 'dry_run': {
      const { retry_at: _r, ...clean } = step;
      const next: StepState = {
        ...clean,
        attempts,
        status: outcome.kind,
        result: outcome.result,
        ...(outcome.appliedDurationMs !== undefined ? { applied_duration_ms: outcome.appliedDurationMs } : {}),
        ...(outcome.undoAt !== undefined ? { undo_at: outcome.undoAt } : {}),
      };
      return settle({ ...run, steps: run.steps.map((s) => (s.index === step.index ? next : s)), updated_at: now }, now);
    }
    case 'skipped':
      return settle(withStep(run, now, { attempts, status: 'skipped', reason: outcome.reason, retry_at: undefined }), now);
    case 'failed':
      if (outcome.retriable && attempts < policy.maxAttempts) {
        return withStep(run, now, { attempts, error: outcome.error, retry_at: now + retryDelay(attempts, policy) });
      }
      return settle(withStep(run, now, { attempts, status: 'failed', error: outcome.error, retry_at: undefined }), now);
  }
}

/** Duration for this execution, given how many earlier offences the target has in the window. */
export function durationFor(step: StepState, priorOffences: number): number | undefined {
  return escalatedDuration({ duration: step.duration_ms, escalation: step.escalation_ms }, priorOffences);
}

/** A scheduled automatic undo. One per (connector, action, target): a newer block moves it later. */
export interface UndoTask {
  key: string;
  action: ResponseAction;
  connector: ConnectorName;
  target: string;
  alert_id: string;
  run_id: string;
  playbook_id: string;
  step_index: number;
  due_at: number;
  attempts: number;
  dry_run: boolean;
}

export function undoKey(connector: ConnectorName, action: ResponseAction, target: string): string {
  return `${connector}|${action}|${target}`;
}

/** The undo a succeeded reversible step schedules, or null when it has none. */
export function undoFor(run: Run, step: StepState, dueAt: number): UndoTask | null {
  const inverse = ACTION_SPECS[step.action].inverse;
  if (!inverse || !step.target || step.duration_ms === undefined) return null;
  return {
    key: undoKey(step.connector, inverse, step.target),
    action: inverse,
    connector: step.connector,
    target: step.target,
    alert_id: run.alert_id,
    run_id: run.run_id,
    playbook_id: run.playbook_id,
    step_index: step.index,
    due_at: dueAt,
    attempts: 0,
    dry_run: run.dry_run,
  };
}

/** Two blocks of one target: the undo that lifts it later wins, so a repeat offender is not released early. */
export function mergeUndo(existing: UndoTask | null, incoming: UndoTask): UndoTask {
  return existing && existing.due_at > incoming.due_at ? existing : incoming;
}

export type UndoMove = { kind: 'run' } | { kind: 'wait'; until: number };

export function undoMove(task: UndoTask, now: number): UndoMove {
  return now >= task.due_at ? { kind: 'run' } : { kind: 'wait', until: task.due_at };
}

/** A failed undo: retried later under the cap (`retry`), or given up (`give_up`). */
export function undoFailure(task: UndoTask, now: number, policy: RetryPolicy): { kind: 'retry'; task: UndoTask } | { kind: 'give_up' } {
  const attempts = task.attempts + 1;
  if (attempts >= policy.maxAttempts) return { kind: 'give_up' };
  return { kind: 'retry', task: { ...task, attempts, due_at: now + retryDelay(attempts, policy) } };
}
