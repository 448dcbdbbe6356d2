import { createHmac } from 'node:crypto';
import { NotificationSchema } from '@vigil/contracts';
import { startWebhookReceiverStandin, type WebhookReceiverStandin } from '@vigil/standins';
import { sampleNotification } from '../testing';
import { WebhookChannel } from './client';
import { signWebhook, verifyWebhook } from './signature';

const SECRET = 'a-webhook-secret-of-at-least-32-characters';

describe('WebhookChannel against a receiver that verifies signatures', () => {
  let hook: WebhookReceiverStandin;
  const ctx = (nowMs = Date.now()) => ({ nowMs, done: new Set<string>() });

  beforeEach(async () => {
    hook = await startWebhookReceiverStandin({ secret: SECRET });
  });
  afterEach(() => hook.close());

  it('posts the notification JSON, signed, and the receiver verifies it', async () => {
    const n = sampleNotification();
    const r = await new WebhookChannel('hook', { url: `${hook.url}/vigil`, secret: SECRET, sendResolved: true, timeoutMs: 2_000 }).send(
      n,
      ctx(),
    );
    expect(r).toMatchObject({ ok: true, status: 200 });
    expect(hook.rejected).toEqual([]);
    expect(NotificationSchema.parse(hook.received[0]!.body)).toEqual(n);
    expect(hook.received[0]!.headers['x-vigil-notification-id']).toBe(n.notification_id);
  });

  it('is refused (401, final) when signed with another secret', async () => {
    const r = await new WebhookChannel('hook', { url: hook.url, secret: 'x'.repeat(40), sendResolved: true, timeoutMs: 2_000 }).send(
      sampleNotification(),
      ctx(),
    );
    expect(r).toMatchObject({ ok: false, retriable: false, status: 401 });
    expect(hook.rejected[0]!.reason).toBe('signature mismatch');
  });

  it('is refused when the timestamp is stale (a replay)', async () => {
    const r = await new WebhookChannel('hook', { url: hook.url, secret: SECRET, sendResolved: true, timeoutMs: 2_000 }).send(
      sampleNotification(),
      ctx(Date.now() - 3_600_000),
    );
    expect(r).toMatchObject({ ok: false, status: 401 });
    expect(hook.rejected[0]!.reason).toBe('stale timestamp');
  });

  it('retries 5xx with the Retry-After it was given', async () => {
    hook.failNext(1, { status: 503, retryAfterSeconds: 3 });
    const r = await new WebhookChannel('hook', { url: hook.url, secret: SECRET, sendResolved: true, timeoutMs: 2_000 }).send(
      sampleNotification(),
      ctx(),
    );
    expect(r).toMatchObject({ ok: false, retriable: true, status: 503, retryAfterMs: 3_000 });
  });
});

describe('webhook signature', () => {
  const body = Buffer.from('{"a":1}');
  it('is HMAC-SHA256 over "<timestamp>.<body>", hex (the documented recipe)', () => {
    expect(signWebhook(SECRET, 1_700_000_000, body)).toBe(createHmac('sha256', SECRET).update('1700000000.{"a":1}').digest('hex'));
  });

  it.each<[string, { signature: string | undefined; timestamp: string | undefined }, number, boolean | string]>([
    ['a good signature', { signature: `v1=${signWebhook(SECRET, 1000, body)}`, timestamp: '1000' }, 1000, true],
    [
      'one good value among several (rotation)',
      { signature: `v1=${'0'.repeat(64)}, v1=${signWebhook(SECRET, 1000, body)}`, timestamp: '1000' },
      1000,
      true,
    ],
    [
      'a signature over another timestamp',
      { signature: `v1=${signWebhook(SECRET, 999, body)}`, timestamp: '1000' },
      1000,
      'does not match',
    ],
    ['a stale timestamp', { signature: `v1=${signWebhook(SECRET, 1000, body)}`, timestamp: '1000' }, 1400, 'tolerance'],
    ['no signature', { signature: undefined, timestamp: '1000' }, 1000, 'missing'],
    ['a malformed timestamp', { signature: 'v1=00', timestamp: '10e3' }, 1000, 'unix seconds'],
  ])('verifyWebhook: %s', (_what, headers, now, expected) => {
    const r = verifyWebhook(SECRET, headers, body, now);
    if (expected === true) expect(r.ok).toBe(true);
    else expect(!r.ok && r.reason).toContain(expected);
  });
});
