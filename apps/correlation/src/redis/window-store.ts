import type { Cluster, Redis, Result } from 'ioredis';
import { RetriableError, errorMessage } from '@vigil/kafka';
import { defineScripts } from '@vigil/redis';
import {
  DEFAULT_WINDOW_LIMITS,
  type EventStatus,
  type FireRecord,
  type KeyCall,
  type KeyResult,
  type WindowLimits,
  type WindowParams,
} from '../domain/window';
import type { PublishedRef, WindowStore } from '../engine';
import { packFlatArray } from './msgpack';
import { MARK_BATCH_LUA, WINDOW_BATCH_LUA } from './window.lua';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    vigilCorrelationWindows(numKeys: number, ...keysAndArgs: Array<string | number | Buffer>): Result<unknown, Context>;
    vigilCorrelationMarks(numKeys: number, ...keysAndArgs: Array<string | number | Buffer>): Result<unknown, Context>;
  }
}

const STATUS: Record<string, EventStatus> = { a: 'accepted', d: 'duplicate', l: 'late', r: 'refire' };
const KIND: Record<WindowParams['kind'], string> = { threshold: 't', distinct_count: 'd', sequence: 's' };

/** How the store packs work into script calls; none of it changes what a window does. */
export interface RedisWindowStoreOptions {
  /**
   * Most windows one script call updates. All calls of a batch still travel in one round trip;
   * this bounds how long one call holds Redis (about 35 µs per window here, so under 2 ms at 50),
   * during which every other client of that Redis waits. From 20 to 1000 windows per call the
   * throughput did not measurably change; PING latency during a run was 2 ms on average at 20,
   * 2.6-4 ms at 100 (0.2 ms idle).
   */
  readonly windowsPerCall: number;
  /**
   * Members a window keeps inside its state; beyond that they move to a sorted set. Inline, a
   * window costs two commands per batch but every member is unpacked and packed again (about
   * 1 µs of Redis per member here); in a sorted set it costs a command or two more per event
   * but the same whatever its size. Measured per one-event update: equal up to about 4 members,
   * inline 6 µs dearer at 8 and 2-3x dearer from 32; a new window saves creating the sorted set.
   * Over the correlation bench's batches (windows of 10-20 events, several events per window per
   * batch) 16 spent the least Redis CPU, in interleaved runs (2026-12-07): 8 → 40-42 µs per event,
   * 12 → 37-40, 16 → 36-38, 24 → 35-37 (and 74-77, 64-68, 69-70 at 8, 16, 32 on a busier day).
   */
  readonly inlineMembers: number;
}

export const DEFAULT_STORE_OPTIONS: RedisWindowStoreOptions = {
  windowsPerCall: 50,
  inlineMembers: 16,
};

/**
 * Redis keys of one window: `h` its state, samples and firings (a hash), `z` its members once they
 * outgrew the state (a sorted set). The `{...}` hash tag holds rule id, rule fingerprint and group
 * id, so all keys of a window live in one Redis Cluster slot (a Lua script may only touch one
 * slot). The names differ from the per-window script's (`:w`, `:h` before): windows written by
 * an older version are not read, they expire.
 */
export function windowKeys(prefix: string, key: string): { h: string; z: string } {
  const base = `${prefix}corr:{${key}}`;
  return { h: `${base}:st`, z: `${base}:z` }; // also spelled out in encode()
}

/** Parses a firing record written by the script (cjson writes an empty list as {}). */
export function parseFireRecord(text: string): FireRecord {
  const r = JSON.parse(text) as FireRecord;
  if (!Array.isArray(r.s)) r.s = [];
  return r;
}

const paramsKeys = new WeakMap<WindowParams, string>();

/** Identifies equal window parameters (windowParams() shares one object per rule, so it is cached). */
function paramsKey(p: WindowParams): string {
  let k = paramsKeys.get(p);
  if (k === undefined) {
    k = `${p.kind}|${p.windowMs}|${p.latenessMs}|${p.suppressMs}|${p.threshold}|${p.ordered ? 1 : 0}|${p.stepCounts.join(',')}|${p.ttlMs}`;
    paramsKeys.set(p, k);
  }
  return k;
}

/**
 * The window store on Redis. A batch's windows are updated by as few script calls as Redis allows:
 * on a single Redis, one call per `windowsPerCall` windows, all in one pipeline (one round trip);
 * on Redis Cluster, where a script may only touch one slot, one call per window, sent concurrently.
 * A Redis error anywhere fails the whole batch with a RetriableError: the consumer retries it
 * uncommitted, and because event ids are window members, the calls that did succeed count nothing
 * twice on the retry.
 */
export class RedisWindowStore implements WindowStore {
  private trips = 0;
  private readonly cluster: boolean;
  private readonly options: RedisWindowStoreOptions;

  constructor(
    private readonly redis: Redis | Cluster,
    private readonly prefix: string,
    private readonly limits: WindowLimits = DEFAULT_WINDOW_LIMITS,
    options: Partial<RedisWindowStoreOptions> = {},
  ) {
    this.options = { ...DEFAULT_STORE_OPTIONS, ...options };
    this.cluster = redis.isCluster;
    defineScripts(redis, { vigilCorrelationWindows: [undefined, WINDOW_BATCH_LUA], vigilCorrelationMarks: [undefined, MARK_BATCH_LUA] });
  }

  /** Redis round trips so far (pipelines, or rounds of concurrent calls on a cluster). */
  get roundTrips(): number {
    return this.trips;
  }

  async apply(calls: readonly KeyCall[], nowMs: number): Promise<KeyResult[]> {
    if (calls.length === 0) return [];
    const per = this.cluster ? 1 : Math.max(1, this.options.windowsPerCall);
    const chunks: Array<readonly KeyCall[]> = [];
    for (let i = 0; i < calls.length; i += per) chunks.push(calls.slice(i, i + per));
    const replies = await this.send(
      chunks.map((c) => this.encode(c, nowMs)),
      'vigilCorrelationWindows',
    );
    const results: KeyResult[] = [];
    replies.forEach((reply, i) => results.push(...this.parse(reply, chunks[i]!)));
    return results;
  }

  async markPublished(refs: readonly PublishedRef[]): Promise<void> {
    if (refs.length === 0) return;
    const byKey = new Map<string, string[]>();
    for (const r of refs) {
      const list = byKey.get(r.key);
      if (list) list.push(r.eventId);
      else byKey.set(r.key, [r.eventId]);
    }
    const entries = [...byKey];
    const per = this.cluster ? 1 : 500;
    const commands: Array<Array<string | number>> = [];
    for (let i = 0; i < entries.length; i += per) {
      const chunk = entries.slice(i, i + per);
      const keys = chunk.map(([key]) => windowKeys(this.prefix, key).h);
      const argv: Array<string | number> = [];
      for (const [, ids] of chunk) argv.push(ids.length, ...ids);
      commands.push([keys.length, ...keys, ...argv]);
    }
    await this.send(commands, 'vigilCorrelationMarks');
  }

  /** One script call's arguments: numkeys, keys, then the ARGV layout in window.lua.ts. */
  private encode(chunk: readonly KeyCall[], nowMs: number): Array<string | number | Buffer> {
    const lim = this.limits;
    const keys: string[] = [];
    const rules = new Map<string, number>();
    const ruleArgs: Array<string | number> = [];
    // Keyed by the bytes object itself: an event's windows all share its one sample.
    const samples = new Map<Uint8Array, number>();
    const sampleArgs: Uint8Array[] = [];
    const windowArgs: Array<string | number> = [];
    for (const c of chunk) {
      const base = `${this.prefix}corr:{${c.key}}`;
      keys.push(`${base}:st`, `${base}:z`); // windowKeys(), inlined: this runs per window
      const p = c.params;
      const pk = paramsKey(p);
      let r = rules.get(pk);
      if (r === undefined) {
        r = rules.size + 1;
        rules.set(pk, r);
        ruleArgs.push(
          KIND[p.kind],
          p.windowMs,
          p.latenessMs,
          p.suppressMs,
          p.threshold,
          p.ordered ? '1' : '0',
          p.stepCounts.join(','),
          p.ttlMs,
        );
      }
      windowArgs.push(r, c.events.length);
      for (const e of c.events) {
        // An event updating several windows travels once: windows refer to its sample by index.
        let s = samples.get(e.sample);
        if (s === undefined) {
          s = samples.size + 1;
          samples.set(e.sample, s);
          sampleArgs.push(e.sample);
        }
        windowArgs.push(e.eventId, e.ts, String(e.partition), e.member, s); // partition: a string key in Lua
      }
    }
    const head = [
      keys.length,
      nowMs,
      lim.memberCap,
      lim.scanCap,
      lim.candidateCap,
      lim.fireRecords,
      lim.samples,
      lim.ttlRefreshMs,
      this.options.inlineMembers,
      rules.size,
    ];
    // numkeys, keys, then ARGV[1]: head (now .. rule count), rules, sample count, samples, windows.
    const argv = packFlatArray([...head.slice(1), ...ruleArgs, sampleArgs.length, ...sampleArgs, ...windowArgs]);
    return [head[0]!, ...keys, argv];
  }

  /**
   * Sends the calls: one pipeline on a single Redis; concurrently on a cluster (ioredis routes
   * each call to its slot's node). Counts one round trip either way.
   */
  private async send(
    commands: Array<Array<string | number | Buffer>>,
    name: 'vigilCorrelationWindows' | 'vigilCorrelationMarks',
  ): Promise<unknown[]> {
    this.trips++;
    let res: Array<[Error | null, unknown]>;
    try {
      if (this.cluster) {
        res = await Promise.all(
          commands.map(([n, ...rest]) =>
            this.redis[name](n as number, ...rest).then(
              (v): [Error | null, unknown] => [null, v],
              (err: unknown): [Error | null, unknown] => [err instanceof Error ? err : new Error(String(err)), null],
            ),
          ),
        );
      } else {
        const pipe = this.redis.pipeline();
        for (const [n, ...rest] of commands) pipe[name](n as number, ...rest);
        const out = await pipe.exec();
        if (!out) throw new RetriableError('redis pipeline was discarded');
        res = out;
      }
    } catch (err) {
      if (err instanceof RetriableError) throw err;
      throw new RetriableError(`redis pipeline failed: ${errorMessage(err)}`, { cause: err });
    }
    return res.map(([err, value]) => {
      if (err) throw new RetriableError(`redis window update failed: ${err.message}`, { cause: err });
      return value;
    });
  }

  private parse(reply: unknown, chunk: readonly KeyCall[]): KeyResult[] {
    const n = chunk.length;
    if (!Array.isArray(reply) || reply.length < n || (reply.length - n) % 3 !== 0) {
      throw new RetriableError('redis window script returned an unexpected reply');
    }
    const results: KeyResult[] = chunk.map((c, w) => {
      const text = reply[w] as unknown;
      if (typeof text !== 'string' || text.length !== c.events.length) {
        throw new RetriableError('redis window script returned an unexpected reply');
      }
      const statuses: EventStatus[] = [];
      for (let i = 0; i < text.length; i++) statuses.push(STATUS[text[i]!] ?? 'duplicate');
      return { statuses, fires: statuses.map(() => null) };
    });
    for (let i = n; i + 2 < reply.length; i += 3) {
      const r = results[Number(reply[i])];
      const e = Number(reply[i + 1]);
      if (!r || !(e >= 0 && e < r.fires.length)) throw new RetriableError('redis window script returned an unexpected reply');
      r.fires[e] = parseFireRecord(String(reply[i + 2]));
    }
    return results;
  }
}
