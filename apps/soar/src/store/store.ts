import { defineScripts, type Redis } from '@vigil/redis';
import type { Run, UndoTask } from '../domain/run';

/**
 * Everything SOAR keeps, in Redis, so that any responder can pick up any run after a restart or a
 * crash: runs (versioned, compare-and-set), the work queue (a sorted set of due times with leases),
 * action idempotency records, scheduled undos, offence history, and short lists for the console.
 *
 * Keys (under REDIS_KEY_PREFIX + "soar:"): run:<id> (hash v, data), runs:recent, approvals:pending,
 * work, act:<alert>|<action>|<target>|<connector>, undo:<key>, undos, undos:failed,
 * offences:<action>|<target>, recent:alerts, recent:actions.
 */
export interface StoreOptions {
  prefix: string;
  runRetentionMs: number;
  idempotencyTtlMs: number;
  offenderWindowMs: number;
  /** Entries kept in each console list. */
  recentMax?: number;
}

export type ClaimState = 'acquired' | 'done' | 'busy' | 'failed';

/** An action's idempotency record: claimed by one run with a lease, then done or failed. */
export interface ActionRecord {
  state: 'claimed' | 'done' | 'failed';
  /** The run that claimed it. */
  owner: string;
  /** The responder instance holding the claim: another instance waits for the lease. */
  claimer?: string;
  lease_until?: number;
  retriable?: boolean;
  summary?: string;
  error?: string;
  at: number;
}

const CLAIM_DUE = `
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, m in ipairs(due) do redis.call('ZADD', KEYS[1], ARGV[3], m) end
return due`;

// Finish a claimed work item: only if our lease is still the score (nobody re-enqueued or took over).
const FINISH = `
local s = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not s or tonumber(s) ~= tonumber(ARGV[2]) then return 0 end
if ARGV[3] == '' then redis.call('ZREM', KEYS[1], ARGV[1]) else redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1]) end
return 1`;

const CREATE_RUN = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'v', '1', 'data', ARGV[1], 'outbox', ARGV[6])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4])
redis.call('ZADD', KEYS[3], 'LT', ARGV[3], ARGV[5])
return 1`;

// Compare-and-set on the run's version; keeps the recent and pending-approval indexes in step.
const SAVE_RUN = `
local v = redis.call('HGET', KEYS[1], 'v')
if not v or tonumber(v) ~= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'v', tostring(tonumber(v) + 1), 'data', ARGV[2], 'outbox', ARGV[8])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[5])
local n = redis.call('ZCARD', KEYS[2])
if n > tonumber(ARGV[7]) then redis.call('ZREMRANGEBYRANK', KEYS[2], 0, n - tonumber(ARGV[7]) - 1) end
if ARGV[6] ~= '' then redis.call('ZADD', KEYS[3], ARGV[6], ARGV[5]) else redis.call('ZREM', KEYS[3], ARGV[5]) end
return 1`;

// The action state machine: absent → claimed → done | failed. A claim whose lease ran out (crashed
// runner) or a retriable failure may be claimed again; done and permanent failures are final.
const CLAIM_ACTION = `
local cur = redis.call('GET', KEYS[1])
if cur then
  local r = cjson.decode(cur)
  if r.state == 'done' then return {'done', cur} end
  if r.state == 'failed' and not r.retriable then return {'failed', cur} end
  if r.state == 'claimed' and r.claimer ~= ARGV[3] and tonumber(r.lease_until) > tonumber(ARGV[2]) then return {'busy', cur} end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[4])
return {'acquired', ''}`;

const SCHEDULE_UNDO = `
local cur = redis.call('GET', KEYS[1])
if cur and tonumber(cjson.decode(cur).due_at) > tonumber(ARGV[2]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[4])
return 1`;

// Removes an undo only if it is still the one that ran (a newer block may have moved it later).
const COMPLETE_UNDO = `
local cur = redis.call('GET', KEYS[1])
if not cur then return 0 end
if tonumber(cjson.decode(cur).due_at) ~= tonumber(ARGV[1]) then return 0 end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[2])
return 1`;

const CLEAR_OUTBOX = `
local v = redis.call('HGET', KEYS[1], 'v')
if not v or tonumber(v) ~= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'outbox', '[]')
return 1`;

const OFFENCES = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[2]) - tonumber(ARGV[3]))
local mine = redis.call('ZSCORE', KEYS[1], ARGV[1])
local n = redis.call('ZCARD', KEYS[1])
if mine then n = n - 1 end
redis.call('ZADD', KEYS[1], 'NX', ARGV[2], ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return n`;

/** The scripts as ioredis commands (EVALSHA; see defineScripts in @vigil/redis). */
const SCRIPTS = {
  soarClaimDue: [1, CLAIM_DUE],
  soarFinish: [1, FINISH],
  soarCreateRun: [3, CREATE_RUN],
  soarSaveRun: [3, SAVE_RUN],
  soarClaimAction: [1, CLAIM_ACTION],
  soarScheduleUndo: [3, SCHEDULE_UNDO],
  soarCompleteUndo: [2, COMPLETE_UNDO],
  soarClearOutbox: [1, CLEAR_OUTBOX],
  soarOffences: [1, OFFENCES],
} as const;

type Scripted = Record<keyof typeof SCRIPTS, (...keysAndArgs: Array<string | number>) => Promise<unknown>>;

export interface StoredRun {
  version: number;
  run: Run;
  /** Audit records saved with this version and not yet confirmed on the topic. */
  outbox: unknown[];
}

export const RUN_MEMBER = 'r:';
export const UNDO_MEMBER = 'u:';

export class SoarStore {
  private readonly p: string;
  private readonly recentMax: number;
  private readonly scripts: Scripted;

  constructor(
    readonly redis: Redis,
    private readonly opts: StoreOptions,
  ) {
    this.p = `${opts.prefix}soar:`;
    defineScripts(redis, SCRIPTS);
    this.scripts = redis as unknown as Scripted;
    this.recentMax = opts.recentMax ?? 200;
  }

  key(...parts: string[]): string {
    return this.p + parts.join(':');
  }

  // --- work queue -------------------------------------------------------------------------------

  /** Makes a work item due at `dueMs`, or earlier if it already is (ZADD LT). */
  async enqueue(member: string, dueMs: number): Promise<void> {
    await this.redis.zadd(this.key('work'), 'LT', dueMs, member);
  }

  /** Atomically takes up to `limit` due items, leasing each until `leaseUntil`. */
  async claimDue(now: number, limit: number, leaseUntil: number): Promise<string[]> {
    return (await this.scripts.soarClaimDue(this.key('work'), now, limit, leaseUntil)) as string[];
  }

  /** Ends our lease on an item: drop it (`next` null) or schedule it again. False if someone else moved it. */
  async finish(member: string, leaseUntil: number, next: number | null): Promise<boolean> {
    return (await this.scripts.soarFinish(this.key('work'), member, leaseUntil, next === null ? '' : next)) === 1;
  }

  async dueAt(member: string): Promise<number | null> {
    const s = await this.redis.zscore(this.key('work'), member);
    return s === null ? null : Number(s);
  }

  // --- runs -------------------------------------------------------------------------------------

  /**
   * Creates the run once (a redelivered alert finds it there) and queues it. True when created now.
   * `outbox` holds audit records saved with the state and published after it (transactional outbox).
   */
  async createRun(run: Run, outbox: readonly unknown[]): Promise<boolean> {
    const created = await this.scripts.soarCreateRun(
      this.key('run', run.run_id),
      this.key('runs:recent'),
      this.key('work'),
      JSON.stringify(run),
      this.opts.runRetentionMs,
      run.created_at,
      run.run_id,
      RUN_MEMBER + run.run_id,
      JSON.stringify(outbox),
    );
    return created === 1;
  }

  async getRun(runId: string): Promise<StoredRun | null> {
    const [v, data, outbox] = await this.redis.hmget(this.key('run', runId), 'v', 'data', 'outbox');
    if (!v || !data) return null;
    return { version: Number(v), run: JSON.parse(data) as Run, outbox: outbox ? (JSON.parse(outbox) as unknown[]) : [] };
  }

  /** Empties the outbox once its records are on the topic, if the run is still at `version`. */
  async clearOutbox(runId: string, version: number): Promise<boolean> {
    return (await this.scripts.soarClearOutbox(this.key('run', runId), version)) === 1;
  }

  /** Saves the run and its outbox if nobody changed the run since `version` was read. */
  async saveRun(run: Run, version: number, outbox: readonly unknown[]): Promise<boolean> {
    const pendingUntil = run.status === 'awaiting_approval' && run.approval ? String(run.approval.expires_at) : '';
    const r = await this.scripts.soarSaveRun(
      this.key('run', run.run_id),
      this.key('runs:recent'),
      this.key('approvals:pending'),
      version,
      JSON.stringify(run),
      this.opts.runRetentionMs,
      run.updated_at,
      run.run_id,
      pendingUntil,
      1000,
      JSON.stringify(outbox),
    );
    return r === 1;
  }

  private async runsByIds(ids: string[]): Promise<Run[]> {
    if (ids.length === 0) return [];
    const pipe = this.redis.pipeline();
    for (const id of ids) pipe.hget(this.key('run', id), 'data');
    const res = (await pipe.exec()) ?? [];
    return res.map(([, v]) => (typeof v === 'string' ? (JSON.parse(v) as Run) : null)).filter((r): r is Run => r !== null);
  }

  async recentRuns(limit: number): Promise<Run[]> {
    return this.runsByIds(await this.redis.zrevrange(this.key('runs:recent'), 0, limit - 1));
  }

  /** Runs awaiting an approval that has not expired yet, soonest expiry first. */
  async pendingApprovals(now: number, limit: number): Promise<Run[]> {
    const ids = await this.redis.zrangebyscore(this.key('approvals:pending'), `(${now}`, '+inf', 'LIMIT', 0, limit);
    return (await this.runsByIds(ids)).filter((r) => r.status === 'awaiting_approval');
  }

  // --- action idempotency -------------------------------------------------------------------------

  actionKey(alertId: string, action: string, target: string, connector: string): string {
    return this.key('act', `${alertId}|${action}|${target}|${connector}`);
  }

  async claimAction(
    key: string,
    owner: string,
    claimer: string,
    now: number,
    leaseMs: number,
  ): Promise<{ state: ClaimState; record?: ActionRecord }> {
    const rec: ActionRecord = { state: 'claimed', owner, claimer, lease_until: now + leaseMs, at: now };
    const [state, cur] = (await this.scripts.soarClaimAction(key, JSON.stringify(rec), now, claimer, this.opts.idempotencyTtlMs)) as [
      ClaimState,
      string,
    ];
    return { state, ...(cur ? { record: JSON.parse(cur) as ActionRecord } : {}) };
  }

  async settleAction(key: string, rec: ActionRecord): Promise<void> {
    await this.redis.set(key, JSON.stringify(rec), 'PX', this.opts.idempotencyTtlMs);
  }

  // --- undo -------------------------------------------------------------------------------------

  /** Schedules the undo unless one for the same target is already due later. True when scheduled. */
  async scheduleUndo(task: UndoTask): Promise<boolean> {
    const r = await this.scripts.soarScheduleUndo(
      this.key('undo', task.key),
      this.key('undos'),
      this.key('work'),
      JSON.stringify(task),
      task.due_at,
      task.key,
      UNDO_MEMBER + task.key,
    );
    return r === 1;
  }

  async getUndo(key: string): Promise<UndoTask | null> {
    const v = await this.redis.get(this.key('undo', key));
    return v ? (JSON.parse(v) as UndoTask) : null;
  }

  async completeUndo(task: UndoTask): Promise<boolean> {
    return (await this.scripts.soarCompleteUndo(this.key('undo', task.key), this.key('undos'), task.due_at, task.key)) === 1;
  }

  /** A retry of a failed undo: same record, later due time. */
  async retryUndo(task: UndoTask): Promise<void> {
    await this.redis
      .multi()
      .set(this.key('undo', task.key), JSON.stringify(task))
      .zadd(this.key('undos'), task.due_at, task.key)
      .zadd(this.key('work'), task.due_at, UNDO_MEMBER + task.key)
      .exec();
  }

  /** Gives up on an undo: off the schedule, onto the failed list the console shows. */
  async failUndo(task: UndoTask, error: string, now: number): Promise<void> {
    await this.redis
      .multi()
      .del(this.key('undo', task.key))
      .zrem(this.key('undos'), task.key)
      .lpush(this.key('undos:failed'), JSON.stringify({ ...task, error, failed_at: now }))
      .ltrim(this.key('undos:failed'), 0, this.recentMax - 1)
      .exec();
  }

  async scheduledUndos(limit: number): Promise<UndoTask[]> {
    const keys = await this.redis.zrange(this.key('undos'), 0, limit - 1);
    if (keys.length === 0) return [];
    const vals = await this.redis.mget(keys.map((k) => this.key('undo', k)));
    return vals.filter((v): v is string => v !== null).map((v) => JSON.parse(v) as UndoTask);
  }

  async failedUndos(limit: number): Promise<unknown[]> {
    return (await this.redis.lrange(this.key('undos:failed'), 0, limit - 1)).map((v) => JSON.parse(v) as unknown);
  }

  // --- repeat offenders -------------------------------------------------------------------------

  /** Records this alert as an offence by the target and returns how many other offences the window holds. */
  async priorOffences(action: string, target: string, alertId: string, now: number): Promise<number> {
    return Number(await this.scripts.soarOffences(this.key('offences', `${action}|${target}`), alertId, now, this.opts.offenderWindowMs));
  }

  // --- console lists ----------------------------------------------------------------------------

  async pushRecent(list: 'alerts' | 'actions', item: unknown): Promise<void> {
    const k = this.key('recent', list);
    await this.redis
      .multi()
      .lpush(k, JSON.stringify(item))
      .ltrim(k, 0, this.recentMax - 1)
      .exec();
  }

  async recent(list: 'alerts' | 'actions', limit: number): Promise<unknown[]> {
    return (await this.redis.lrange(this.key('recent', list), 0, limit - 1)).map((v) => JSON.parse(v) as unknown);
  }
}
