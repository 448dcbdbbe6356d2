import type { Redis, Result } from 'ioredis';
import { RetriableError, errorMessage } from '@vigil/kafka';
import {
  DEFAULT_WINDOW_LIMITS,
  type EventStatus,
  type FireRecord,
  type KeyCall,
  type KeyResult,
  type WindowLimits,
} from '../domain/window';
import type { PublishedRef, WindowStore } from '../engine';
import { MARK_PUBLISHED_LUA, WINDOW_LUA } from './window.lua';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    vigilCorrelationWindow(w: string, h: string, ...argv: Array<string | number>): Result<unknown, Context>;
    vigilCorrelationMark(h: string, ...eventIds: string[]): Result<unknown, Context>;
  }
}

const STATUS: Record<string, EventStatus> = { a: 'accepted', d: 'duplicate', l: 'late', r: 'refire' };
const KIND: Record<KeyCall['params']['kind'], string> = { threshold: 't', distinct_count: 'd', sequence: 's' };

/**
 * Redis keys of one window. The `{...}` hash tag holds rule id, rule fingerprint and group id,
 * so all keys of a window live in one Redis Cluster slot (a Lua script may only touch one slot).
 */
export function windowKeys(prefix: string, key: string): { w: string; h: string } {
  const base = `${prefix}corr:{${key}}`;
  return { w: `${base}:w`, h: `${base}:h` };
}

/** Parses a firing record written by the script (cjson writes an empty list as {}). */
export function parseFireRecord(text: string): FireRecord {
  const r = JSON.parse(text) as FireRecord;
  if (!Array.isArray(r.s)) r.s = [];
  return r;
}

/**
 * The window store on Redis: every KeyCall of a batch is one EVALSHA of the window script, all of
 * them sent as one pipeline (one round trip per batch). A Redis error anywhere fails the whole
 * batch with a RetriableError: the consumer retries it uncommitted, and because event ids are
 * window members, the calls that did succeed count nothing twice on the retry.
 */
export class RedisWindowStore implements WindowStore {
  private trips = 0;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly limits: WindowLimits = DEFAULT_WINDOW_LIMITS,
  ) {
    if (typeof (redis as Partial<Redis>).vigilCorrelationWindow !== 'function') {
      redis.defineCommand('vigilCorrelationWindow', { numberOfKeys: 2, lua: WINDOW_LUA });
      redis.defineCommand('vigilCorrelationMark', { numberOfKeys: 1, lua: MARK_PUBLISHED_LUA });
    }
  }

  /** Redis round trips so far (pipelines sent). */
  get roundTrips(): number {
    return this.trips;
  }

  async apply(calls: readonly KeyCall[], nowMs: number): Promise<KeyResult[]> {
    if (calls.length === 0) return [];
    const lim = this.limits;
    const pipe = this.redis.pipeline();
    for (const c of calls) {
      const p = c.params;
      const k = windowKeys(this.prefix, c.key);
      const argv: Array<string | number> = [
        nowMs,
        KIND[p.kind],
        p.windowMs,
        p.latenessMs,
        p.suppressMs,
        p.threshold,
        p.ordered ? 1 : 0,
        p.stepCounts.join(','),
        p.ttlMs,
        lim.memberCap,
        lim.scanCap,
        lim.candidateCap,
        lim.fireRecords,
        lim.samples,
        lim.ttlRefreshMs,
      ];
      for (const e of c.events) argv.push(e.eventId, e.ts, e.partition, e.member, e.sample);
      pipe.vigilCorrelationWindow(k.w, k.h, ...argv);
    }
    const replies = await this.exec(pipe);
    return replies.map((reply, i) => this.parse(reply, calls[i]!));
  }

  async markPublished(refs: readonly PublishedRef[]): Promise<void> {
    if (refs.length === 0) return;
    const byKey = new Map<string, string[]>();
    for (const r of refs) {
      const list = byKey.get(r.key) ?? [];
      list.push(r.eventId);
      byKey.set(r.key, list);
    }
    const pipe = this.redis.pipeline();
    for (const [key, ids] of byKey) pipe.vigilCorrelationMark(windowKeys(this.prefix, key).h, ...ids);
    await this.exec(pipe);
  }

  private async exec(pipe: ReturnType<Redis['pipeline']>): Promise<unknown[]> {
    this.trips++;
    let res: Array<[Error | null, unknown]> | null;
    try {
      res = await pipe.exec();
    } catch (err) {
      throw new RetriableError(`redis pipeline failed: ${errorMessage(err)}`, { cause: err });
    }
    if (!res) throw new RetriableError('redis pipeline was discarded');
    return res.map(([err, value]) => {
      if (err) throw new RetriableError(`redis window update failed: ${err.message}`, { cause: err });
      return value;
    });
  }

  private parse(reply: unknown, call: KeyCall): KeyResult {
    if (!Array.isArray(reply) || typeof reply[0] !== 'string' || reply[0].length !== call.events.length) {
      throw new RetriableError('redis window script returned an unexpected reply');
    }
    const statuses = [...reply[0]].map((c) => STATUS[c] ?? 'duplicate');
    const fires: Array<FireRecord | null> = statuses.map(() => null);
    for (let i = 1; i + 1 < reply.length; i += 2) fires[Number(reply[i])] = parseFireRecord(String(reply[i + 1]));
    return { statuses, fires };
  }
}
