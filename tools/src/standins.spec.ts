import { parseEnv } from '@vigil/runtime';
import { StandinsEnvSchema, startStandins, type RunningStandins } from './standins';

// A port base per run: below Linux's ephemeral range (32768+), where the relayed stand-ins' own
// loopback ports come from, and away from the services' 8081-8085 and the default 18700.
const base = () => String(20_000 + Math.floor(Math.random() * 1_000) * 12);

describe('the standins command serves every stand-in with the credentials it prints', () => {
  let running: RunningStandins | undefined;
  afterEach(async () => {
    await running?.close();
    running = undefined;
  });

  it('answers through relays on 0.0.0.0 and counts what arrived on the status page', async () => {
    const env = parseEnv(StandinsEnvSchema, { STANDINS_HOST: '0.0.0.0', STANDINS_PORT_BASE: base() });
    running = await startStandins(env);
    const e = running.env;

    const hec = await fetch(`${e.SPLUNK_HEC_URL}/services/collector/event`, {
      method: 'POST',
      headers: { Authorization: `Splunk ${e.SPLUNK_HEC_TOKEN}` },
      body: JSON.stringify({ event: { id: 1 } }),
    });
    expect(hec.status).toBe(200);
    const refused = await fetch(`${e.SPLUNK_HEC_URL}/services/collector/event`, {
      method: 'POST',
      headers: { Authorization: 'Splunk not-the-token' },
      body: JSON.stringify({ event: { id: 2 } }),
    });
    expect(refused.status).toBe(403);

    const block = await fetch(`${e.FIREWALL_URL}/v1/blocks/${encodeURIComponent('203.0.113.7')}`, {
      method: 'PUT',
      headers: { Authorization: `Bearer ${e.FIREWALL_TOKEN}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ comment: 'test' }),
    });
    expect(block.status).toBe(201);

    const status = (await (await fetch(running.statusUrl)).json()) as Record<string, Record<string, unknown>>;
    expect(status.splunk).toEqual({ events: 1 });
    expect(status.firewall).toEqual({ blocks: ['203.0.113.7'] });
  });

  it('knows the SCIM users it was given and nobody else', async () => {
    const env = parseEnv(StandinsEnvSchema, { STANDINS_PORT_BASE: base(), STANDIN_SCIM_USERS: 'alice' });
    running = await startStandins(env);
    const lookup = (user: string) =>
      fetch(`${running!.env.SCIM_URL}/Users?filter=${encodeURIComponent(`userName eq "${user}"`)}`, {
        headers: { Authorization: `Bearer ${running!.env.SCIM_TOKEN}` },
      }).then((r) => r.json() as Promise<{ totalResults: number }>);
    expect((await lookup('alice')).totalResults).toBe(1);
    expect((await lookup('mallory')).totalResults).toBe(0);
  });

  it('frees every port on close, so it can start again on the same ones', async () => {
    const env = parseEnv(StandinsEnvSchema, { STANDINS_HOST: '0.0.0.0', STANDINS_PORT_BASE: base() });
    running = await startStandins(env);
    await running.close();
    running = await startStandins(env);
    expect((await fetch(running.statusUrl)).status).toBe(200);
  });
});
