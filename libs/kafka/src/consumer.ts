import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import type { Metrics } from '@vigil/runtime';
import { DEFAULT_FETCH_MAX_WAIT_MS } from './config';
import { OffsetCommitter, partitionKey } from './committer';
import { errorMessage } from './errors';

/** A message as a handler sees it: raw bytes plus where it came from. */
export interface ConsumedMessage {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  /** Broker timestamp, epoch milliseconds as a string. */
  timestamp: string;
  headers: Record<string, string>;
}

export interface BatchContext {
  topic: string;
  partition: number;
  /** Call during long work so the group does not think this member died. */
  heartbeat(): Promise<void>;
  /** False once the consumer is stopping or the batch went stale after a rebalance. */
  isActive(): boolean;
  /**
   * Messages already on the partition after this batch when it was fetched (0 = caught up).
   * Lets a handler that lingers to fill bigger batches stop lingering while a backlog waits.
   */
  lag?: number;
}

/**
 * Handles one batch from one partition. Resolving means every effect of these messages is durable
 * (produced with acks=all, written to Redis, acknowledged by a sink, or dead-lettered).
 * Throwing means "not yet": the batch is retried with backoff and nothing is committed.
 */
export type BatchHandler = (messages: ConsumedMessage[], ctx: BatchContext) => Promise<void>;

export interface BatchConsumerOptions {
  groupId: string;
  topics: string[];
  handler: BatchHandler;
  logger: Logger;
  /** Shared consumer families, labelled with `topic` and `group` (this groupId). */
  metrics?: Metrics;
  fromBeginning?: boolean;
  sessionTimeoutMs?: number; // default 30 s
  maxBytesPerPartition?: number; // default 1 MiB
  /** The broker's longest hold of an empty fetch; default DEFAULT_FETCH_MAX_WAIT_MS (config.ts). */
  maxWaitTimeMs?: number;
  partitionsConsumedConcurrently?: number; // default 2 (one per core here)
  retryInitialMs?: number; // default 200 ms
  retryMaxMs?: number; // default 10 s
  /**
   * Batches that may be in the handler at once beyond kafkajs' fetch cycle (default 0: off).
   * kafkajs fetches again only when every batch of the last fetch has returned, so a handler that
   * hands its work to another thread leaves that thread idle during every fetch and every commit.
   * With a depth, a batch is handed to the handler and kafkajs fetches on; the batch is committed
   * later, in partition order, once it and every earlier batch of its partition are done. A handed
   * batch is retried until it succeeds or the consumer stops (a rebalance does not abandon it:
   * its output is only duplicated). Output order across batches of a partition is not kept when a
   * batch is retried, so only for handlers whose consumers do not need it.
   */
  pipelineDepth?: number;
  /** How long stop() waits for pipelined batches to finish and commit (default 30 s). */
  drainTimeoutMs?: number;
  /**
   * While caught up, the shortest time from one fetch's start to the next (default 0: off). A fetch
   * returns as soon as a record arrives, so under a steady trickle every consumer fetches, hands
   * over, produces and commits a few records at a time, and that per-fetch work, not the records,
   * is most of its CPU. Held back this long, the next fetch finds more waiting. A fetch that
   * leaves records behind on any partition is never held; nor is the first record after a quiet
   * spell (the fetch in flight returns with it at once). Adds at most this much to a record's wait.
   */
  minFetchIntervalMs?: number;
}

/** One fetch's pacing: when the next may start, and a way to cancel the wait. */
interface FetchPace {
  readonly startedAt: number;
  backlog: boolean;
  readonly wake: Promise<void>;
  release(): void;
}

const HEARTBEAT_EVERY_MS = 3_000;
const DRAIN_TIMEOUT_MS = 30_000;
const RESTART_INITIAL_MS = 1_000;
const RESTART_MAX_MS = 30_000;
/** Logged (at error) each time kafkajs gave up on a consumer and a new one is started; the fault suite counts it. */
export const CONSUMER_REPLACED_MESSAGE = 'kafkajs will not restart this consumer; starting a new one';

function toHeaders(h: Record<string, Buffer | string | (Buffer | string)[] | undefined> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!h) return out;
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined) continue;
    const first = Array.isArray(v) ? v[0] : v;
    if (first !== undefined) out[k] = first.toString();
  }
  return out;
}

/**
 * Consumes batches and commits a partition's offset only after the handler resolved for
 * everything up to it. Invariant: a committed offset never runs ahead of durable output, so a
 * crash anywhere costs redelivery (duplicates), never loss.
 */
export class BatchConsumer {
  private consumer: Consumer;
  private joined = false;
  private crashed: string | null = null;
  private stopping = false;
  private restartTimer: NodeJS.Timeout | null = null;
  /** The fetch in flight or last made (for minFetchIntervalMs). */
  private pace: FetchPace | null = null;
  /** Batches that held back the next fetch (minFetchIntervalMs; tests). */
  heldFetches = 0;
  private restartDelayMs = RESTART_INITIAL_MS;
  /** Consumers this instance started again after kafkajs gave up on them (tests, logs). */
  restarts = 0;
  /** Pipelined batches not yet committed (or given up at stop). */
  private readonly inflight = new Set<Promise<boolean>>();
  /** Per topic/partition: the last pipelined batch, which the next one commits after. */
  private lanes = new Map<string, Promise<boolean>>();
  /** Handled offsets, committed in the background (one request at a time, coalesced). */
  private readonly committer: OffsetCommitter;

  constructor(
    private readonly kafka: Kafka,
    private readonly opts: BatchConsumerOptions,
  ) {
    this.consumer = this.create();
    this.committer = new OffsetCommitter((offsets) => this.consumer.commitOffsets(offsets), opts.logger);
  }

  private create(): Consumer {
    const opts = this.opts;
    this.lanes = new Map();
    const consumer = this.kafka.consumer({
      groupId: opts.groupId,
      sessionTimeout: opts.sessionTimeoutMs ?? 30_000,
      heartbeatInterval: HEARTBEAT_EVERY_MS,
      maxBytesPerPartition: opts.maxBytesPerPartition ?? 1024 * 1024,
      maxWaitTimeInMs: opts.maxWaitTimeMs ?? DEFAULT_FETCH_MAX_WAIT_MS,
      allowAutoTopicCreation: false,
      retry: { initialRetryTime: 300, maxRetryTime: 10_000, retries: 10 },
    });
    const { GROUP_JOIN, CRASH, REBALANCING, STOP, FETCH_START } = consumer.events;
    if ((opts.minFetchIntervalMs ?? 0) > 0) {
      consumer.on(FETCH_START, () => {
        this.pace?.release();
        let release = () => {};
        const wake = new Promise<void>((r) => (release = r));
        this.pace = { startedAt: Date.now(), backlog: false, wake, release };
      });
    }
    consumer.on(GROUP_JOIN, (e) => {
      this.joined = true;
      this.crashed = null;
      this.restartDelayMs = RESTART_INITIAL_MS;
      opts.logger.info({ groupId: opts.groupId, memberAssignment: e.payload.memberAssignment }, 'joined consumer group');
    });
    consumer.on(REBALANCING, () => {
      this.joined = false;
    });
    consumer.on(STOP, () => {
      this.joined = false;
    });
    consumer.on(CRASH, (e) => {
      this.joined = false;
      this.crashed = errorMessage(e.payload.error);
      opts.logger.error({ err: e.payload.error, restart: e.payload.restart }, 'consumer crashed');
      // kafkajs restarts itself after retriable errors only. After a broker restart it can give
      // up for good (e.g. "Failed to find group coordinator" once its retries are spent), which
      // left the service alive but consuming nothing: start a fresh consumer instead, with backoff.
      if (!e.payload.restart && !this.stopping && consumer === this.consumer) this.scheduleRestart();
    });
    return consumer;
  }

  private scheduleRestart(): void {
    if (this.restartTimer) return;
    const delay = this.restartDelayMs;
    this.restartDelayMs = Math.min(RESTART_MAX_MS, this.restartDelayMs * 2);
    this.opts.logger.error({ groupId: this.opts.groupId, inMs: delay }, CONSUMER_REPLACED_MESSAGE);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      if (this.stopping) return;
      const old = this.consumer;
      this.consumer = this.create();
      this.restarts++;
      void old
        .disconnect()
        .catch(() => undefined)
        .then(() => (this.stopping ? undefined : this.start()))
        .catch((err: unknown) => {
          this.crashed = errorMessage(err);
          this.opts.logger.error({ err: errorMessage(err), groupId: this.opts.groupId }, 'consumer restart failed; trying again');
          this.scheduleRestart();
        });
    }, delay);
    this.restartTimer.unref();
  }

  /** Ready when joined to the group and not crashed. */
  get isReady(): boolean {
    return this.joined && this.crashed === null && !this.stopping;
  }

  async start(): Promise<void> {
    const consumer = this.consumer;
    await consumer.connect();
    for (const topic of this.opts.topics) {
      await consumer.subscribe({ topic, fromBeginning: this.opts.fromBeginning ?? true });
    }
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.opts.partitionsConsumedConcurrently ?? 2,
      eachBatch: (payload) => this.onBatch(payload),
    });
  }

  /**
   * Stops fetching, lets the batches in the handler finish (a handler that checks isActive() gives
   * up), commits what they finished while the group still runs, then leaves the group.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    this.pace?.release();
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = null;
    const timeout = (ms: number) => new Promise<boolean>((r) => setTimeout(() => r(false), ms).unref());
    const limit = this.opts.drainTimeoutMs ?? DRAIN_TIMEOUT_MS;
    if (this.inflight.size > 0) {
      // Fetch nothing more, let the handed batches finish and commit while the group still runs.
      try {
        this.consumer.pause(this.opts.topics.map((topic) => ({ topic })));
      } catch {
        // not running (a replacement consumer not started yet): nothing to pause
      }
      const drained = Promise.allSettled([...this.inflight]).then(() => true);
      if (!(await Promise.race([drained, timeout(limit)]))) {
        this.opts.logger.warn(
          { groupId: this.opts.groupId, batches: this.inflight.size },
          'stopping with batches unfinished; they will be redelivered',
        );
      }
    }
    if (!(await Promise.race([this.committer.flush().then(() => true), timeout(limit)]))) {
      this.opts.logger.warn(
        { groupId: this.opts.groupId, partitions: this.committer.waiting },
        'stopping with offsets uncommitted; those batches will be redelivered',
      );
    }
    await this.consumer.disconnect();
  }

  private async onBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, heartbeat, isRunning, isStale, resolveOffset } = payload;
    if (batch.messages.length === 0) return;
    const { topic, partition } = batch;
    const started = process.hrtime.bigint();
    const messages: ConsumedMessage[] = batch.messages.map((m) => ({
      topic,
      partition,
      offset: m.offset,
      key: m.key ?? null,
      value: m.value ?? null,
      timestamp: m.timestamp,
      headers: toHeaders(m.headers as Record<string, Buffer | string | undefined>),
    }));
    const metrics = this.opts.metrics;
    const group = this.opts.groupId;
    metrics?.consumed.inc({ topic, group }, messages.length);
    metrics?.batchSize.observe({ topic, group }, messages.length);
    const last = batch.lastOffset();
    const lag = Math.max(0, Number(batch.offsetLag()) || 0);
    const next = (BigInt(last) + 1n).toString();
    const finished = () => {
      metrics?.consumerLag.set({ topic, partition: String(partition), group }, lag);
      metrics?.batchSeconds.observe({ topic, group }, Number(process.hrtime.bigint() - started) / 1e9);
    };

    const depth = this.opts.pipelineDepth ?? 0;
    if (depth <= 0) {
      // One batch per partition at a time (kafkajs' own order): marked in offset order. stop()
      // waits for this batch before it commits and leaves; a handler watching isActive() gives up.
      const active = () => isRunning() && !isStale() && !this.stopping;
      const run = this.handle(messages, { topic, partition, heartbeat, isActive: active, lag }, active);
      this.inflight.add(run);
      try {
        if (!(await run)) return;
      } finally {
        this.inflight.delete(run);
      }
      resolveOffset(last);
      this.committer.mark(topic, partition, next);
      finished();
      await this.holdNextFetch(lag);
      return;
    }

    while (this.inflight.size >= depth && !this.stopping) await Promise.race(this.inflight);
    if (this.stopping || !isRunning() || isStale()) return; // not handed: redelivered from the committed offset
    // Handed over: retried until done or stopping, whatever rebalances happen meanwhile.
    const active = () => !this.stopping;
    const handled = this.handle(messages, { topic, partition, heartbeat, isActive: active, lag }, active);
    resolveOffset(last); // kafkajs fetches on; nothing is committed before the output is durable
    const key = partitionKey(topic, partition);
    const previous = this.lanes.get(key) ?? Promise.resolve(true);
    const step = Promise.all([previous, handled]).then(([before, done]) => {
      if (!before || !done) return false; // a gap below: committing past it could lose it
      this.committer.mark(topic, partition, next); // this batch and every earlier one are durable
      finished();
      return true;
    });
    this.lanes.set(key, step);
    this.inflight.add(step);
    void step.finally(() => {
      this.inflight.delete(step);
      if (this.lanes.get(key) === step) this.lanes.delete(key);
    });
    await this.holdNextFetch(lag);
  }

  /**
   * kafkajs fetches again once every batch of the last fetch has returned: a caught-up batch
   * returns no sooner than minFetchIntervalMs after that fetch started, unless a batch of the same
   * fetch left records behind (then none waits) or the consumer stops.
   */
  private async holdNextFetch(lag: number): Promise<void> {
    const interval = this.opts.minFetchIntervalMs ?? 0;
    const pace = this.pace;
    if (interval <= 0 || pace === null) return;
    if (lag > 0) {
      pace.backlog = true;
      pace.release();
      return;
    }
    const wait = pace.startedAt + interval - Date.now();
    if (wait <= 0 || pace.backlog || this.stopping) return;
    this.heldFetches++;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([pace.wake, new Promise<void>((r) => (timer = setTimeout(r, wait)))]);
    clearTimeout(timer);
  }

  /**
   * Runs the handler until it succeeds (true) or `active` turns false (false: nothing to commit).
   */
  private async handle(messages: ConsumedMessage[], ctx: BatchContext, active: () => boolean): Promise<boolean> {
    const { topic, partition, heartbeat } = ctx;
    const metrics = this.opts.metrics;
    let delay = this.opts.retryInitialMs ?? 200;
    const maxDelay = this.opts.retryMaxMs ?? 10_000;
    for (let attempt = 1; ; attempt++) {
      if (!active()) return false; // stopping or rebalanced: leave uncommitted, it will be redelivered
      try {
        await this.opts.handler(messages, ctx);
        return true;
      } catch (err) {
        metrics?.batchRetries.inc({ topic, group: this.opts.groupId });
        this.opts.logger.warn(
          { err: errorMessage(err), topic, partition, firstOffset: messages[0]!.offset, attempt, retryInMs: delay },
          'batch failed; retrying without committing',
        );
        await this.sleepWithHeartbeat(delay, heartbeat, active);
        delay = Math.min(maxDelay, delay * 2);
      }
    }
  }

  private async sleepWithHeartbeat(ms: number, heartbeat: () => Promise<void>, active: () => boolean): Promise<void> {
    const until = Date.now() + ms;
    while (Date.now() < until && active()) {
      await new Promise((r) => setTimeout(r, Math.min(HEARTBEAT_EVERY_MS, until - Date.now(), 250)));
      try {
        await heartbeat();
      } catch {
        return; // rebalance in progress; the loop's active() check ends the attempt
      }
    }
  }
}
