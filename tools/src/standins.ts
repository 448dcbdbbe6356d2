import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { z } from 'zod';
import { envInt, envList, parseEnv } from '@vigil/runtime';
import {
  ElasticsearchStandin,
  SentinelStandin,
  SplunkStandin,
  startEdrStandin,
  startFirewallStandin,
  startPagerDutyStandin,
  startScimStandin,
  startSlackStandin,
  startTwilioStandin,
  startWebhookReceiverStandin,
} from '@vigil/standins';
import { SENTINEL_ALERT_COLUMNS, SENTINEL_EVENT_COLUMNS } from '@vigil/siem-forwarder/dist/domain/sentinel';

/**
 * Every stand-in's credentials and where it listens. The values are stand-in credentials only (no
 * real service accepts them); each can be overridden from the environment, and the same names are
 * what docker-compose.yml hands to both the stand-ins and the services.
 */
export const StandinsEnvSchema = z.object({
  /** Address the stand-ins listen on. 127.0.0.1 locally; 0.0.0.0 in a container. */
  STANDINS_HOST: z.string().min(1).default('127.0.0.1'),
  /** Host name the services reach the stand-ins by, used in the printed URLs. */
  STANDINS_ADVERTISE_HOST: z.string().min(1).optional(),
  /** The status page listens here; stand-in N (see STANDIN_PORTS) on STANDINS_PORT_BASE + N. */
  // At most 32000: relayed stand-ins take loopback ports from Linux's ephemeral range (32768+).
  STANDINS_PORT_BASE: envInt(18700, 1024, 32_000),
  SPLUNK_HEC_TOKEN: z.string().min(1).default('5e3d1c2b-7a69-4f8e-9d0c-1b2a3f4e5d6c'),
  ES_API_KEY: z.string().min(1).default(Buffer.from('vigil-forwarder:standin-bulk-writer-key').toString('base64')),
  SENTINEL_TENANT_ID: z.string().min(1).default('72f988bf-86f1-41af-91ab-2d7cd011db47'),
  SENTINEL_CLIENT_ID: z.string().min(1).default('0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d'),
  SENTINEL_CLIENT_SECRET: z.string().min(1).default('standin-client-secret'),
  SENTINEL_DCR_ID: z.string().min(1).default('dcr-0123456789abcdef0123456789abcdef'),
  SENTINEL_STREAM: z.string().min(1).default('Custom-VigilSecurityEvents_CL'),
  SENTINEL_ALERT_STREAM: z.string().min(1).default('Custom-VigilAlerts_CL'),
  SLACK_HOOK_PATH: z
    .string()
    .regex(/^\/services\/[A-Za-z0-9/]+$/)
    .default('/services/T0VIGIL00/B0VIGIL00/standinSecretToken0001'),
  PAGERDUTY_ROUTING_KEY: z.string().length(32).default('R0VIGILSTANDIN0ROUTINGKEY0000001'),
  TWILIO_ACCOUNT_SID: z
    .string()
    .regex(/^AC[0-9a-f]{32}$/)
    .default('AC0123456789abcdef0123456789abcdef'),
  TWILIO_AUTH_TOKEN: z.string().min(1).default('standin-twilio-auth-token'),
  ROUTER_WEBHOOK_SECRET: z.string().min(32).default('standin-webhook-secret-at-least-32-chars'),
  FIREWALL_TOKEN: z.string().min(1).default('standin-firewall-token'),
  SCIM_TOKEN: z.string().min(1).default('standin-scim-token'),
  EDR_TOKEN: z.string().min(1).default('standin-edr-token'),
  /** Accounts the SCIM stand-in knows (disable_user on anyone else is a 404, like a real IdP). */
  STANDIN_SCIM_USERS: envList('admin,alice,bob,carol,dave,erin,root'),
  /** Hosts the EDR stand-in knows. */
  STANDIN_EDR_HOSTS: envList('web-01,web-02,db-01,laptop-alice,laptop-bob'),
});
export type StandinsEnv = z.infer<typeof StandinsEnvSchema>;

/** Port offsets from STANDINS_PORT_BASE; 0 is the status page. */
export const STANDIN_PORTS = {
  status: 0,
  splunk: 1,
  elasticsearch: 2,
  sentinelDce: 3,
  sentinelAuthority: 4,
  slack: 5,
  pagerduty: 6,
  twilio: 7,
  webhook: 8,
  firewall: 9,
  scim: 10,
  edr: 11,
} as const;
export type PortName = keyof typeof STANDIN_PORTS;

export interface RunningStandins {
  /** What the services need to reach the stand-ins (URLs and the matching credentials). */
  env: Record<string, string>;
  /** A summary of what each stand-in has received. */
  status(): Record<string, unknown>;
  statusUrl: string;
  /** The stand-ins themselves, for tests that assert what each one received. */
  instances: StandinInstances;
  close(): Promise<void>;
}

export interface StandinInstances {
  splunk: SplunkStandin;
  elasticsearch: ElasticsearchStandin;
  sentinel: SentinelStandin;
  slack: Awaited<ReturnType<typeof startSlackStandin>>;
  pagerduty: Awaited<ReturnType<typeof startPagerDutyStandin>>;
  twilio: Awaited<ReturnType<typeof startTwilioStandin>>;
  webhook: Awaited<ReturnType<typeof startWebhookReceiverStandin>>;
  firewall: Awaited<ReturnType<typeof startFirewallStandin>>;
  scim: Awaited<ReturnType<typeof startScimStandin>>;
  edr: Awaited<ReturnType<typeof startEdrStandin>>;
}

/**
 * The environment that points the services at the stand-ins: URLs (from `url`, by stand-in) and the
 * credentials the stand-ins accept. docker-compose.yml's defaults must equal this (deploy-check).
 */
export function standinsServiceEnv(env: StandinsEnv, url: (name: PortName) => string): Record<string, string> {
  return {
    SIEM_ALLOW_PLAINTEXT_HTTP: 'true',
    SPLUNK_HEC_URL: url('splunk'),
    SPLUNK_HEC_TOKEN: env.SPLUNK_HEC_TOKEN,
    ES_URL: url('elasticsearch'),
    ES_API_KEY: env.ES_API_KEY,
    SENTINEL_DCE_URL: url('sentinelDce'),
    SENTINEL_AUTHORITY_URL: url('sentinelAuthority'),
    SENTINEL_TENANT_ID: env.SENTINEL_TENANT_ID,
    SENTINEL_CLIENT_ID: env.SENTINEL_CLIENT_ID,
    SENTINEL_CLIENT_SECRET: env.SENTINEL_CLIENT_SECRET,
    SENTINEL_DCR_ID: env.SENTINEL_DCR_ID,
    SENTINEL_STREAM: env.SENTINEL_STREAM,
    SENTINEL_ALERT_STREAM: env.SENTINEL_ALERT_STREAM,
    SLACK_WEBHOOK_URL: `${url('slack')}${env.SLACK_HOOK_PATH}`,
    PAGERDUTY_URL: `${url('pagerduty')}/v2/enqueue`,
    PAGERDUTY_ROUTING_KEY: env.PAGERDUTY_ROUTING_KEY,
    TWILIO_URL: url('twilio'),
    TWILIO_ACCOUNT_SID: env.TWILIO_ACCOUNT_SID,
    TWILIO_AUTH_TOKEN: env.TWILIO_AUTH_TOKEN,
    ROUTER_WEBHOOK_URL: `${url('webhook')}/vigil`,
    ROUTER_WEBHOOK_SECRET: env.ROUTER_WEBHOOK_SECRET,
    FIREWALL_URL: url('firewall'),
    FIREWALL_TOKEN: env.FIREWALL_TOKEN,
    SCIM_URL: url('scim'),
    SCIM_TOKEN: env.SCIM_TOKEN,
    EDR_URL: url('edr'),
    EDR_TOKEN: env.EDR_TOKEN,
    EDR_AUTH: 'bearer',
  };
}

/** Base URL of each stand-in for a host name, without starting anything. */
export function standinsUrls(env: StandinsEnv, host: string): (name: PortName) => string {
  return (name) => `http://${host}:${env.STANDINS_PORT_BASE + STANDIN_PORTS[name]}`;
}

/**
 * Where a stand-in listens. The stand-ins bind 127.0.0.1 only; to serve another address (a
 * container's 0.0.0.0) each one runs on a free loopback port behind a TCP relay on the public port.
 */
class Listener {
  private readonly relays: Server[] = [];
  private readonly sockets = new Set<Socket>();
  constructor(
    private readonly env: StandinsEnv,
    readonly relayed: boolean,
  ) {}

  port(name: PortName): number {
    return this.env.STANDINS_PORT_BASE + STANDIN_PORTS[name];
  }

  /** The port to give the stand-in itself: its public port, or any free one when relayed. */
  bindPort(name: PortName): number {
    return this.relayed ? 0 : this.port(name);
  }

  /** Base URL the services use. */
  url(name: PortName): string {
    const host = this.env.STANDINS_ADVERTISE_HOST ?? (this.relayed ? '127.0.0.1' : this.env.STANDINS_HOST);
    return `http://${host}:${this.port(name)}`;
  }

  async expose(name: PortName, boundPort: number): Promise<void> {
    if (!this.relayed) return;
    const server = createServer((client) => {
      const upstream = connect(boundPort, '127.0.0.1');
      this.sockets.add(client).add(upstream);
      const end = () => {
        client.destroy();
        upstream.destroy();
        this.sockets.delete(client);
        this.sockets.delete(upstream);
      };
      client.on('error', end).on('close', end);
      upstream.on('error', end).on('close', end);
      client.pipe(upstream).pipe(client);
    });
    await listen(server, this.port(name), this.env.STANDINS_HOST);
    this.relays.push(server);
  }

  /** Stops listening and cuts open relayed connections (keep-alive clients would hold close() forever). */
  async close(): Promise<void> {
    const closed = Promise.all(this.relays.map((s) => new Promise<void>((r) => s.close(() => r()))));
    for (const sock of this.sockets) sock.destroy();
    this.sockets.clear();
    await closed;
  }
}

function listen(server: Server | HttpServer, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** Starts every stand-in with the credentials in `env`; see StandinsEnvSchema. */
export async function startStandins(env: StandinsEnv): Promise<RunningStandins> {
  const loopback = env.STANDINS_HOST === '127.0.0.1' || env.STANDINS_HOST === 'localhost';
  const at = new Listener(env, !loopback);
  const closers: Array<() => Promise<void>> = [];
  try {
    // Long-running: the SIEM stand-ins count and index ids instead of keeping whole documents.
    const splunk = await SplunkStandin.start({ port: at.bindPort('splunk'), tokens: { [env.SPLUNK_HEC_TOKEN]: {} }, keepEvents: false });
    closers.push(() => splunk.close());
    await at.expose('splunk', splunk.server.port);

    const es = await ElasticsearchStandin.start({ port: at.bindPort('elasticsearch'), apiKeys: [env.ES_API_KEY], keepSource: false });
    closers.push(() => es.close());
    await at.expose('elasticsearch', es.server.port);

    const sentinel = await SentinelStandin.start({
      dcePort: at.bindPort('sentinelDce'),
      authorityPort: at.bindPort('sentinelAuthority'),
      tenantId: env.SENTINEL_TENANT_ID,
      clients: { [env.SENTINEL_CLIENT_ID]: env.SENTINEL_CLIENT_SECRET },
      dcrs: {
        [env.SENTINEL_DCR_ID]: {
          streams: { [env.SENTINEL_STREAM]: SENTINEL_EVENT_COLUMNS, [env.SENTINEL_ALERT_STREAM]: SENTINEL_ALERT_COLUMNS },
          publishers: [env.SENTINEL_CLIENT_ID],
        },
      },
      keepRows: false,
    });
    closers.push(() => sentinel.close());
    await at.expose('sentinelDce', sentinel.dce.port);
    await at.expose('sentinelAuthority', sentinel.authority.port);

    const slack = await startSlackStandin({ port: at.bindPort('slack'), hookPath: env.SLACK_HOOK_PATH });
    closers.push(() => slack.close());
    await at.expose('slack', slack.port);

    const pagerduty = await startPagerDutyStandin({ port: at.bindPort('pagerduty'), routingKeys: [env.PAGERDUTY_ROUTING_KEY] });
    closers.push(() => pagerduty.close());
    await at.expose('pagerduty', pagerduty.port);

    const twilio = await startTwilioStandin({
      port: at.bindPort('twilio'),
      accountSid: env.TWILIO_ACCOUNT_SID,
      authToken: env.TWILIO_AUTH_TOKEN,
    });
    closers.push(() => twilio.close());
    await at.expose('twilio', twilio.port);

    const webhook = await startWebhookReceiverStandin({ port: at.bindPort('webhook'), secret: env.ROUTER_WEBHOOK_SECRET });
    closers.push(() => webhook.close());
    await at.expose('webhook', webhook.port);

    const firewall = await startFirewallStandin({ port: at.bindPort('firewall'), token: env.FIREWALL_TOKEN });
    closers.push(() => firewall.close());
    await at.expose('firewall', firewall.port);

    const scim = await startScimStandin({ port: at.bindPort('scim'), token: env.SCIM_TOKEN });
    closers.push(() => scim.close());
    for (const u of env.STANDIN_SCIM_USERS) scim.addUser(u);
    await at.expose('scim', scim.port);

    const edr = await startEdrStandin({
      port: at.bindPort('edr'),
      auth: { kind: 'bearer', token: env.EDR_TOKEN },
      hosts: env.STANDIN_EDR_HOSTS,
    });
    closers.push(() => edr.close());
    await at.expose('edr', edr.port);

    const status = (): Record<string, unknown> => ({
      splunk: { events: splunk.eventCount },
      elasticsearch: { documents: es.count(), indices: es.indexNames(), conflicts: es.conflicts },
      sentinel: {
        rows: {
          [env.SENTINEL_STREAM]: sentinel.rowCount(env.SENTINEL_STREAM),
          [env.SENTINEL_ALERT_STREAM]: sentinel.rowCount(env.SENTINEL_ALERT_STREAM),
        },
      },
      slack: { messages: slack.received.length, rejected: slack.rejected.length },
      pagerduty: {
        events: pagerduty.events.length,
        open: [...pagerduty.alerts.values()].filter((a) => a.status === 'triggered').length,
        rejected: pagerduty.rejected.length,
      },
      twilio: { messages: twilio.messages.length, rejected: twilio.rejected.length },
      webhook: { deliveries: webhook.received.length, rejected: webhook.rejected.length },
      firewall: { blocks: [...firewall.blocks.keys()] },
      scim: { disabled: [...scim.users.values()].filter((u) => !u.active).map((u) => u.userName) },
      edr: { isolated: [...edr.hosts].filter(([, s]) => s === 'isolated').map(([h]) => h) },
    });

    const page = createHttpServer((req, res) => {
      const ok = req.method === 'GET' && (req.url === '/status' || req.url === '/');
      const body = JSON.stringify(ok ? status() : { error: 'not found' }, null, 2);
      res.writeHead(ok ? 200 : 404, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
    });
    await listen(page, at.port('status'), env.STANDINS_HOST);
    closers.push(
      () =>
        new Promise<void>((r) => {
          page.close(() => r());
          page.closeAllConnections();
        }),
    );
    closers.push(() => at.close());

    const serviceEnv = standinsServiceEnv(env, (name) => at.url(name));
    return {
      env: serviceEnv,
      status,
      statusUrl: `${at.url('status')}/status`,
      instances: { splunk, elasticsearch: es, sentinel, slack, pagerduty, twilio, webhook, firewall, scim, edr },
      close: async () => {
        for (const c of closers.reverse()) await c().catch(() => undefined);
      },
    };
  } catch (err) {
    for (const c of closers.reverse()) await c().catch(() => undefined);
    throw err;
  }
}

const USAGE = `usage: standins [--print-env]
  Starts every SaaS stand-in (Splunk HEC, Elasticsearch, Sentinel + Entra token, Slack, PagerDuty,
  Twilio, signed-webhook receiver, firewall, SCIM, EDR) on STANDINS_PORT_BASE+1.. (default 18701..),
  and a status page (GET /status) on STANDINS_PORT_BASE. Runs until SIGINT/SIGTERM.
  --print-env   print the services' environment (KEY=value) for these settings and exit (starts nothing)
settings: STANDINS_HOST (127.0.0.1), STANDINS_ADVERTISE_HOST, STANDINS_PORT_BASE (18700), credentials (docs/deploy.md)`;

/** `node tools/dist/cli.js standins`: the stand-ins as one long-running process. */
export async function standinsMain(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const unknown = args.filter((a) => a !== '--print-env');
  if (unknown.length > 0) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const env = parseEnv(StandinsEnvSchema);
  if (args.includes('--print-env')) {
    // Nothing is started: the URLs follow from the settings, so this works beside a running set.
    const loopback = env.STANDINS_HOST === '127.0.0.1' || env.STANDINS_HOST === 'localhost';
    const host = env.STANDINS_ADVERTISE_HOST ?? (loopback ? env.STANDINS_HOST : '127.0.0.1');
    const vars = standinsServiceEnv(env, standinsUrls(env, host));
    process.stdout.write(
      Object.entries(vars)
        .map(([k, v]) => `${k}=${v}\n`)
        .join(''),
    );
    return 0;
  }
  const running = await startStandins(env);
  process.stdout.write(`[standins] listening on ${env.STANDINS_HOST}; status: ${running.statusUrl}\n`);
  for (const [k, v] of Object.entries(running.env)) if (k.endsWith('_URL')) process.stdout.write(`[standins]   ${k}=${v}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  process.stdout.write('[standins] stopping\n');
  await running.close();
  return 0;
}
