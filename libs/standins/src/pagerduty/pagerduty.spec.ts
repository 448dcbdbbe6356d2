import { startPagerDutyStandin, type PagerDutyStandin } from '.';

const KEY = 'K'.repeat(32);
const trigger = { routing_key: KEY, event_action: 'trigger', dedup_key: 'd1', payload: { summary: 's', source: 'h', severity: 'error' } };

describe('PagerDuty Events API v2 stand-in answers like PagerDuty', () => {
  let pd: PagerDutyStandin;
  beforeEach(async () => {
    pd = await startPagerDutyStandin({ routingKeys: [KEY] });
  });
  afterEach(() => pd.close());

  const post = (body: unknown) =>
    fetch(pd.enqueueUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  it('accepts a trigger with 202 and echoes the dedup key', async () => {
    const res = await post(trigger);
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ status: 'success', message: 'Event processed', dedup_key: 'd1' });
    expect(pd.alerts.get('d1')).toEqual({ status: 'triggered', triggers: 1 });
  });

  it.each<[string, unknown, string]>([
    ['malformed JSON', '{', 'not valid JSON'],
    ['a short routing key', { ...trigger, routing_key: 'abc' }, "Length of 'routing_key' is incorrect"],
    ['an unknown routing key', { ...trigger, routing_key: 'Z'.repeat(32) }, 'Invalid routing key'],
    ['a bad action', { ...trigger, event_action: 'open' }, "'event_action'"],
    ['a bad severity', { ...trigger, payload: { ...trigger.payload, severity: 'high' } }, "'payload.severity'"],
    ['no summary', { ...trigger, payload: { source: 'h', severity: 'info' } }, "'payload.summary'"],
    ['a resolve without dedup key', { routing_key: KEY, event_action: 'resolve' }, "'dedup_key' is required"],
    ['a dedup key over 255 characters', { ...trigger, dedup_key: 'd'.repeat(256) }, "'dedup_key'"],
  ])('refuses %s with 400 invalid event', async (_what, body, error) => {
    const res = await post(body);
    expect(res.status).toBe(400);
    const b = (await res.json()) as { status: string; errors: string[] };
    expect(b.status).toBe('invalid event');
    expect(b.errors.join(' ')).toContain(error);
  });

  it('throttles with 429 when told to and resolves by dedup key', async () => {
    pd.failNext(1, { status: 429 });
    const res = await post(trigger);
    expect(res.status).toBe(429);
    expect(((await res.json()) as { status: string }).status).toBe('throttle event');
    await post(trigger);
    await post({ routing_key: KEY, event_action: 'resolve', dedup_key: 'd1' });
    expect(pd.alerts.get('d1')?.status).toBe('resolved');
  });
});
