import { startEdrStandin, type EdrStandin } from '@vigil/standins';
import { ConnectorError, type ActionRequest } from '../types';
import { EdrConnector, fillPath } from './client';
import type { EdrConfig } from './config';

const base: Omit<ActionRequest, 'action' | 'target'> = { alertId: 'a-1', runId: 'r-1', playbookId: 'p', reason: 'Malware beacon' };

describe('EdrConnector against the EDR stand-in', () => {
  let edr: EdrStandin;
  beforeEach(async () => {
    edr = await startEdrStandin({ auth: { kind: 'header', header: 'X-Api-Key', key: 'k-1' }, hosts: ['web-01'] });
  });
  afterEach(() => edr.close());

  const config = (over: Partial<EdrConfig> = {}): EdrConfig => ({
    url: edr.url,
    timeoutMs: 2_000,
    auth: { kind: 'header', header: 'X-Api-Key', key: 'k-1' },
    isolate: { method: 'POST', path: '/hosts/{host}/isolate' },
    release: { method: 'POST', path: '/hosts/{host}/release' },
    ...over,
  });

  it('isolates and releases a host with the configured method, path and key', async () => {
    await new EdrConnector(config()).execute({ ...base, action: 'isolate_host', target: 'web-01' });
    expect(edr.hosts.get('web-01')).toBe('isolated');
    expect(edr.requests[0]).toMatchObject({
      method: 'POST',
      path: '/hosts/web-01/isolate',
      body: { reason: 'vigil alert a-1: Malware beacon', alert_id: 'a-1' },
    });
    await new EdrConnector(config()).execute({ ...base, action: 'release_host', target: 'web-01' });
    expect(edr.hosts.get('web-01')).toBe('normal');
  });

  it('percent-encodes the host into the path template', () => {
    expect(fillPath('/api/devices/{host}/contain', 'a b/../c')).toBe('/api/devices/a%20b%2F..%2Fc/contain');
  });

  it.each<[string, Partial<EdrConfig>, string, boolean]>([
    ['an unknown host is a permanent 404', {}, 'HTTP 404', false],
    ['a wrong key is a permanent 401', { auth: { kind: 'header', header: 'X-Api-Key', key: 'bad' } }, 'HTTP 401', false],
  ])('%s', async (_name, over, message, retriable) => {
    const err = (await new EdrConnector(config(over))
      .execute({ ...base, action: 'isolate_host', target: 'db-09' })
      .catch((e: unknown) => e)) as ConnectorError;
    expect(err.message).toContain(message);
    expect(err.retriable).toBe(retriable);
  });

  it('retries a 502', async () => {
    edr.failNext({ status: 502 });
    const err = (await new EdrConnector(config())
      .execute({ ...base, action: 'isolate_host', target: 'web-01' })
      .catch((e: unknown) => e)) as ConnectorError;
    expect(err.retriable).toBe(true);
    expect(edr.hosts.get('web-01')).toBe('normal');
  });
});
