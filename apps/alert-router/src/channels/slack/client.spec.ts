import { startSlackStandin, type SlackStandin } from '@vigil/standins';
import { sampleNotification } from '../testing';
import { SlackChannel, slackMessage } from './client';

describe('SlackChannel against the strict Slack stand-in', () => {
  let slack: SlackStandin;
  let channel: SlackChannel;
  const ctx = () => ({ nowMs: Date.now(), done: new Set<string>() });

  beforeEach(async () => {
    slack = await startSlackStandin();
    channel = new SlackChannel('slack', { webhookUrl: slack.webhookUrl, sendResolved: true, timeoutMs: 2_000 });
  });
  afterEach(() => slack.close());

  it('posts a Block Kit message Slack accepts, with severity, rule, group values, counts, time range and alert id', async () => {
    const n = sampleNotification([{ severity: 'critical' }, { dedup_key: 'k2', group: { 'source.ip': '198.51.100.4' } }]);
    const r = await channel.send(n, ctx());
    expect(r).toMatchObject({ ok: true, status: 200 });
    expect(slack.rejected).toEqual([]);
    const text = JSON.stringify(slack.received[0]!.body);
    for (const fact of [
      'critical',
      'SSH brute force',
      'ssh_brute_force',
      'source.ip',
      '203.0.113.7',
      '2 (2 firings',
      n.first_event_at,
      n.alerts[0]!.alert_id,
      n.notification_id,
    ]) {
      expect(text).toContain(fact);
    }
  });

  it('treats 429 as retriable and passes Retry-After on', async () => {
    slack.failNext(1, { status: 429, retryAfterSeconds: 7 });
    const r = await channel.send(sampleNotification(), ctx());
    expect(r).toMatchObject({ ok: false, retriable: true, status: 429, retryAfterMs: 7_000 });
    expect(slack.received).toHaveLength(0);
  });

  it('treats 5xx as retriable and 404 no_service as final', async () => {
    slack.failNext(1, { status: 503 });
    expect(await channel.send(sampleNotification(), ctx())).toMatchObject({ ok: false, retriable: true, status: 503 });
    const revoked = new SlackChannel('slack', { webhookUrl: `${slack.url}/services/T/B/revoked`, sendResolved: true, timeoutMs: 2_000 });
    const r = await revoked.send(sampleNotification(), ctx());
    expect(r).toMatchObject({ ok: false, retriable: false, status: 404 });
    expect(!r.ok && r.error).toContain('no_service');
  });

  it('treats a refused connection as retriable without naming the webhook URL', async () => {
    await slack.setDown(true);
    const r = await channel.send(sampleNotification(), ctx());
    expect(r).toMatchObject({ ok: false, retriable: true });
    expect(!r.ok && r.error).toContain('ECONNREFUSED');
    expect(JSON.stringify(r)).not.toContain('standinSecretToken');
  });

  it('keeps within Slack limits for a notification with many alerts and long values', () => {
    const many = Array.from({ length: 60 }, (_, i) => ({
      dedup_key: `k${i}`,
      rule: { id: 'r', name: 'x'.repeat(200), description: '', kind: 'threshold' as const },
    }));
    const msg = slackMessage(sampleNotification(many));
    const blocks = msg.blocks as { type: string; text?: { text: string }; fields?: { text: string }[] }[];
    expect(blocks.length).toBeLessThanOrEqual(50);
    expect(blocks[0]!.text!.text.length).toBeLessThanOrEqual(150);
    for (const b of blocks) {
      if (b.text) expect(b.text.text.length).toBeLessThanOrEqual(3000);
      for (const f of b.fields ?? []) expect(f.text.length).toBeLessThanOrEqual(2000);
    }
  });

  it('escapes <, > and & so alert text cannot inject mentions or links', () => {
    const msg = slackMessage(sampleNotification([{ group: { user: '<!channel> & <http://evil|x>' } }]));
    const text = JSON.stringify(msg.blocks);
    expect(text).not.toContain('<!channel>');
    expect(text).toContain('&lt;!channel&gt; &amp;');
  });
});
