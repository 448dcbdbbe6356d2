import { Metrics, parseEnv, silentLogger } from '@vigil/runtime';
import { SentinelStandin } from '@vigil/standins';
import { ForwarderEnvSchema, forwarderConfig } from '../../config';
import { ForwarderMetrics } from '../../delivery/metrics';
import { alertItem, eventItem } from '../../domain/fixtures';
import { SENTINEL_ALERT_COLUMNS, SENTINEL_EVENT_COLUMNS } from '../../domain/sentinel';
import { SentinelClient } from './client';

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const APP = '0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d';
const DCR = 'dcr-0123456789abcdef0123456789abcdef';
const EVENTS = 'Custom-VigilSecurityEvents_CL';
const ALERTS = 'Custom-VigilAlerts_CL';

function client(standin: SentinelStandin, env: Record<string, string> = {}) {
  const raw = {
    SIEM_SINKS: 'sentinel',
    SIEM_ALLOW_PLAINTEXT_HTTP: 'true',
    SIEM_FORWARD_ALERTS: 'true',
    SENTINEL_DCE_URL: standin.dceUrl,
    SENTINEL_AUTHORITY_URL: standin.authorityUrl,
    SENTINEL_DCR_ID: DCR,
    SENTINEL_STREAM: EVENTS,
    SENTINEL_ALERT_STREAM: ALERTS,
    SENTINEL_TENANT_ID: TENANT,
    SENTINEL_CLIENT_ID: APP,
    SENTINEL_CLIENT_SECRET: 'app-secret',
    ...env,
  };
  const config = forwarderConfig(parseEnv(ForwarderEnvSchema, raw), raw);
  return new SentinelClient(
    config.sentinel!,
    { maxEvents: 100, timeoutMs: 5_000, maxInFlight: 2 },
    silentLogger(),
    new ForwarderMetrics(new Metrics('t', { defaultMetrics: false })),
  );
}
const signal = () => new AbortController().signal;

describe('Sentinel client against the Logs Ingestion and token stand-ins', () => {
  let az: SentinelStandin;
  let c: SentinelClient | undefined;
  beforeEach(async () => {
    az = await SentinelStandin.start({
      tenantId: TENANT,
      clients: { [APP]: 'app-secret' },
      dcrs: { [DCR]: { streams: { [EVENTS]: SENTINEL_EVENT_COLUMNS, [ALERTS]: SENTINEL_ALERT_COLUMNS }, publishers: [APP] } },
      tokenLifetimeS: 2,
    });
  });
  afterEach(async () => {
    await c?.close();
    await az.close();
  });

  it('posts gzip JSON rows to the stream, reusing one token while it is valid', async () => {
    c = client(az);
    expect(await c.send([c.encode(eventItem())], signal())).toEqual({ kind: 'items', items: [{ status: 'ok' }] });
    expect(await c.send([c.encode(eventItem())], signal())).toMatchObject({ kind: 'items' });
    expect(az.rows(EVENTS)).toHaveLength(2);
    expect(az.rows(EVENTS)[0]).toMatchObject({ TimeGenerated: '2026-11-29T10:00:00.123Z', EventId: eventItem().id, Severity: 'high' });
    expect(az.tokensIssued).toBe(1);
  });

  it('compresses at SENTINEL_GZIP_LEVEL: the same rows, fewer bytes at 9 than at the default 1', async () => {
    const items = Array.from({ length: 100 }, (_, i) =>
      eventItem({ event_id: `3f8a1c2e-9b7d-4e6f-8a1b-${String(i).padStart(12, '0')}`, details: { attempt: i % 7 } }),
    );
    const sent: Array<{ sent: number; read: number }> = [];
    for (const level of [undefined, '9']) {
      c = client(az, level ? { SENTINEL_GZIP_LEVEL: level } : {});
      const before = { ...az.bodyBytes };
      expect(
        (
          await c.send(
            items.map((it) => c!.encode(it)),
            signal(),
          )
        ).kind,
      ).toBe('items');
      sent.push({ sent: az.bodyBytes.sent - before.sent, read: az.bodyBytes.read - before.read });
      await c.close();
    }
    c = undefined;
    expect(sent[1]!.read).toBe(sent[0]!.read);
    expect(sent[0]!.sent).toBeLessThan(sent[0]!.read / 4);
    expect(sent[1]!.sent).toBeLessThan(sent[0]!.sent);
    expect(az.rows(EVENTS)).toHaveLength(200);
  });

  it('refuses a gzip level outside 1-9 with the variable named', () => {
    expect(() => client(az, { SENTINEL_GZIP_LEVEL: '0' })).toThrow(/SENTINEL_GZIP_LEVEL/);
    expect(() => client(az, { SENTINEL_GZIP_LEVEL: '10' })).toThrow(/SENTINEL_GZIP_LEVEL/);
  });

  it('routes alerts to the alert stream', async () => {
    c = client(az);
    const rec = c.encode(alertItem());
    expect(rec.route).toBe(ALERTS);
    await c.send([rec], signal());
    expect(az.rows(ALERTS)).toEqual([expect.objectContaining({ AlertId: alertItem().id, RuleId: 'brute-force' })]);
  });

  it('renews the token before it expires', async () => {
    c = client(az, { SENTINEL_TOKEN_REFRESH_MARGIN_S: '1' });
    await c.send([c.encode(eventItem())], signal());
    await new Promise((r) => setTimeout(r, 1_200));
    expect((await c.send([c.encode(eventItem())], signal())).kind).toBe('items');
    expect(az.tokensIssued).toBe(2);
  });

  it('renews once after a 401 (token revoked) and succeeds', async () => {
    c = client(az);
    await c.send([c.encode(eventItem())], signal());
    az.revokeTokens();
    expect((await c.send([c.encode(eventItem())], signal())).kind).toBe('items');
    expect(az.tokensIssued).toBe(2);
  });

  it('a wrong client secret is refused, not retried', async () => {
    c = client(az, { SENTINEL_CLIENT_SECRET: 'wrong' });
    expect(await c.send([c.encode(eventItem())], signal())).toMatchObject({
      kind: 'refused',
      reason: expect.stringContaining('invalid_client'),
    });
  });

  it('throttling is unavailable with the Retry-After the service gave', async () => {
    c = client(az);
    az.throttleNext(1, 4);
    expect(await c.send([c.encode(eventItem())], signal())).toMatchObject({ kind: 'unavailable', retryAfterMs: 4_000 });
  });

  it('a token endpoint that is down is unavailable (retried)', async () => {
    c = client(az);
    await az.authority.goDown();
    expect(await c.send([c.encode(eventItem())], signal())).toMatchObject({
      kind: 'unavailable',
      reason: expect.stringContaining('token endpoint unreachable'),
    });
  });

  it('a call over 1 MB is too large (to be split)', async () => {
    c = client(az, { SENTINEL_GZIP: 'false' });
    const recs = Array.from({ length: 40 }, () => c!.encode(eventItem({ details: { blob: 'x'.repeat(30_000) } })));
    expect((await c.send(recs, signal())).kind).toBe('too_large');
  });

  it('keeps its request budget within the documented 1 MB', () => {
    c = client(az);
    expect(c.limits.maxBytes).toBeLessThanOrEqual(1024 * 1024);
    expect(() => client(az, { SENTINEL_BATCH_MAX_BYTES: String(2 * 1024 * 1024) })).toThrow('SENTINEL_BATCH_MAX_BYTES');
  });
});
