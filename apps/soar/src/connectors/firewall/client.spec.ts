import { startFirewallStandin, type FirewallStandin } from '@vigil/standins';
import { ConnectorError, type ActionRequest } from '../types';
import { FirewallConnector } from './client';

const base: Omit<ActionRequest, 'action' | 'target'> = { alertId: 'a-1', runId: 'r-1', playbookId: 'p', reason: 'Brute force' };

describe('FirewallConnector against the firewall stand-in', () => {
  let fw: FirewallStandin;
  beforeEach(async () => {
    fw = await startFirewallStandin({ token: 'fw-secret' });
  });
  afterEach(() => fw.close());

  const connector = (token = 'fw-secret') => new FirewallConnector({ url: fw.url, token, timeoutMs: 2_000 });

  it('blocks a CIDR with its duration and unblocks it', async () => {
    const r = await connector().execute({ ...base, action: 'block_ip', target: '198.51.100.0/24', durationMs: 90_500 });
    expect(r.request).toEqual({ method: 'PUT', path: '/v1/blocks/198.51.100.0%2F24' });
    expect(fw.blocks.get('198.51.100.0/24')).toMatchObject({ expiresInSeconds: 91, comment: 'vigil alert a-1: Brute force' });
    await connector().execute({ ...base, action: 'unblock_ip', target: '198.51.100.0/24' });
    expect(fw.blocks.size).toBe(0);
  });

  it('treats blocking twice as renewing and unblocking an absent address as done', async () => {
    await connector().execute({ ...base, action: 'block_ip', target: '203.0.113.7' });
    const again = await connector().execute({ ...base, action: 'block_ip', target: '203.0.113.7' });
    expect(again.summary).toContain('already blocked');
    const absent = await connector().execute({ ...base, action: 'unblock_ip', target: '192.0.2.99' });
    expect(absent.summary).toContain('was not blocked');
  });

  it.each<[string, () => void, boolean, number | undefined]>([
    ['a wrong token is a permanent failure', () => undefined, false, undefined],
    [
      '429 with Retry-After is retriable and carries the delay',
      () => fw.failNext({ status: 429, headers: { 'Retry-After': '7' } }),
      true,
      7_000,
    ],
    ['503 is retriable', () => fw.failNext({ status: 503 }), true, undefined],
    ['400 is permanent', () => fw.failNext({ status: 400, body: { error: 'invalid_network' } }), false, undefined],
  ])('%s', async (name, arrange, retriable, retryAfterMs) => {
    arrange();
    const c = name.startsWith('a wrong token') ? connector('wrong') : connector();
    const err = (await c.execute({ ...base, action: 'block_ip', target: '203.0.113.7' }).catch((e: unknown) => e)) as ConnectorError;
    expect(err).toBeInstanceOf(ConnectorError);
    expect(err.retriable).toBe(retriable);
    expect(err.retryAfterMs).toBe(retryAfterMs);
    expect(fw.blocks.size).toBe(0);
  });

  it('gives a retriable error when nothing listens', async () => {
    const url = fw.url;
    await fw.close();
    const err = (await new FirewallConnector({ url, timeoutMs: 500 })
      .execute({ ...base, action: 'block_ip', target: '203.0.113.7' })
      .catch((e: unknown) => e)) as ConnectorError;
    expect(err.retriable).toBe(true);
    fw = await startFirewallStandin({ token: 'x' });
  });
});
