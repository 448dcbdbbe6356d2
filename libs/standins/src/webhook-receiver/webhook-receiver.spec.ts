import { createHmac } from 'node:crypto';
import { startWebhookReceiverStandin, type WebhookReceiverStandin } from '.';

const SECRET = 's'.repeat(32);

describe('webhook receiver stand-in verifies signature and freshness', () => {
  let hook: WebhookReceiverStandin;
  beforeEach(async () => {
    hook = await startWebhookReceiverStandin({ secret: SECRET, toleranceSeconds: 60 });
  });
  afterEach(() => hook.close());

  const post = (body: string, ts: number, sig: string, type = 'application/json') =>
    fetch(hook.url, { method: 'POST', headers: { 'content-type': type, 'x-vigil-timestamp': String(ts), 'x-vigil-signature': sig }, body });
  const sign = (ts: number, body: string, secret = SECRET) => `v1=${createHmac('sha256', secret).update(`${ts}.${body}`).digest('hex')}`;
  const now = () => Math.floor(Date.now() / 1000);

  it.each<[string, () => [string, number, string, string?], number, string | null]>([
    ['a good signature', () => ['{"a":1}', now(), sign(now(), '{"a":1}')], 200, null],
    ['another secret', () => ['{"a":1}', now(), sign(now(), '{"a":1}', 'x'.repeat(32))], 401, 'signature mismatch'],
    ['a tampered body', () => ['{"a":2}', now(), sign(now(), '{"a":1}')], 401, 'signature mismatch'],
    ['a stale timestamp', () => ['{"a":1}', now() - 120, sign(now() - 120, '{"a":1}')], 401, 'stale timestamp'],
    ['a signed non-JSON content type', () => ['{"a":1}', now(), sign(now(), '{"a":1}'), 'text/plain'], 415, 'expected application/json'],
  ])('%s → %d', async (_what, make, status, reason) => {
    const [body, ts, sig, type] = make();
    const res = await post(body, ts, sig, type);
    expect(res.status).toBe(status);
    if (reason) expect(hook.rejected[0]!.reason).toBe(reason);
    else expect(hook.received[0]!.body).toEqual({ a: 1 });
  });
});
