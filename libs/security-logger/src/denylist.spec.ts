import type { IncomingMessage, ServerResponse } from 'node:http';
import { DenyList, denyListMiddleware, type DenyListRedis } from './denylist';

/** A hand-written stand-in for the one sorted-set read the reader makes. */
class FakeSortedSet implements DenyListRedis {
  entries = new Map<string, number>();
  calls = 0;
  fail = false;
  async zrangebyscore(_key: string, min: number | string): Promise<string[]> {
    this.calls++;
    if (this.fail) throw new Error('connection refused');
    const floor = Number(String(min).replace('(', ''));
    const out: string[] = [];
    for (const [m, s] of [...this.entries].sort((a, b) => a[1] - b[1])) if (s > floor) out.push(m, String(s));
    return out;
  }
}

describe('DenyList', () => {
  let now = 1_000_000;
  const clock = () => now;

  it('blocks listed addresses and networks, IPv4 and IPv6, and nothing else', async () => {
    const redis = new FakeSortedSet();
    redis.entries
      .set('203.0.113.7', Infinity)
      .set('198.51.100.0/24', now + 60_000)
      .set('2001:db8:1::/48', now + 60_000);
    const list = new DenyList({ redis, now: clock });
    await list.refresh();
    expect(['203.0.113.7', '198.51.100.42', '::ffff:198.51.100.1', '2001:db8:1:2::9'].map((ip) => list.isBlocked(ip))).toEqual([
      true,
      true,
      true,
      true,
    ]);
    expect(['203.0.113.8', '192.0.2.1', '2001:db8:2::1', 'not-an-ip', ''].map((ip) => list.isBlocked(ip))).toEqual([
      false,
      false,
      false,
      false,
      false,
    ]);
  });

  it('ignores entries whose block has ended and reloads when one ends', async () => {
    const redis = new FakeSortedSet();
    redis.entries.set('203.0.113.7', now + 1_000);
    const list = new DenyList({ redis, now: clock });
    await list.refresh();
    expect(list.isBlocked('203.0.113.7')).toBe(true);
    now += 1_000;
    list.isBlocked('203.0.113.7');
    await list.refresh();
    expect(list.isBlocked('203.0.113.7')).toBe(false);
  });

  it('keeps the last good list when Redis fails, and fails open or closed before the first load as configured', async () => {
    const redis = new FakeSortedSet();
    redis.entries.set('203.0.113.7', Infinity);
    expect(new DenyList({ redis, now: clock }).isBlocked('203.0.113.7')).toBe(false);
    expect(new DenyList({ redis, now: clock, failClosed: true }).isBlocked('192.0.2.1')).toBe(true);
    const errors: string[] = [];
    const list = new DenyList({ redis, now: clock, onError: (e) => errors.push(e.message) });
    await list.refresh();
    redis.fail = true;
    await list.refresh();
    expect(list.isBlocked('203.0.113.7')).toBe(true);
    expect(list.stats).toMatchObject({ loads: 1, loadErrors: 1 });
    expect(errors).toEqual(['connection refused']);
  });

  it('holds at most maxEntries and says it truncated', async () => {
    const redis = new FakeSortedSet();
    for (let i = 0; i < 10; i++) redis.entries.set(`192.0.2.${i}`, Infinity);
    const list = new DenyList({ redis, now: clock, maxEntries: 4 });
    await list.refresh();
    expect(list.stats).toMatchObject({ entries: 4, truncated: true });
  });

  it('answers 403 to a blocked client through the middleware and passes others on', async () => {
    const redis = new FakeSortedSet();
    redis.entries.set('203.0.113.7', Infinity);
    const list = new DenyList({ redis, now: clock });
    await list.refresh();
    const seen: string[] = [];
    const mw = denyListMiddleware(list, { onBlocked: (_req, ip) => seen.push(ip) });
    const call = (ip: string) => {
      const res = {
        statusCode: 200,
        headers: {} as Record<string, string>,
        body: '',
        setHeader(k: string, v: string) {
          this.headers[k] = v;
        },
        end(b: string) {
          this.body = b;
        },
      };
      let nexted = false;
      mw({ socket: { remoteAddress: ip } } as unknown as IncomingMessage, res as unknown as ServerResponse, () => (nexted = true));
      return { status: res.statusCode, nexted };
    };
    expect(call('203.0.113.7')).toEqual({ status: 403, nexted: false });
    expect(call('192.0.2.1')).toEqual({ status: 200, nexted: true });
    expect(seen).toEqual(['203.0.113.7']);
  });
});
