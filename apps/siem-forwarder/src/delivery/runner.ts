import { dlqMessage, errorMessage, type BatchContext, type ConsumedMessage, type OutMessage } from '@vigil/kafka';
import { CIRCUIT_STATE_VALUE, CircuitBreaker, backoffDelay, type BackoffPolicy, type Logger } from '@vigil/runtime';
import { fitCount, fitsAlone, flushDecision, type FlushReason } from '../domain/batching';
import type { SendOutcome } from '../domain/outcome';
import type { ForwarderMetrics } from './metrics';
import type { EncodedRecord, SinkClient } from './sink';

export interface RunnerSettings {
  /** How long a partial batch waits for more items (the flush interval). */
  lingerMs: number;
  /** Sends an item may fail while the sink is up before it is dead-lettered. */
  maxAttempts: number;
  backoff: BackoffPolicy;
  /** Consecutive failed requests that open the circuit. */
  breakerFailures: number;
  /** How long an open circuit waits before one trial request. */
  breakerOpenMs: number;
  /** Requests in flight to this sink at once. */
  maxInFlight: number;
  /** On stop or rebalance, how long a batch whose items are all in flight may still finish. */
  shutdownGraceMs: number;
  /** How often a waiting batch handler heartbeats to the group coordinator. */
  heartbeatEveryMs?: number;
}

/** Where dead letters go: the Producer (acks=all) in production. */
export interface DeadLetterPort {
  send(messages: readonly OutMessage[]): Promise<void>;
}

/** Thrown to the batch consumer when a batch was given up (stop, rebalance): nothing is committed. */
export class BatchAbandoned extends Error {
  constructor(reason: string) {
    super(`batch abandoned: ${reason}`);
    this.name = 'BatchAbandoned';
  }
}

/** An item as a batch handler hands it over (and, when released, gets it back). */
export interface RunnerItem<R extends EncodedRecord> {
  readonly record: R;
  readonly msg: ConsumedMessage;
}

/** One handler call's promise: resolves when every item is acknowledged, dead-lettered or handed back. */
class Ticket<R extends EncodedRecord> {
  readonly done: Promise<void>;
  closed = false;
  /** Past the handler's release time: unsent items, and items whose send fails, go back to it. */
  releasing = false;
  readonly released: Array<RunnerItem<R>> = [];
  private resolveDone!: () => void;
  private rejectDone!: (err: Error) => void;

  constructor(
    public remaining: number,
    readonly backlog: boolean,
  ) {
    this.done = new Promise<void>((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
    this.done.catch(() => undefined); // observed by the waiting handler; never an unhandled rejection
  }

  settleOne(): void {
    if (this.closed) return;
    if (--this.remaining === 0) {
      this.closed = true;
      this.resolveDone();
    }
  }

  fail(err: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.rejectDone(err);
  }
}

type EntryState = 'pending' | 'retry' | 'forced' | 'inflight' | 'settled';

interface Entry<R extends EncodedRecord> {
  readonly record: R;
  readonly msg: ConsumedMessage;
  readonly ticket: Ticket<R>;
  readonly queuedAt: number;
  attempts: number;
  notBefore: number;
  state: EntryState;
}

export interface RunnerDeps<R extends EncodedRecord> {
  client: SinkClient<R>;
  settings: RunnerSettings;
  dlq: DeadLetterPort;
  dlqTopic: string;
  service: string;
  logger: Logger;
  metrics: ForwarderMetrics;
  /** Injectable for tests. */
  random?: () => number;
}

const HEARTBEAT_EVERY_MS = 3_000;
const WAIT_TICK_MS = 200;

/**
 * The delivery engine of one sink. Batch handlers hand it their items and wait; it groups items
 * from every partition into requests (flushing on count, bytes, a backlog, or the flush interval),
 * keeps at most `maxInFlight` requests going, retries with backoff (honouring Retry-After), stops
 * sending while the circuit is open, and dead-letters what the sink refuses or what keeps failing
 * while the sink is up. A handler resolves only when each of its items is acknowledged by the sink
 * or durably dead-lettered; until then its partition is not fetched again, which is what bounds
 * memory while a sink is down.
 */
export class SinkRunner<R extends EncodedRecord> {
  private readonly client: SinkClient<R>;
  private readonly s: RunnerSettings;
  private readonly breaker: CircuitBreaker;
  private readonly sink: string;

  private pending: Array<Entry<R>> = [];
  private pendingBytes = 0; // sum of record sizes in `pending`
  private pendingBacklog = 0; // entries in `pending` whose batch has a backlog behind it
  private retry: Array<Entry<R>> = [];
  private forced: Array<Array<Entry<R>>> = [];
  private inFlight = 0;
  private readonly controllers = new Set<AbortController>();
  private holdUntil = 0;
  private consecutiveFailures = 0;
  private wakeTimer: NodeJS.Timeout | null = null;
  private wakeAt = Number.POSITIVE_INFINITY;
  private stopped = false;
  private held = 0; // entries not yet settled
  private draining = 0; // waiting handlers whose consumer is stopping: flush without lingering

  constructor(private readonly deps: RunnerDeps<R>) {
    this.client = deps.client;
    this.s = deps.settings;
    this.sink = deps.client.name;
    this.breaker = new CircuitBreaker(deps.settings.breakerFailures, deps.settings.breakerOpenMs);
    deps.metrics.circuit.set({ sink: this.sink }, CIRCUIT_STATE_VALUE.closed);
    deps.metrics.queued.set({ sink: this.sink }, 0);
  }

  get circuitState(): CircuitBreaker['state'] {
    return this.breaker.state;
  }

  /** Items held right now (queued, in flight, or waiting to retry). */
  get queuedItems(): number {
    return this.held;
  }

  /**
   * Delivers the items of one consumed batch. Resolves when every item is acknowledged by the sink
   * or dead-lettered (durably); throws BatchAbandoned when the consumer stops or loses the partition
   * first, so the batch is not committed and will be redelivered.
   *
   * With `releaseAfterMs`, items still not acknowledged that long after the call are handed back
   * instead of waited for: those queued at once, those in a request when it fails (a request in
   * flight is waited for, so an item is never both delivered and handed back). Resolves with them;
   * the caller owns their delivery from then on.
   */
  async deliver(items: ReadonlyArray<RunnerItem<R>>, ctx: BatchContext, releaseAfterMs?: number): Promise<Array<RunnerItem<R>>> {
    if (this.stopped) throw new BatchAbandoned('sink runner stopped');
    const now = Date.now();
    const ticket = new Ticket<R>(items.length, (ctx.lag ?? 0) > 0);
    const tooBig: Array<Entry<R>> = [];
    for (const { record, msg } of items) {
      const entry: Entry<R> = { record, msg, ticket, queuedAt: now, attempts: 0, notBefore: now, state: 'pending' };
      this.held++;
      if (!fitsAlone(record.bytes, this.client.limits)) {
        tooBig.push(entry);
        continue;
      }
      this.pending.push(entry);
      this.pendingBytes += record.bytes;
      if (ticket.backlog) this.pendingBacklog++;
    }
    this.updateGauges();
    if (tooBig.length > 0) {
      const reason = `item is larger than one request may be (${this.client.limits.maxBytes} bytes)`;
      void this.deadLetter(tooBig.map((e) => ({ entry: e, kind: 'sink_rejected' as const, reason: `${reason}: ${e.record.bytes} bytes` })));
    }
    this.kick();
    await this.waitFor(ticket, ctx, releaseAfterMs === undefined ? Number.POSITIVE_INFINITY : now + releaseAfterMs);
    return ticket.released;
  }

  /** Stops sending: clears timers and aborts requests still in flight. Waiting batches give up. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.wakeTimer = null;
    for (const c of this.controllers) c.abort();
    await this.client.close();
  }

  // ---------------------------------------------------------------------------------------------
  // Waiting (the batch handler's side)
  // ---------------------------------------------------------------------------------------------

  private async waitFor(ticket: Ticket<R>, ctx: BatchContext, releaseAt: number): Promise<void> {
    const beatEvery = this.s.heartbeatEveryMs ?? HEARTBEAT_EVERY_MS;
    let lastBeat = Date.now();
    let inactiveSince: number | null = null;
    try {
      for (;;) {
        let timer: NodeJS.Timeout | undefined;
        const tick = new Promise<'tick'>((r) => (timer = setTimeout(() => r('tick'), WAIT_TICK_MS)));
        const r = await Promise.race([ticket.done.then(() => 'done' as const), tick]).finally(() => clearTimeout(timer));
        if (r === 'done') return;
        const now = Date.now();
        let active = ctx.isActive() && !this.stopped;
        if (active && now - lastBeat >= beatEvery) {
          lastBeat = now;
          try {
            await ctx.heartbeat();
          } catch {
            active = false; // a rebalance is under way: this batch may no longer be ours
          }
        }
        if (active) {
          if (now >= releaseAt && !ticket.releasing) this.release(ticket);
          continue;
        }
        if (inactiveSince === null) {
          // Stopping or losing the partition: send what this batch still holds right away and give
          // it the grace period to be acknowledged, so a clean stop commits its last batch.
          inactiveSince = now;
          this.draining++;
          this.kick();
        }
        if (this.stopped || now - inactiveSince >= this.s.shutdownGraceMs) {
          // Items not acknowledged by now are not ours to finish: the partition's next owner (or
          // this service after a restart) reads them again from the last committed offset.
          this.withdraw(ticket);
          ticket.fail(new BatchAbandoned('closed'));
          throw new BatchAbandoned(this.stopped ? 'forwarder stopping' : 'consumer stopping or partition reassigned');
        }
      }
    } finally {
      if (inactiveSince !== null) this.draining--;
    }
  }

  /**
   * Hands a ticket's queued items back to its handler, and from now on each of its items whose
   * request fails; items in flight are waited for (an acknowledged item is never handed back).
   */
  private release(ticket: Ticket<R>): void {
    ticket.releasing = true;
    for (const e of this.takeQueued(ticket)) this.handBack(e);
    this.updateGauges();
  }

  private handBack(e: Entry<R>): void {
    e.state = 'settled';
    this.held--;
    e.ticket.released.push({ record: e.record, msg: e.msg });
    e.ticket.settleOne();
  }

  /** Removes a ticket's unsent items from the queues; returns how many there were. */
  private withdraw(ticket: Ticket<R>): number {
    const n = this.takeQueued(ticket).length;
    this.held -= n;
    this.updateGauges();
    return n;
  }

  /** Takes a ticket's items out of the queues (waiting, to retry, split); items in flight stay. */
  private takeQueued(ticket: Ticket<R>): Array<Entry<R>> {
    const taken: Array<Entry<R>> = [];
    const keep = (e: Entry<R>) => {
      if (e.ticket !== ticket) return true;
      taken.push(e);
      return false;
    };
    const before = this.pending.length;
    this.pending = this.pending.filter(keep);
    if (this.pending.length !== before) this.recountPending();
    this.retry = this.retry.filter(keep);
    this.forced = this.forced.map((c) => c.filter(keep)).filter((c) => c.length > 0);
    return taken;
  }

  private recountPending(): void {
    this.pendingBytes = 0;
    this.pendingBacklog = 0;
    for (const e of this.pending) {
      this.pendingBytes += e.record.bytes;
      if (e.ticket.backlog) this.pendingBacklog++;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Sending
  // ---------------------------------------------------------------------------------------------

  /** Starts as many requests as allowed and ready; otherwise arms the timer for the next moment something is. */
  private kick(): void {
    if (this.stopped) return;
    while (this.inFlight < this.s.maxInFlight) {
      const now = Date.now();
      if (now < this.holdUntil) return this.wakeAtTime(this.holdUntil);
      const ready = this.readiness(now);
      if (ready.at > now) return this.wakeAtTime(ready.at);
      if (!this.breaker.allow(now)) {
        this.updateGauges();
        const wait = this.breaker.waitMs(now);
        // Open: wait for the trial time. Half-open with its trial in flight: its answer kicks again.
        if (wait > 0) this.wakeAtTime(now + wait);
        return;
      }
      const chunk = this.take(now, ready.reason);
      if (chunk.length === 0) return;
      void this.dispatch(chunk, ready.reason);
    }
  }

  /** When the next request could go, and why. */
  private readiness(now: number): { at: number; reason: FlushReason | 'retry' | 'split' } {
    if (this.forced.length > 0) return { at: now, reason: 'split' };
    let nextRetry = Number.POSITIVE_INFINITY;
    for (const e of this.retry) if (e.notBefore < nextRetry) nextRetry = e.notBefore;
    if (nextRetry <= now) return { at: now, reason: 'retry' };
    const d = flushDecision({
      count: this.pending.length,
      bytes:
        this.pending.length === 0
          ? 0
          : this.pendingBytes + this.client.limits.frameBytes + this.client.limits.separatorBytes * (this.pending.length - 1),
      oldestAtMs: this.pending[0]?.queuedAt ?? now,
      nowMs: now,
      lingerMs: this.s.lingerMs,
      backlog: this.pendingBacklog > 0 || this.draining > 0,
      limits: this.client.limits,
    });
    if (d.flush) return { at: now, reason: d.reason };
    return { at: Math.min(nextRetry, now + d.waitMs), reason: 'timer' };
  }

  private take(now: number, reason: FlushReason | 'retry' | 'split'): Array<Entry<R>> {
    if (reason === 'split') return this.forced.shift() ?? [];
    const limit = this.client.limits.maxEvents;
    // Retries go first; fresh items top the request up. One route per request.
    const candidates: Array<Entry<R>> = [];
    let route: string | undefined;
    let routed = false;
    const consider = (e: Entry<R>) => {
      if (!routed) {
        route = e.record.route;
        routed = true;
      }
      if (e.record.route === route) candidates.push(e);
    };
    if (reason === 'retry') for (const e of this.retry) if (e.notBefore <= now && candidates.length < limit) consider(e);
    for (let i = 0; i < this.pending.length && candidates.length < limit; i++) consider(this.pending[i]!);
    const n = fitCount(
      candidates.map((e) => e.record.bytes),
      this.client.limits,
    );
    const chosen = candidates.slice(0, n);
    const taken = new Set(chosen);
    if (chosen.some((e) => e.state === 'retry')) this.retry = this.retry.filter((e) => !taken.has(e));
    if (chosen.some((e) => e.state === 'pending')) {
      this.pending = this.pending.filter((e) => !taken.has(e));
      this.recountPending();
    }
    return chosen;
  }

  private async dispatch(chunk: Array<Entry<R>>, reason: FlushReason | 'retry' | 'split'): Promise<void> {
    this.inFlight++;
    for (const e of chunk) e.state = 'inflight';
    const m = this.deps.metrics;
    m.flushes.inc({ sink: this.sink, reason });
    m.batchEvents.observe({ sink: this.sink }, chunk.length);
    this.updateGauges(); // a half-open breaker shows as such while its trial request is out
    const controller = new AbortController();
    this.controllers.add(controller);
    const started = process.hrtime.bigint();
    let outcome: SendOutcome;
    try {
      outcome = await this.client.send(
        chunk.map((e) => e.record),
        controller.signal,
      );
    } catch (err) {
      outcome = { kind: 'unavailable', reason: `sink client failed: ${errorMessage(err)}` };
    } finally {
      this.controllers.delete(controller);
      this.inFlight--;
    }
    m.requestSeconds.observe({ sink: this.sink }, Number(process.hrtime.bigint() - started) / 1e9);
    if (this.stopped) return;
    try {
      await this.apply(chunk, outcome);
    } catch (err) {
      this.deps.logger.error({ sink: this.sink, err: errorMessage(err) }, 'applying a sink answer failed');
    }
    this.updateGauges();
    this.kick();
  }

  /** Acts on a sink's answer: settle, retry, split or dead-letter each item of the request. */
  private async apply(chunk: Array<Entry<R>>, outcome: SendOutcome): Promise<void> {
    const now = Date.now();
    const m = this.deps.metrics;
    const log = this.deps.logger;
    const dead: Array<{ entry: Entry<R>; kind: 'sink_rejected' | 'delivery_exhausted'; reason: string }> = [];
    const first = chunk[0]!;
    const where = {
      sink: this.sink,
      items: chunk.length,
      firstId: first.record.id,
      topic: first.msg.topic,
      partition: first.msg.partition,
      offset: first.msg.offset,
    };

    switch (outcome.kind) {
      case 'items': {
        this.breaker.success();
        this.consecutiveFailures = 0;
        let retried = 0;
        let refused = 0;
        outcome.items.forEach((o, i) => {
          const e = chunk[i]!;
          if (o.status === 'ok') {
            if (o.duplicate) m.duplicates.inc({ sink: this.sink });
            this.settle(e);
          } else if (o.status === 'reject') {
            refused++;
            e.attempts++;
            dead.push({ entry: e, kind: 'sink_rejected', reason: o.reason });
          } else if (o.status === 'resend') {
            this.requeue(e, now);
          } else {
            retried++;
            e.attempts++;
            if (e.attempts >= this.s.maxAttempts)
              dead.push({ entry: e, kind: 'delivery_exhausted', reason: `${o.reason} (after ${e.attempts} attempts)` });
            else this.requeue(e, now + backoffDelay(e.attempts, this.s.backoff, this.deps.random));
          }
        });
        const outcomeLabel = refused > 0 || retried > 0 ? 'partial' : 'ok';
        m.requests.inc({ sink: this.sink, outcome: outcomeLabel });
        if (refused > 0 || retried > 0) log.warn({ ...where, refused, retried }, 'sink refused some items');
        break;
      }
      case 'unavailable': {
        this.breaker.failure(now);
        this.consecutiveFailures++;
        const delay = Math.max(outcome.retryAfterMs ?? 0, backoffDelay(this.consecutiveFailures, this.s.backoff, this.deps.random));
        this.holdUntil = Math.max(this.holdUntil, now + delay);
        // Attempts measure the items, not the sink: while the circuit is open the sink is down, and
        // waiting for it costs delay only (the partition is not fetched meanwhile).
        const counts = this.breaker.state !== 'open';
        for (const e of chunk) {
          if (counts) e.attempts++;
          if (counts && e.attempts >= this.s.maxAttempts)
            dead.push({ entry: e, kind: 'delivery_exhausted', reason: `${outcome.reason} (after ${e.attempts} attempts)` });
          else this.requeue(e, now);
        }
        m.requests.inc({ sink: this.sink, outcome: 'unavailable' });
        log.warn(
          { ...where, reason: outcome.reason, retryInMs: delay, circuit: this.breaker.state, attemptsCounted: counts },
          'sink unavailable; will retry',
        );
        break;
      }
      case 'refused': {
        this.breaker.success();
        this.consecutiveFailures = 0;
        for (const e of chunk) {
          e.attempts++;
          dead.push({ entry: e, kind: 'sink_rejected', reason: outcome.reason });
        }
        m.requests.inc({ sink: this.sink, outcome: 'refused' });
        log.error({ ...where, reason: outcome.reason }, 'sink refused the request; its items go to the DLQ (check the sink configuration)');
        break;
      }
      case 'too_large': {
        this.breaker.success();
        this.consecutiveFailures = 0;
        m.requests.inc({ sink: this.sink, outcome: 'too_large' });
        if (chunk.length === 1) {
          first.attempts++;
          dead.push({
            entry: first,
            kind: 'sink_rejected',
            reason: `the sink refused this item as too large even alone: ${outcome.reason}`,
          });
        } else {
          const live = chunk.filter((e) => !this.dropIfClosed(e));
          const half = Math.ceil(live.length / 2);
          const parts = [live.slice(0, half), live.slice(half)].filter((p) => p.length > 0);
          for (const part of parts) for (const e of part) e.state = 'forced';
          this.forced.unshift(...parts);
          log.warn({ ...where, reason: outcome.reason }, 'sink said the request was too large; splitting it');
        }
        break;
      }
    }
    this.updateGauges();
    if (dead.length > 0) await this.deadLetter(dead);
  }

  private settle(e: Entry<R>): void {
    if (e.state === 'settled') return;
    e.state = 'settled';
    this.held--;
    this.deps.metrics.delivered.inc({ sink: this.sink, record: e.record.kind });
    e.ticket.settleOne();
  }

  /** An item whose batch was given up is dropped here: the partition's next owner delivers it. */
  private dropIfClosed(e: Entry<R>): boolean {
    if (!e.ticket.closed) return false;
    if (e.state !== 'settled') {
      e.state = 'settled';
      this.held--;
    }
    return true;
  }

  private requeue(e: Entry<R>, notBefore: number): void {
    if (this.dropIfClosed(e)) return;
    if (e.ticket.releasing) return this.handBack(e);
    e.state = 'retry';
    e.notBefore = notBefore;
    this.retry.push(e);
    this.deps.metrics.retried.inc({ sink: this.sink });
  }

  /** Produces DLQ records (acks=all), then settles their items. If Kafka fails, their batches fail and are retried whole. */
  private async deadLetter(dead: Array<{ entry: Entry<R>; kind: 'sink_rejected' | 'delivery_exhausted'; reason: string }>): Promise<void> {
    const live = dead.filter((d) => !this.dropIfClosed(d.entry));
    if (live.length === 0) return;
    const out = live.map((d) =>
      dlqMessage(this.deps.dlqTopic, this.deps.service, d.entry.msg, {
        kind: d.kind,
        reason: d.reason,
        destination: this.sink,
        attempts: d.entry.attempts,
      }),
    );
    try {
      await this.deps.dlq.send(out);
    } catch (err) {
      const failure = new Error(`could not dead-letter ${live.length} items for ${this.sink}: ${errorMessage(err)}`);
      this.deps.logger.error({ sink: this.sink, err: errorMessage(err) }, 'DLQ produce failed; the batch will be retried');
      for (const d of live) {
        d.entry.ticket.fail(failure);
        this.dropIfClosed(d.entry);
      }
      return;
    }
    for (const d of live) {
      this.deps.metrics.deadLettered.inc({ sink: this.sink, kind: d.kind });
      this.deps.metrics.shared.deadLettered.inc({ topic: this.deps.dlqTopic, kind: d.kind });
      if (d.entry.state !== 'settled') {
        d.entry.state = 'settled';
        this.held--;
      }
      d.entry.ticket.settleOne();
    }
    this.updateGauges();
  }

  // ---------------------------------------------------------------------------------------------

  private wakeAtTime(at: number): void {
    if (this.stopped || !Number.isFinite(at)) return;
    if (this.wakeTimer && this.wakeAt <= at) return;
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.wakeAt = at;
    this.wakeTimer = setTimeout(
      () => {
        this.wakeTimer = null;
        this.wakeAt = Number.POSITIVE_INFINITY;
        this.kick();
      },
      Math.max(0, at - Date.now()),
    );
  }

  private updateGauges(): void {
    const m = this.deps.metrics;
    m.queued.set({ sink: this.sink }, this.held);
    m.circuit.set({ sink: this.sink }, CIRCUIT_STATE_VALUE[this.breaker.state]);
  }
}
