import { BlockList, isIP } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * The deny-list SOAR writes and applications read: a Redis sorted set whose members are IP
 * addresses or CIDRs (canonical text, e.g. "203.0.113.7" or "198.51.100.0/24") and whose scores
 * are the epoch milliseconds at which the block ends ("+inf" for no end).
 */
export const DEFAULT_DENYLIST_KEY = 'vigil:denylist';

/** The one Redis call the reader needs; an ioredis client fits. */
export interface DenyListRedis {
  zrangebyscore(
    key: string,
    min: number | string,
    max: number | string,
    withScores: 'WITHSCORES',
    limit: 'LIMIT',
    offset: number,
    count: number,
  ): Promise<string[]>;
}

export interface DenyListOptions {
  redis: DenyListRedis;
  key?: string;
  /** How often the cached list is reloaded. */
  refreshMs?: number; // default 5 s
  /** Most entries held; beyond it the newest-expiring ones are ignored (and counted). */
  maxEntries?: number; // default 100 000
  /** Answer "blocked" while the list has never loaded (Redis down at start). Default false: fail open. */
  failClosed?: boolean;
  /** Clock, injectable for tests. */
  now?: () => number;
  onError?: (err: Error) => void;
}

export interface DenyListStats {
  entries: number;
  loads: number;
  loadErrors: number;
  truncated: boolean;
  loadedAt: number | null;
}

/**
 * A cached, periodically refreshed view of the deny-list. `isBlocked` is synchronous and never
 * throws, so it can sit in a request path; a Redis outage keeps the last good list.
 */
export class DenyList {
  private list = new BlockList();
  private nextExpiry = Infinity;
  private timer: NodeJS.Timeout | null = null;
  private loading: Promise<void> | null = null;
  private readonly opts: Required<Omit<DenyListOptions, 'onError'>> & Pick<DenyListOptions, 'onError'>;
  private readonly counts: DenyListStats = { entries: 0, loads: 0, loadErrors: 0, truncated: false, loadedAt: null };

  constructor(options: DenyListOptions) {
    this.opts = {
      key: DEFAULT_DENYLIST_KEY,
      refreshMs: 5_000,
      maxEntries: 100_000,
      failClosed: false,
      now: Date.now,
      ...options,
    };
  }

  get stats(): DenyListStats {
    return { ...this.counts };
  }

  /** Loads once now, then every `refreshMs` in the background (the timer does not hold the process). */
  async start(): Promise<void> {
    await this.refresh();
    if (!this.timer) {
      this.timer = setInterval(() => void this.refresh(), this.opts.refreshMs);
      this.timer.unref();
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Reloads the list; on error the previous list stays in force. */
  refresh(): Promise<void> {
    if (!this.loading) this.loading = this.load().finally(() => (this.loading = null));
    return this.loading;
  }

  /** True when the address falls in a listed, unexpired entry. Unparseable input is not blocked. */
  isBlocked(ip: string): boolean {
    if (this.counts.loadedAt === null) return this.opts.failClosed;
    // An entry expired since the last load: reload now; until it lands, the last answer stands.
    if (this.opts.now() >= this.nextExpiry) void this.refresh();
    const addr = normalise(ip);
    if (!addr) return false;
    return this.list.check(addr.address, addr.family === 4 ? 'ipv4' : 'ipv6');
  }

  private async load(): Promise<void> {
    try {
      const now = this.opts.now();
      const flat = await this.opts.redis.zrangebyscore(
        this.opts.key,
        `(${now}`,
        '+inf',
        'WITHSCORES',
        'LIMIT',
        0,
        this.opts.maxEntries + 1,
      );
      const list = new BlockList();
      let entries = 0;
      let nextExpiry = Infinity;
      for (let i = 0; i + 1 < flat.length && entries < this.opts.maxEntries; i += 2) {
        if (addEntry(list, flat[i]!)) entries++;
        const score = Number(flat[i + 1]);
        if (Number.isFinite(score)) nextExpiry = Math.min(nextExpiry, score);
      }
      this.list = list;
      this.nextExpiry = nextExpiry;
      this.counts.entries = entries;
      this.counts.truncated = flat.length / 2 > this.opts.maxEntries;
      this.counts.loads++;
      this.counts.loadedAt = now;
    } catch (err) {
      this.counts.loadErrors++;
      try {
        this.opts.onError?.(err as Error);
      } catch {
        // a throwing callback must not break the refresh loop
      }
    }
  }
}

function normalise(ip: string): { address: string; family: 4 | 6 } | null {
  if (typeof ip !== 'string' || ip.length > 64) return null;
  let a = ip.trim();
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(a);
  if (mapped) a = mapped[1]!;
  const family = isIP(a);
  return family === 0 ? null : { address: a, family: family as 4 | 6 };
}

function addEntry(list: BlockList, entry: string): boolean {
  const slash = entry.indexOf('/');
  const addr = normalise(slash < 0 ? entry : entry.slice(0, slash));
  if (!addr) return false;
  const type = addr.family === 4 ? 'ipv4' : 'ipv6';
  if (slash < 0) {
    list.addAddress(addr.address, type);
    return true;
  }
  const prefix = Number(entry.slice(slash + 1));
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > (addr.family === 4 ? 32 : 128)) return false;
  list.addSubnet(addr.address, prefix, type);
  return true;
}

export interface DenyListMiddlewareOptions {
  /** Client address of a request; default the socket's remote address (set this behind a proxy). */
  clientIp?: (req: IncomingMessage) => string | undefined;
  /** Called for each refused request, e.g. to log a security event. */
  onBlocked?: (req: IncomingMessage, ip: string) => void;
}

/**
 * Express/Connect-style middleware (also plain Node: call it with a `next`): answers 403 to a
 * client whose address is on the deny-list, passes everyone else on.
 */
export function denyListMiddleware(list: DenyList, opts: DenyListMiddlewareOptions = {}) {
  const clientIp = opts.clientIp ?? ((req: IncomingMessage) => req.socket.remoteAddress);
  return (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void): void => {
    const ip = clientIp(req);
    if (ip && list.isBlocked(ip)) {
      try {
        opts.onBlocked?.(req, ip);
      } catch {
        // never let a callback turn a refusal into a crash
      }
      res.statusCode = 403;
      res.setHeader('Content-Type', 'application/json');
      res.end('{"error":"forbidden"}');
      return;
    }
    next();
  };
}
