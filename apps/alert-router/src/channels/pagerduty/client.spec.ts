import type { Severity } from '@vigil/contracts';
import { startPagerDutyStandin, type PagerDutyStandin } from '@vigil/standins';
import { sampleNotification } from '../testing';
import { PD_SEVERITY, PagerDutyChannel, pdDedupKey } from './client';

const KEY = 'R0UT1NGK3Y0000000000000000000001';

describe('PagerDutyChannel against the strict Events API v2 stand-in', () => {
  let pd: PagerDutyStandin;
  let channel: PagerDutyChannel;
  const ctx = (done: string[] = []) => ({ nowMs: Date.now(), done: new Set(done) });

  beforeEach(async () => {
    pd = await startPagerDutyStandin({ routingKeys: [KEY] });
    channel = new PagerDutyChannel('pagerduty', {
      routingKey: KEY,
      url: pd.enqueueUrl,
      sendResolved: true,
      client: 'Vigil',
      timeoutMs: 2_000,
    });
  });
  afterEach(() => pd.close());

  it('triggers one event per alert with dedup_key = the alert dedup key, mapped severity and custom details', async () => {
    const n = sampleNotification([{ severity: 'critical' }, { dedup_key: 'second|k', severity: 'medium' }]);
    const r = await channel.send(n, ctx());
    expect(r).toMatchObject({ ok: true, status: 202, done: [n.alerts[0]!.dedup_key, 'second|k'] });
    expect(pd.rejected).toEqual([]);
    expect(pd.events.map((e) => [e.event_action, e.dedup_key])).toEqual([
      ['trigger', n.alerts[0]!.dedup_key],
      ['trigger', 'second|k'],
    ]);
    const payload = pd.events[0]!.body.payload as Record<string, unknown>;
    expect(payload).toMatchObject({ severity: 'critical', source: '203.0.113.7' });
    expect(payload.custom_details).toMatchObject({
      alert_id: n.alerts[0]!.alert_id,
      rule: { id: 'ssh_brute_force' },
      notification_id: n.notification_id,
    });
    expect((pd.events[1]!.body.payload as Record<string, unknown>).severity).toBe('warning');
  });

  it.each<[Severity, string]>([
    ['critical', 'critical'],
    ['high', 'error'],
    ['medium', 'warning'],
    ['low', 'info'],
    ['info', 'info'],
  ])('maps %s to %s', (ours, theirs) => expect(PD_SEVERITY[ours]).toBe(theirs));

  it('resolves by dedup key when the group resolved', async () => {
    const n = sampleNotification([{}]);
    await channel.send(n, ctx());
    await channel.send(sampleNotification([{}], { resolved: true }), ctx());
    expect(pd.alerts.get(n.alerts[0]!.dedup_key)?.status).toBe('resolved');
  });

  it('skips alerts an earlier attempt delivered', async () => {
    const n = sampleNotification([{}, { dedup_key: 'b' }]);
    const r = await channel.send(n, ctx(['b']));
    expect(r.ok).toBe(true);
    expect(pd.events.map((e) => e.dedup_key)).toEqual(['ssh_brute_force|source.ip=203.0.113.7']);
  });

  it('retries 429 and 5xx, never 400', async () => {
    pd.failNext(1, { status: 429 });
    expect(await channel.send(sampleNotification(), ctx())).toMatchObject({ ok: false, retriable: true, status: 429 });
    pd.failNext(1, { status: 502 });
    expect(await channel.send(sampleNotification(), ctx())).toMatchObject({ ok: false, retriable: true, status: 502 });
    const wrongKey = new PagerDutyChannel('pagerduty', {
      routingKey: 'short',
      url: pd.enqueueUrl,
      sendResolved: true,
      client: 'Vigil',
      timeoutMs: 2_000,
    });
    const r = await wrongKey.send(sampleNotification(), ctx());
    expect(r).toMatchObject({ ok: false, retriable: false, status: 400 });
    expect(!r.ok && r.error).toContain("Length of 'routing_key' is incorrect");
  });

  it('keeps dedup keys within 255 characters, stably', () => {
    const long = 'x'.repeat(600);
    expect(pdDedupKey(long)).toHaveLength(255);
    expect(pdDedupKey(long)).toBe(pdDedupKey(long));
    expect(pdDedupKey(long)).not.toBe(pdDedupKey(`${long}y`));
    expect(pdDedupKey('short')).toBe('short');
  });
});
