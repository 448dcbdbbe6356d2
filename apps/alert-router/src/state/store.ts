import { defineScripts, type Redis } from '@vigil/redis';
import type { ChannelKind, Notification } from '@vigil/contracts';
import type { AlertSource, GroupState } from '../domain/grouping';
import type { InhibitSource } from '../domain/inhibit';
import type { AlertLabels } from '../domain/labels';
import { SilenceSchema, type Silence } from '../domain/silences';

/**
 * Every key of the router lives under one hash tag, `{alert-router}`: the Lua scripts below touch a
 * group, the due set and the delivery jobs at once, which Redis Cluster allows only within a slot.
 * Alert volume (not event volume) makes one slot enough.
 */
export function routerKeys(prefix: string) {
  const base = `${prefix}{alert-router}:`;
  return {
    group: (key: string) => `${base}group:${key}`,
    /** Sorted set: group key → when the scheduler should flush it (epoch ms; a claim pushes it out by the lease). */
    due: `${base}due`,
    /** Sorted set: notification id → when its next delivery attempt is due. */
    jobs: `${base}jobs`,
    job: (id: string) => `${base}job:${id}`,
    /** Notification log: notification id → how it settled. Keyed by group incarnation, sequence and receiver. */
    nflog: (id: string) => `${base}nflog:${id}`,
    silences: `${base}silences`,
    inhibit: `${base}inhibit`,
  };
}
export type RouterKeys = ReturnType<typeof routerKeys>;

/** A notification waiting to be delivered to one receiver: the durable unit of delivery. */
export interface DeliveryJob {
  /** = notification.notification_id */
  id: string;
  receiver: string;
  channel: ChannelKind;
  notification: Notification;
  /** The last alert that contributed, for the DLQ record. */
  source: AlertSource;
  created_ms: number;
  attempts: number;
  /** Attempts answered "slow down" (429 / Retry-After): they do not count toward the attempt cap. */
  throttled?: number;
  first_attempt_ms: number | null;
  /** Parts already delivered (PagerDuty dedup keys, SMS recipients). */
  done: string[];
  last_status?: number;
  last_error?: string;
  /** Set once the outcome is known; the job is then only waiting for its record to reach Kafka. */
  settled?: { outcome: 'delivered' | 'failed'; at_ms: number; remote_id?: string; dlq_kind?: 'delivery_exhausted' | 'sink_rejected' };
}

export interface StoredGroup {
  /** Optimistic-concurrency version: 0 when the group does not exist. */
  version: number;
  state: GroupState | null;
}

// CAS write of a group and its due time. KEYS: group, due. ARGV: expected version, json, due ms, group key, ttl ms.
const CAS_GROUP = `
local cur = tonumber(redis.call('HGET', KEYS[1], 'v') or '0')
if cur ~= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'v', cur + 1, 's', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4])
return 1`;

// A flush, all or nothing: the group's new state (or its deletion) and one delivery job per receiver.
// KEYS: group, due, jobs, then job key and nflog key for each job.
// ARGV: expected version, json ('' deletes), due ms, group key, ttl ms, now ms, then id and job json for each job.
// A job is created only if neither it nor its notification-log entry exists: a notification is created once.
const COMMIT_FLUSH = `
local cur = tonumber(redis.call('HGET', KEYS[1], 'v') or '0')
if cur ~= tonumber(ARGV[1]) then return -1 end
if ARGV[2] == '' then
  redis.call('DEL', KEYS[1])
  redis.call('ZREM', KEYS[2], ARGV[4])
else
  redis.call('HSET', KEYS[1], 'v', cur + 1, 's', ARGV[2])
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
  redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4])
end
local created = 0
local n = (#KEYS - 3) / 2
for i = 0, n - 1 do
  local jk = KEYS[4 + 2 * i]
  local nk = KEYS[5 + 2 * i]
  if redis.call('EXISTS', jk) == 0 and redis.call('EXISTS', nk) == 0 then
    redis.call('HSET', jk, 's', ARGV[8 + 2 * i])
    redis.call('ZADD', KEYS[3], ARGV[6], ARGV[7 + 2 * i])
    created = created + 1
  end
end
return created`;

// Atomic claim: members due by now are pushed out to the lease end and returned. Two instances
// polling the same set never get the same member within one lease. KEYS: set. ARGV: now, lease end, limit.
const CLAIM = `
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
for _, id in ipairs(ids) do redis.call('ZADD', KEYS[1], ARGV[2], id) end
return ids`;

// Settles a job: records the outcome in the notification log and on the job. KEYS: job, nflog. ARGV: job json, nflog json, ttl ms.
const SETTLE = `
redis.call('HSET', KEYS[1], 's', ARGV[1])
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
return 1`;

// Reschedules a job only if it still exists. KEYS: job, jobs. ARGV: json, at ms, id.
const RESCHEDULE = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 's', ARGV[1])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
return 1`;

// A job and whether its notification log entry exists, read together (one round trip, one moment).
// KEYS: job, nflog. Returns {job json or '', 0 or 1}.
const READ_JOB = `
return {redis.call('HGET', KEYS[1], 's') or '', redis.call('EXISTS', KEYS[2])}`;

type Scripted = Redis & {
  routerCasGroup(k1: string, k2: string, ...args: (string | number)[]): Promise<number>;
  routerCommitFlush(...args: (string | number)[]): Promise<number>;
  routerClaim(k: string, now: number, leaseEnd: number, limit: number): Promise<string[]>;
  routerSettle(k1: string, k2: string, job: string, nflog: string, ttl: number): Promise<number>;
  routerReschedule(k1: string, k2: string, job: string, at: number, id: string): Promise<number>;
  routerReadJob(k1: string, k2: string): Promise<[string, number]>;
};

const SCRIPTS = {
  routerCasGroup: [2, CAS_GROUP],
  routerCommitFlush: [undefined, COMMIT_FLUSH],
  routerClaim: [1, CLAIM],
  routerSettle: [2, SETTLE],
  routerReschedule: [2, RESCHEDULE],
  routerReadJob: [2, READ_JOB],
} as const;

/** A group key is kept at least this long past its due time, as a safety net against leaks. */
const GROUP_TTL_SLACK_MS = 86_400_000;

interface InhibitRecord {
  values: Record<string, string>;
  tags: string[];
  until_ms: number;
}

/** The router's Redis adapter: translation only, the decisions are the domain's. */
export class RouterStore {
  readonly keys: RouterKeys;
  private readonly r: Scripted;

  constructor(
    redis: Redis,
    prefix: string,
    private readonly nflogTtlMs: number,
  ) {
    this.keys = routerKeys(prefix);
    defineScripts(redis, SCRIPTS);
    this.r = redis as Scripted;
  }

  get redis(): Redis {
    return this.r;
  }

  private groupTtl(state: GroupState, nowMs: number): number {
    return Math.max(0, state.due_ms - nowMs) + GROUP_TTL_SLACK_MS;
  }

  async readGroups(keys: readonly string[]): Promise<Map<string, StoredGroup>> {
    const out = new Map<string, StoredGroup>();
    if (keys.length === 0) return out;
    const pipe = this.r.pipeline();
    for (const k of keys) pipe.hmget(this.keys.group(k), 'v', 's');
    const res = (await pipe.exec()) ?? [];
    keys.forEach((k, i) => {
      const [err, val] = res[i] ?? [new Error('no reply'), null];
      if (err) throw err;
      const [v, s] = val as [string | null, string | null];
      out.set(k, { version: v ? Number(v) : 0, state: s ? (JSON.parse(s) as GroupState) : null });
    });
    return out;
  }

  /** Writes groups with compare-and-set; returns the keys whose version moved (to re-read and retry). */
  async casGroups(writes: readonly { version: number; state: GroupState }[], nowMs: number): Promise<Set<string>> {
    const conflicts = new Set<string>();
    if (writes.length === 0) return conflicts;
    const pipe = this.r.pipeline() as unknown as {
      routerCasGroup: (...a: (string | number)[]) => void;
      exec: () => Promise<[Error | null, unknown][] | null>;
    };
    for (const w of writes) {
      pipe.routerCasGroup(
        this.keys.group(w.state.key),
        this.keys.due,
        w.version,
        JSON.stringify(w.state),
        w.state.due_ms,
        w.state.key,
        this.groupTtl(w.state, nowMs),
      );
    }
    const res = (await pipe.exec()) ?? [];
    writes.forEach((w, i) => {
      const [err, val] = res[i] ?? [new Error('no reply'), null];
      if (err) throw err;
      if (Number(val) !== 1) conflicts.add(w.state.key);
    });
    return conflicts;
  }

  /** Commits a flush; null when the group changed since it was read (re-read and decide again). */
  async commitFlush(
    version: number,
    groupKeyValue: string,
    next: GroupState | null,
    jobs: readonly DeliveryJob[],
    nowMs: number,
  ): Promise<number | null> {
    const keys = [this.keys.group(groupKeyValue), this.keys.due, this.keys.jobs];
    const args: (string | number)[] = [
      version,
      next ? JSON.stringify(next) : '',
      next?.due_ms ?? 0,
      groupKeyValue,
      next ? this.groupTtl(next, nowMs) : 0,
      nowMs,
    ];
    for (const j of jobs) {
      keys.push(this.keys.job(j.id), this.keys.nflog(j.id));
      args.push(j.id, JSON.stringify(j));
    }
    const created = await this.r.routerCommitFlush(keys.length, ...keys, ...args);
    return created < 0 ? null : created;
  }

  async removeDue(groupKeyValue: string): Promise<void> {
    await this.r.zrem(this.keys.due, groupKeyValue);
  }

  claimDueGroups(nowMs: number, leaseMs: number, limit: number): Promise<string[]> {
    return this.r.routerClaim(this.keys.due, nowMs, nowMs + leaseMs, limit);
  }

  claimDueJobs(nowMs: number, leaseMs: number, limit: number): Promise<string[]> {
    return this.r.routerClaim(this.keys.jobs, nowMs, nowMs + leaseMs, limit);
  }

  /**
   * A job (null when it is gone) and whether its notification log has an entry, that is whether
   * some instance has settled it.
   */
  async readJob(id: string): Promise<{ job: DeliveryJob | null; logged: boolean }> {
    const [s, logged] = await this.r.routerReadJob(this.keys.job(id), this.keys.nflog(id));
    return { job: s ? (JSON.parse(s) as DeliveryJob) : null, logged: logged === 1 };
  }

  async rescheduleJob(job: DeliveryJob, atMs: number): Promise<void> {
    await this.r.routerReschedule(this.keys.job(job.id), this.keys.jobs, JSON.stringify(job), atMs, job.id);
  }

  async settleJob(job: DeliveryJob): Promise<void> {
    const entry = JSON.stringify({
      outcome: job.settled?.outcome,
      at_ms: job.settled?.at_ms,
      attempts: job.attempts,
      receiver: job.receiver,
    });
    await this.r.routerSettle(this.keys.job(job.id), this.keys.nflog(job.id), JSON.stringify(job), entry, this.nflogTtlMs);
  }

  async finishJob(id: string): Promise<void> {
    await this.r.multi().del(this.keys.job(id)).zrem(this.keys.jobs, id).exec();
  }

  async pendingJobs(): Promise<number> {
    return this.r.zcard(this.keys.jobs);
  }

  async groupCount(): Promise<number> {
    return this.r.zcard(this.keys.due);
  }

  // Silences -------------------------------------------------------------------------------------

  async listSilences(): Promise<Silence[]> {
    const all = await this.r.hvals(this.keys.silences);
    const out: Silence[] = [];
    for (const text of all) {
      const parsed = SilenceSchema.safeParse(JSON.parse(text));
      if (parsed.success) out.push(parsed.data);
    }
    return out;
  }

  async getSilence(id: string): Promise<Silence | null> {
    const text = await this.r.hget(this.keys.silences, id);
    if (!text) return null;
    const parsed = SilenceSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : null;
  }

  /** Stores a silence unless the store already holds `max`. */
  async putSilence(s: Silence, max: number): Promise<boolean> {
    const exists = await this.r.hexists(this.keys.silences, s.id);
    if (!exists && (await this.r.hlen(this.keys.silences)) >= max) return false;
    await this.r.hset(this.keys.silences, s.id, JSON.stringify(s));
    return true;
  }

  async deleteSilences(ids: readonly string[]): Promise<void> {
    if (ids.length > 0) await this.r.hdel(this.keys.silences, ...ids);
  }

  // Inhibition sources ---------------------------------------------------------------------------

  /** Remembers alerts that can inhibit others, until they stop firing (the latest end wins). */
  async recordInhibitSources(entries: readonly { dedupKey: string; labels: AlertLabels; untilMs: number }[]): Promise<void> {
    if (entries.length === 0) return;
    const existing = await this.r.hmget(this.keys.inhibit, ...entries.map((e) => e.dedupKey));
    const args: string[] = [];
    entries.forEach((e, i) => {
      const prev = existing[i] ? (JSON.parse(existing[i]!) as InhibitRecord) : null;
      const rec: InhibitRecord = {
        values: { ...e.labels.values },
        tags: [...e.labels.tags],
        until_ms: Math.max(prev?.until_ms ?? 0, e.untilMs),
      };
      args.push(e.dedupKey, JSON.stringify(rec));
    });
    await this.r.hset(this.keys.inhibit, ...args);
  }

  /** The sources still firing at `nowMs`; ended ones are removed on the way. */
  async inhibitSources(nowMs: number): Promise<InhibitSource[]> {
    const all = await this.r.hgetall(this.keys.inhibit);
    const out: InhibitSource[] = [];
    const ended: string[] = [];
    for (const [dedupKey, text] of Object.entries(all)) {
      const rec = JSON.parse(text) as InhibitRecord;
      if (rec.until_ms <= nowMs) ended.push(dedupKey);
      else out.push({ dedupKey, labels: { values: rec.values, tags: rec.tags } });
    }
    if (ended.length > 0) await this.r.hdel(this.keys.inhibit, ...ended);
    return out;
  }
}
