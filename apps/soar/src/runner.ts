import { randomBytes } from 'node:crypto';
import type { ResponseRecord } from '@vigil/contracts';
import type { Logger } from '@vigil/runtime';
import { AuditPublisher, iso, runRecord, undoRecord } from './audit';
import type { ConnectorName } from './domain/playbook';
import {
  durationFor,
  expire,
  isTerminal,
  nextMove,
  recordOutcome,
  refuse,
  requestApproval,
  undoFailure,
  undoFor,
  undoMove,
  type RetryPolicy,
  type Run,
  type StepOutcome,
  type StepState,
} from './domain/run';
import { ConnectorError, type ActionRequest, type ActionResult, type Connector } from './connectors/types';
import type { SoarMetrics } from './metrics';
import { RUN_MEMBER, UNDO_MEMBER, type SoarStore } from './store/store';

export interface RunnerOptions {
  concurrency: number;
  pollMs: number;
  leaseMs: number;
  retry: RetryPolicy;
}

/** Longest a single wake-up may keep moving one run before it yields the item back to the queue. */
const MAX_MOVES_PER_CLAIM = 64;

/** Actions done here whose "done" record Redis did not take yet (bounded; oldest forgotten first). */
const MAX_UNRECORDED = 10_000;

type Execution = { outcome: StepOutcome; extra: ResponseRecord[] } | { waitUntil: number };

/**
 * Works the queue: claims due items (runs and undos) with a lease, moves each as far as it goes,
 * and hands it back with its next due time. Any responder can take any item, so a restart or a
 * crash loses nothing: an unfinished lease simply runs out and another claim picks it up.
 */
export class Runner {
  /** This process's claimer id: another process waits for our leases instead of running our actions. */
  readonly instanceId = `${process.pid}-${randomBytes(4).toString('hex')}`;
  private timer: NodeJS.Timeout | null = null;
  private active = 0;
  private stopping = false;
  private ticking = false;
  private again = false;
  private idle: Array<() => void> = [];
  /**
   * Action key → result of an action this process carried out but could not record as done (Redis
   * unavailable at that moment). When the item is retried, our claim on the key is still ours, so
   * without this memory the action would run a second time.
   */
  private readonly unrecorded = new Map<string, { result: ActionResult; durationMs?: number }>();

  constructor(
    private readonly store: SoarStore,
    private readonly connectors: ReadonlyMap<ConnectorName, Connector>,
    private readonly audit: AuditPublisher,
    private readonly metrics: SoarMetrics,
    private readonly logger: Logger,
    private readonly opts: RunnerOptions,
    private readonly clock: () => number = Date.now,
  ) {}

  start(): void {
    this.stopping = false;
    this.timer = setInterval(() => this.kick(), this.opts.pollMs);
    this.timer.unref();
    this.kick();
  }

  /** Stops claiming and waits (bounded) for the items in hand; their leases cover anything left. */
  async stop(timeoutMs = 10_000): Promise<void> {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.active === 0) return;
    await Promise.race([new Promise<void>((r) => this.idle.push(r)), new Promise((r) => setTimeout(r, timeoutMs).unref())]);
  }

  /** Looks for due work now (new alert, approval) instead of at the next poll. */
  kick(): void {
    if (this.stopping) return;
    if (this.ticking) {
      this.again = true;
      return;
    }
    this.ticking = true;
    void this.tick()
      .catch((err: unknown) => {
        this.metrics.runnerErrors.inc();
        this.logger.warn({ err: (err as Error).message }, 'claiming due work failed; next poll retries');
      })
      .finally(() => {
        this.ticking = false;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  private async tick(): Promise<void> {
    const free = this.opts.concurrency - this.active;
    if (free <= 0 || this.stopping) return;
    const now = this.clock();
    const leaseUntil = now + this.opts.leaseMs;
    const members = await this.store.claimDue(now, free, leaseUntil);
    for (const m of members) {
      this.active++;
      void this.process(m, leaseUntil).finally(() => {
        this.active--;
        if (this.active === 0) for (const r of this.idle.splice(0)) r();
        this.kick();
      });
    }
  }

  private async process(member: string, leaseUntil: number): Promise<void> {
    let next: number | null;
    try {
      if (member.startsWith(RUN_MEMBER)) next = await this.advanceRun(member.slice(RUN_MEMBER.length));
      else if (member.startsWith(UNDO_MEMBER)) next = await this.runUndo(member.slice(UNDO_MEMBER.length));
      else next = null;
    } catch (err) {
      // Redis or Kafka unavailable mid-move: the state is as last saved; look again shortly.
      this.metrics.runnerErrors.inc();
      this.logger.warn({ member, err: (err as Error).message }, 'work item failed; rescheduled');
      next = this.clock() + this.opts.retry.baseDelayMs;
    }
    try {
      await this.store.finish(member, leaseUntil, next);
    } catch (err) {
      this.logger.warn({ member, err: (err as Error).message }, 'could not hand the work item back; its lease will expire');
    }
  }

  /** Publishes a run's outbox and then clears it: at-least-once audit, ids make duplicates harmless. */
  private async flush(runId: string, version: number, outbox: unknown[]): Promise<void> {
    if (outbox.length === 0) return;
    await this.audit.publish(outbox as ResponseRecord[]);
    await this.store.clearOutbox(runId, version);
  }

  /** Moves a run until it waits (approval, retry) or ends. Returns when to look at it again. */
  async advanceRun(runId: string): Promise<number | null> {
    for (let i = 0; i < MAX_MOVES_PER_CLAIM; i++) {
      const stored = await this.store.getRun(runId);
      if (!stored) return null;
      await this.flush(runId, stored.version, stored.outbox);
      const { run, version } = stored;
      const now = this.clock();
      const move = nextMove(run, now);
      let next: Run;
      let records: ResponseRecord[];
      // Counted once the move is saved: a move redone after a lost compare-and-set counts once.
      const counts: Array<() => void> = [];
      switch (move.kind) {
        case 'none':
          return null;
        case 'wait':
          return move.until;
        case 'refuse':
          next = refuse(run, move.reason, now);
          records = [runRecord(next, 'step_refused', now, { step: next.steps[move.step.index], extra: { reason: move.reason } })];
          counts.push(() => this.metrics.actions.inc({ action: move.step.action, connector: move.step.connector, outcome: 'refused' }));
          await this.pushAction(next, next.steps[move.step.index]!, now);
          break;
        case 'request_approval':
          next = requestApproval(run, now);
          records = [
            runRecord(next, 'approval_requested', now, {
              step: next.steps[move.step.index],
              extra: { reason: `waiting for ${move.step.reversible ? 'an analyst' : 'an admin'} until ${iso(next.approval!.expires_at)}` },
            }),
          ];
          break;
        case 'expire':
          next = expire(run, now);
          records = [
            runRecord(next, 'expired', now, { step: next.steps[move.step.index], extra: { reason: 'approval not given in time' } }),
          ];
          counts.push(() => this.metrics.approvals.inc({ outcome: 'expired' }));
          break;
        case 'execute': {
          const ex = await this.execute(run, move.step, now);
          if ('waitUntil' in ex) return ex.waitUntil;
          const at = this.clock();
          next = recordOutcome(run, ex.outcome, at, this.opts.retry);
          const step = next.steps[move.step.index]!;
          const event =
            ex.outcome.kind === 'failed'
              ? step.status === 'failed'
                ? 'step_failed'
                : 'step_retry_scheduled'
              : ex.outcome.kind === 'succeeded'
                ? 'step_succeeded'
                : ex.outcome.kind === 'dry_run'
                  ? 'step_dry_run'
                  : 'step_skipped';
          const detail: Partial<ResponseRecord> =
            ex.outcome.kind === 'failed'
              ? { error: ex.outcome.error.slice(0, 2048), ...(step.retry_at ? { reason: `retry at ${iso(step.retry_at)}` } : {}) }
              : ex.outcome.kind === 'skipped'
                ? { reason: ex.outcome.reason }
                : { result: ex.outcome.result.slice(0, 2048) };
          records = [...ex.extra, runRecord(next, event, at, { step, extra: detail })];
          if (step.undo_at !== undefined) {
            records.push(
              runRecord(next, 'undo_scheduled', at, {
                step,
                extra: { undo_at: iso(step.undo_at), duration_seconds: Math.round((step.applied_duration_ms ?? 0) / 1000) },
              }),
            );
          }
          counts.push(() =>
            this.metrics.actions.inc({ action: step.action, connector: step.connector, outcome: event.replace('step_', '') }),
          );
          if (event !== 'step_retry_scheduled') await this.pushAction(next, step, at);
          break;
        }
      }
      if (isTerminal(next.status)) {
        records.push(runRecord(next, 'run_finished', next.updated_at));
        const outcome = next.status;
        counts.push(() => this.metrics.runsFinished.inc({ outcome }));
      }
      if (!(await this.store.saveRun(next, version, records))) {
        this.logger.info({ runId }, 'run changed under us (an approval arrived); reading it again');
        continue;
      }
      for (const count of counts) count();
      await this.flush(runId, version + 1, records);
    }
    return this.clock();
  }

  private request(run: Run, step: StepState, durationMs?: number): ActionRequest {
    return {
      action: step.action,
      target: step.target ?? '',
      ...(durationMs !== undefined ? { durationMs } : {}),
      alertId: run.alert_id,
      runId: run.run_id,
      playbookId: run.playbook_id,
      reason: run.alert.rule_name,
      ...(step.message !== undefined ? { message: step.message } : {}),
      ...(step.severity ? { severity: step.severity } : {}),
    };
  }

  /** Runs one step at most once per (alert, action, target, connector), whoever else tries. */
  private async execute(run: Run, step: StepState, now: number): Promise<Execution> {
    const requested = runRecord(run, 'step_requested', now, { step: { ...step, attempts: step.attempts + 1 } });
    const target = step.target ?? `notify:${step.index}`;
    if (run.dry_run) {
      const durationMs = durationFor(step, 0);
      const undoAt = durationMs !== undefined ? now + durationMs : undefined;
      if (undoAt !== undefined) {
        const task = undoFor(run, step, undoAt);
        if (task) await this.store.scheduleUndo(task);
      }
      const what = `would ${step.action}${step.target ? ` ${step.target}` : ''} via ${step.connector}${durationMs ? ` for ${Math.round(durationMs / 1000)}s` : ''}`;
      return {
        outcome: { kind: 'dry_run', result: what, ...(durationMs !== undefined ? { appliedDurationMs: durationMs, undoAt } : {}) },
        extra: [requested],
      };
    }
    const connector = this.connectors.get(step.connector);
    if (!connector)
      return { outcome: { kind: 'failed', error: `connector ${step.connector} is not configured`, retriable: false }, extra: [requested] };
    const key = this.store.actionKey(run.alert_id, step.action, target, step.connector);
    const claim = await this.store.claimAction(key, run.run_id, this.instanceId, now, this.opts.leaseMs);
    if (claim.state === 'busy') return { waitUntil: claim.record?.lease_until ?? now + this.opts.leaseMs };
    if (claim.state === 'done') {
      const rec = claim.record!;
      if (rec.owner !== run.run_id) {
        return {
          outcome: { kind: 'skipped', reason: `already done for this alert by run ${rec.owner}: ${rec.summary ?? ''}`.trim() },
          extra: [],
        };
      }
      // Our own earlier attempt finished but the run was not saved (crash): finish the bookkeeping.
      return { outcome: await this.succeeded(run, step, now, rec.summary ?? 'done', true), extra: [] };
    }
    if (claim.state === 'failed') {
      const rec = claim.record!;
      return {
        outcome: { kind: 'failed', error: `failed earlier for this alert (run ${rec.owner}): ${rec.error ?? ''}`, retriable: false },
        extra: [requested],
      };
    }
    const earlier = this.unrecorded.get(key);
    if (earlier) {
      // Done by this process before Redis went away: record it now instead of acting again.
      await this.recordDone(key, run.run_id, earlier.result, earlier.durationMs);
      const done = await this.succeeded(run, step, this.clock(), earlier.result.summary, false, earlier.durationMs);
      return { outcome: done, extra: [{ ...requested, request: earlier.result.request }] };
    }
    const durationMs =
      step.duration_ms !== undefined
        ? durationFor(step, await this.store.priorOffences(step.action, target, run.alert_id, now))
        : undefined;
    const started = process.hrtime.bigint();
    let result: ActionResult;
    try {
      result = await connector.execute(this.request(run, step, durationMs));
      this.metrics.actionSeconds.observe({ connector: step.connector }, Number(process.hrtime.bigint() - started) / 1e9);
    } catch (err) {
      this.metrics.actionSeconds.observe({ connector: step.connector }, Number(process.hrtime.bigint() - started) / 1e9);
      const ce = err instanceof ConnectorError ? err : new ConnectorError((err as Error).message, true);
      await this.store.settleAction(key, {
        state: 'failed',
        owner: run.run_id,
        retriable: ce.retriable,
        error: ce.message,
        at: this.clock(),
      });
      this.logger.warn(
        {
          runId: run.run_id,
          action: step.action,
          target: step.target,
          connector: step.connector,
          err: ce.message,
          retriable: ce.retriable,
        },
        'action failed',
      );
      return { outcome: { kind: 'failed', error: ce.message, retriable: ce.retriable }, extra: [{ ...requested, request: ce.request }] };
    }
    // The action is done: a failure from here on is bookkeeping (Redis), never the action failing.
    await this.recordDone(key, run.run_id, result, durationMs);
    const done = await this.succeeded(run, step, this.clock(), result.summary, false, durationMs);
    return { outcome: done, extra: [{ ...requested, request: result.request }] };
  }

  /**
   * Records an action as done. If Redis refuses, the result is kept in memory and the error thrown:
   * the work item is retried later and finds the result here instead of running the action again.
   */
  private async recordDone(key: string, owner: string, result: ActionResult, durationMs?: number): Promise<void> {
    try {
      await this.store.settleAction(key, { state: 'done', owner, summary: result.summary, at: this.clock() });
      this.unrecorded.delete(key);
    } catch (err) {
      if (!this.unrecorded.has(key)) {
        if (this.unrecorded.size >= MAX_UNRECORDED) this.unrecorded.delete(this.unrecorded.keys().next().value!);
        this.unrecorded.set(key, { result, ...(durationMs !== undefined ? { durationMs } : {}) });
      }
      this.logger.warn(
        { key, err: (err as Error).message },
        'action done but not recorded yet (Redis unavailable); will record it on retry',
      );
      throw err;
    }
  }

  /** After a successful action: schedule the undo (a later one for the same target wins). */
  private async succeeded(
    run: Run,
    step: StepState,
    now: number,
    summary: string,
    recovered: boolean,
    durationMs?: number,
  ): Promise<StepOutcome> {
    const duration = durationMs ?? (step.duration_ms !== undefined ? durationFor(step, 0) : undefined);
    if (duration === undefined) return { kind: 'succeeded', result: summary };
    const undoAt = now + duration;
    const task = undoFor(run, step, undoAt);
    if (task && !recovered) await this.store.scheduleUndo(task);
    if (task && recovered && (await this.store.getUndo(task.key)) === null) await this.store.scheduleUndo(task);
    return { kind: 'succeeded', result: summary, appliedDurationMs: duration, undoAt };
  }

  private async pushAction(run: Run, step: StepState, at: number): Promise<void> {
    await this.store.pushRecent('actions', {
      at: iso(at),
      run_id: run.run_id,
      alert_id: run.alert_id,
      playbook_id: run.playbook_id,
      step_index: step.index,
      action: step.action,
      connector: step.connector,
      target: step.target ?? null,
      status: step.status,
      detail: (step.error ?? step.reason ?? step.result ?? '').slice(0, 300),
      approved_by: step.decided_by ?? null,
      dry_run: run.dry_run,
    });
  }

  /** Runs a due undo. Returns when to look again (not due yet, or a retry), or null when settled. */
  async runUndo(key: string): Promise<number | null> {
    const task = await this.store.getUndo(key);
    if (!task) return null;
    const now = this.clock();
    const move = undoMove(task, now);
    if (move.kind === 'wait') return move.until;
    const pushUndo = (status: string, detail: string) =>
      this.store.pushRecent('actions', {
        at: iso(this.clock()),
        run_id: task.run_id,
        alert_id: task.alert_id,
        playbook_id: task.playbook_id,
        step_index: task.step_index,
        action: task.action,
        connector: task.connector,
        target: task.target,
        status,
        detail: detail.slice(0, 300),
        approved_by: null,
        dry_run: task.dry_run,
      });
    if (task.dry_run) {
      await this.audit.publish([
        undoRecord(task, 'undo_dry_run', now, { result: `would ${task.action} ${task.target} via ${task.connector}` }),
      ]);
      await this.store.completeUndo(task);
      await pushUndo('dry_run', `would ${task.action}`);
      this.metrics.undos.inc({ outcome: 'dry_run' });
      return null;
    }
    const connector = this.connectors.get(task.connector);
    const key2 = this.store.actionKey(task.alert_id, task.action, task.target, task.connector);
    const claim = connector ? await this.store.claimAction(key2, task.run_id, this.instanceId, now, this.opts.leaseMs) : null;
    if (claim?.state === 'busy') return claim.record?.lease_until ?? now + this.opts.leaseMs;
    if (claim?.state === 'done') {
      await this.store.completeUndo(task);
      return null;
    }
    let error = '';
    let retriable = false;
    let request: Record<string, string> = {};
    if (!connector || !claim) error = `connector ${task.connector} is not configured`;
    else if (claim.state === 'failed') error = claim.record?.error ?? 'failed earlier';
    else {
      let result: ActionResult | null = this.unrecorded.get(key2)?.result ?? null;
      try {
        result ??= await connector.execute({
          action: task.action,
          target: task.target,
          alertId: task.alert_id,
          runId: task.run_id,
          playbookId: task.playbook_id,
          reason: 'automatic undo: duration elapsed',
        });
      } catch (err) {
        const ce = err instanceof ConnectorError ? err : new ConnectorError((err as Error).message, true);
        error = ce.message;
        retriable = ce.retriable;
        request = ce.request;
        await this.store.settleAction(key2, { state: 'failed', owner: task.run_id, retriable, error, at: this.clock() });
      }
      if (result) {
        await this.recordDone(key2, task.run_id, result);
        await this.audit.publish([undoRecord(task, 'undo_succeeded', this.clock(), { result: result.summary, request: result.request })]);
        await this.store.completeUndo(task);
        await pushUndo('succeeded', result.summary);
        this.metrics.undos.inc({ outcome: 'succeeded' });
        return null;
      }
    }
    const decision = retriable ? undoFailure(task, this.clock(), this.opts.retry) : ({ kind: 'give_up' } as const);
    if (decision.kind === 'retry') {
      await this.audit.publish([
        undoRecord(decision.task, 'undo_retry_scheduled', this.clock(), { error, request, undo_at: iso(decision.task.due_at) }),
      ]);
      await this.store.retryUndo(decision.task);
      this.metrics.undos.inc({ outcome: 'retry' });
      return decision.task.due_at;
    }
    this.logger.error({ undo: task, err: error }, 'automatic undo failed for good; the target stays blocked until someone acts');
    await this.audit.publish([undoRecord(task, 'undo_failed', this.clock(), { error, request })]);
    await this.store.failUndo(task, error, this.clock());
    await pushUndo('failed', error);
    this.metrics.undos.inc({ outcome: 'failed' });
    return null;
  }
}
