import { Metrics, parseEnv, silentLogger } from '@vigil/runtime';
import { SplunkStandin } from '@vigil/standins';
import { ForwarderEnvSchema, forwarderConfig } from '../../config';
import { ForwarderMetrics } from '../../delivery/metrics';
import { alertItem, eventItem } from '../../domain/fixtures';
import { SplunkClient } from './client';

const TOKEN = '2b6f5c1e-8a4d-4c3b-9e2f-1a0b9c8d7e6f';
const ACK_TOKEN = '2b6f5c1e-8a4d-4c3b-9e2f-1a0b9c8d7e70';

function client(url: string, env: Record<string, string> = {}) {
  const raw = {
    SIEM_SINKS: 'splunk',
    SIEM_ALLOW_PLAINTEXT_HTTP: 'true',
    SPLUNK_HEC_URL: url,
    SPLUNK_HEC_TOKEN: TOKEN,
    SPLUNK_INDEX: 'security',
    ...env,
  };
  const config = forwarderConfig(parseEnv(ForwarderEnvSchema, raw), raw);
  return new SplunkClient(
    config.splunk!,
    { maxEvents: 100, timeoutMs: 5_000, maxInFlight: 2 },
    silentLogger(),
    new ForwarderMetrics(new Metrics('t', { defaultMetrics: false })),
  );
}
const signal = () => new AbortController().signal;

describe('Splunk HEC client against the stand-in', () => {
  let hec: SplunkStandin;
  let c: SplunkClient | undefined;
  beforeEach(async () => {
    hec = await SplunkStandin.start({ tokens: { [TOKEN]: { indexes: ['security'] }, [ACK_TOKEN]: { ack: true } } });
  });
  afterEach(async () => {
    await c?.close();
    await hec.close();
  });

  it('sends a batch as concatenated events with index, source, sourcetype, host and time in epoch seconds', async () => {
    c = client(hec.url);
    const a = eventItem();
    const b = eventItem({ event_id: '00000000-0000-4000-8000-000000000002', source: { application: 'x' } });
    expect(await c.send([c.encode(a), c.encode(b)], signal())).toEqual({ kind: 'items', items: [{ status: 'ok' }, { status: 'ok' }] });
    expect(hec.events()).toEqual([
      expect.objectContaining({
        index: 'security',
        source: 'vigil',
        sourcetype: 'vigil:security:event',
        host: 'web-1',
        time: 1795946400.123,
      }),
      expect.objectContaining({ index: 'security', host: undefined }),
    ]);
    expect((hec.events()[0]!.event as { event_id: string }).event_id).toBe(a.id);
  });

  it('a bad token is refused (not retried)', async () => {
    c = client(hec.url, { SPLUNK_HEC_TOKEN: 'wrong-token' });
    expect(await c.send([c.encode(eventItem())], signal())).toEqual({ kind: 'refused', reason: 'HEC 403 code 4: Invalid token' });
  });

  it('a busy HEC is unavailable (retried), and so is one that is down', async () => {
    c = client(hec.url);
    hec.busyNext(1);
    expect((await c.send([c.encode(eventItem())], signal())).kind).toBe('unavailable');
    await hec.server.goDown();
    const down = await c.send([c.encode(eventItem())], signal());
    expect(down).toMatchObject({ kind: 'unavailable', reason: expect.stringContaining('HEC unreachable') });
  });

  it('an event HEC refuses (index not allowed) is refused alone; the others are sent again', async () => {
    c = client(hec.url, { SPLUNK_ALERT_INDEX: 'alerts' });
    const out = await c.send([c.encode(eventItem()), c.encode(alertItem()), c.encode(eventItem())], signal());
    expect(out).toEqual({
      kind: 'items',
      items: [
        { status: 'resend', reason: 'sent again: HEC refused event 1 of the request' },
        { status: 'reject', reason: 'HEC 400 code 7: Incorrect index' },
        { status: 'resend', reason: 'not read: HEC stopped at event 1' },
      ],
    });
  });

  it('with indexer acknowledgement, a send completes only once HEC reports the events indexed', async () => {
    hec.holdAcks();
    c = client(hec.url, { SPLUNK_HEC_TOKEN: ACK_TOKEN, SPLUNK_ACK: 'true', SPLUNK_ACK_POLL_MS: '50', SPLUNK_INDEX: '' });
    let settled = false;
    const sending = c.send([c.encode(eventItem())], signal()).finally(() => (settled = true));
    await new Promise((r) => setTimeout(r, 400));
    expect(hec.eventCount).toBe(1); // accepted...
    expect(settled).toBe(false); // ...but not acknowledged, so not delivered
    hec.releaseAcks();
    expect(await sending).toEqual({ kind: 'items', items: [{ status: 'ok' }] });
    expect(hec.unreportedAcks).toBe(0);
  });

  it('an ack that never comes times out as unavailable (the events are sent again)', async () => {
    hec.holdAcks();
    c = client(hec.url, {
      SPLUNK_HEC_TOKEN: ACK_TOKEN,
      SPLUNK_ACK: 'true',
      SPLUNK_ACK_POLL_MS: '50',
      SPLUNK_ACK_TIMEOUT_MS: '1000',
      SPLUNK_INDEX: '',
    });
    expect(await c.send([c.encode(eventItem())], signal())).toMatchObject({
      kind: 'unavailable',
      reason: expect.stringContaining('no indexer acknowledgement'),
    });
  });

  it('acknowledgement configured on a token without it is refused loudly', async () => {
    c = client(hec.url, { SPLUNK_ACK: 'true', SPLUNK_ACK_POLL_MS: '50' });
    expect((await c.send([c.encode(eventItem())], signal())).kind).toBe('refused');
  });
});
