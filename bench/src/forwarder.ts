/**
 * SIEM forwarder benchmark. Runs the real service (apps/siem-forwarder/dist/main.js) as a child
 * process against the local broker and the SIEM stand-ins, and measures from broker-side facts
 * (committed offsets) and /proc:
 *   1. events/s delivered into each stand-in at a few batch sizes (pre-filled topic, start-up and
 *      group join excluded), with the ratio to the smallest batch size;
 *   2. memory while a sink is down and the backlog grows: RSS and heap sampled as the backlog grows,
 *      the peak (VmHWM), then the drain once the sink is back.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { gzipSync } from 'node:zlib';
import type { ChildProcess } from 'node:child_process';
import { ElasticsearchStandin, SentinelStandin, SplunkStandin } from '@vigil/standins';
import { freshTopics, testBrokers, uniqueName, waitFor } from '@vigil/testing';
import { ROOT, fmt, measureDrain, produceMany, startNode, stop, table } from './lib';

const MAIN = `${ROOT}/apps/siem-forwarder/dist/main.js`;
const EVENTS = Number(process.env.BENCH_FORWARDER_EVENTS ?? 20_000);
const BACKLOG = Number(process.env.BENCH_FORWARDER_BACKLOG ?? 200_000);
const BATCH_SIZES = [50, 250, 1000];
const SINKS = ['splunk', 'elasticsearch', 'sentinel'] as const;
type Sink = (typeof SINKS)[number];

const HEC_TOKEN = '5e3d1c2b-7a69-4f8e-9d0c-1b2a3f4e5d6c';
const ES_KEY = Buffer.from('bench:key').toString('base64');
const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const APP = '0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d';
const DCR = 'dcr-0123456789abcdef0123456789abcdef';
const STREAM = 'Custom-VigilSecurityEvents_CL';

/** A SecurityEvent v1 of a realistic size (~700 bytes). */
function event(i: number): { key: string; value: string } {
  const ip = `203.0.${(i >> 8) & 255}.${i & 255}`;
  const ts = new Date(Date.UTC(2026, 10, 29, 10, 0, 0) + i).toISOString();
  return {
    key: ip,
    value: JSON.stringify({
      schema_version: 1,
      event_id: randomUUID(),
      timestamp: ts,
      received_at: ts,
      event_type: 'authentication',
      severity: 'medium',
      source: { application: 'billing-api', environment: 'production', ip, hostname: `web-${i % 16}` },
      actor: {
        type: 'user',
        user_id: `user-${i % 5000}`,
        username: `user${i % 5000}@example.com`,
        ip,
        user_agent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36',
      },
      action: 'login',
      outcome: i % 7 === 0 ? 'success' : 'failure',
      target: { type: 'account', id: `acct-${i % 977}`, resource: '/api/v2/session' },
      details: { reason: 'bad_password', attempt: i % 5, mfa: false, geo: { country: 'NL', city: 'Amsterdam' } },
      tags: ['auth', 'bench'],
    }),
  };
}

/** The row the forwarder writes for an event (same columns as apps/siem-forwarder's stream declaration). */
function sentinelRow(d: Record<string, unknown>): Record<string, unknown> {
  const source = d.source as Record<string, unknown>;
  const actor = d.actor as Record<string, unknown>;
  return {
    TimeGenerated: d.timestamp,
    EventId: d.event_id,
    EventType: d.event_type,
    Severity: d.severity,
    Action: d.action,
    Outcome: d.outcome,
    SourceApplication: source.application,
    SourceEnvironment: source.environment,
    SourceIp: source.ip,
    SourceHostname: source.hostname,
    ActorType: actor.type,
    ActorUserId: actor.user_id,
    ActorUsername: actor.username,
    ActorIp: actor.ip,
    Target: d.target,
    Details: d.details,
    Tags: d.tags,
    CorrelationId: null,
    ReceivedAt: d.received_at,
    Flags: [],
  };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function procStatus(pid: number): Promise<{ rssMiB: number; hwmMiB: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { rssMiB: kb('VmRSS') / 1024, hwmMiB: kb('VmHWM') / 1024 };
}

/** Heap in use, from the service's own /metrics (prom-client's default process metrics). */
async function heapMiB(port: number): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  const text = await res.text();
  const m = /^vigil_process_nodejs_heap_size_used_bytes(?:\{[^}]*\})? (\d+(?:\.\d+)?)/m.exec(text);
  return m ? Number(m[1]) / (1024 * 1024) : Number.NaN;
}

interface Siems {
  splunk: SplunkStandin;
  es: ElasticsearchStandin;
  sentinel: SentinelStandin;
}

function delivered(siems: Siems, sink: Sink): number {
  if (sink === 'splunk') return siems.splunk.eventCount;
  if (sink === 'elasticsearch') return siems.es.count();
  return siems.sentinel.rowCount(STREAM);
}

function env(
  siems: Siems,
  sink: Sink,
  namespace: string,
  prefix: string,
  port: number,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    KAFKA_BROKERS: testBrokers().join(','),
    VIGIL_TOPIC_NAMESPACE: namespace,
    KAFKA_CREATE_TOPICS: 'false',
    HTTP_HOST: '127.0.0.1',
    HTTP_PORT: String(port),
    SIEM_SINKS: sink,
    SIEM_GROUP_ID_PREFIX: prefix,
    SIEM_READ_MODE: 'per-sink', // one sink per process here: its own group, no spill topic
    SIEM_ALLOW_PLAINTEXT_HTTP: 'true',
    SIEM_FLUSH_INTERVAL_MS: '200',
    SPLUNK_HEC_URL: siems.splunk.url,
    SPLUNK_HEC_TOKEN: HEC_TOKEN,
    ES_URL: siems.es.url,
    ES_API_KEY: ES_KEY,
    SENTINEL_DCE_URL: siems.sentinel.dceUrl,
    SENTINEL_AUTHORITY_URL: siems.sentinel.authorityUrl,
    SENTINEL_DCR_ID: DCR,
    SENTINEL_STREAM: STREAM,
    SENTINEL_TENANT_ID: TENANT,
    SENTINEL_CLIENT_ID: APP,
    SENTINEL_CLIENT_SECRET: 'bench-secret',
    ...extra,
  };
}

async function ready(port: number, child: ChildProcess): Promise<void> {
  await waitFor(
    'the forwarder to be ready',
    async () => {
      if (child.exitCode !== null) throw new Error(`forwarder exited with ${child.exitCode}`);
      const res = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => null);
      return res?.status === 200;
    },
    60_000,
    100,
  );
}

/**
 * The stand-in's own ceiling: a bare client in this process posting pre-built bodies of `size`
 * events, two requests in flight like the forwarder's default, no Kafka. The forwarder cannot beat it.
 */
async function ceiling(siems: Siems, sink: Sink, size: number): Promise<number> {
  const docs = Array.from({ length: EVENTS }, (_, i) => JSON.parse(event(i).value) as Record<string, unknown>);
  let url: string;
  let headers: Record<string, string>;
  const bodies: Array<string | Buffer> = [];
  if (sink === 'sentinel') {
    const res = await fetch(`${siems.sentinel.authorityUrl}/${TENANT}/oauth2/v2.0/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: APP,
        client_secret: 'bench-secret',
        scope: 'https://monitor.azure.com/.default',
      }).toString(),
    });
    const token = ((await res.json()) as { access_token: string }).access_token;
    url = `${siems.sentinel.dceUrl}/dataCollectionRules/${DCR}/streams/${STREAM}?api-version=2023-01-01`;
    headers = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' };
    for (let i = 0; i < EVENTS; i += size) {
      bodies.push(gzipSync(JSON.stringify(docs.slice(i, i + size).map(sentinelRow))));
    }
  } else if (sink === 'splunk') {
    url = `${siems.splunk.url}/services/collector/event`;
    headers = { Authorization: `Splunk ${HEC_TOKEN}`, 'Content-Type': 'application/json' };
    for (let i = 0; i < EVENTS; i += size) {
      bodies.push(
        docs
          .slice(i, i + size)
          .map((d) =>
            JSON.stringify({ time: Date.parse(String(d.timestamp)) / 1000, source: 'vigil', sourcetype: 'vigil:security:event', event: d }),
          )
          .join('\n'),
      );
    }
  } else {
    url = `${siems.es.url}/_bulk`;
    headers = { Authorization: `ApiKey ${ES_KEY}`, 'Content-Type': 'application/x-ndjson' };
    for (let i = 0; i < EVENTS; i += size) {
      bodies.push(
        docs
          .slice(i, i + size)
          .map(
            (d) =>
              `${JSON.stringify({ create: { _index: 'vigil-events-2026.11.29', _id: `${String(d.event_id)}-ceiling` } })}\n${JSON.stringify(d)}\n`,
          )
          .join(''),
      );
    }
  }
  const started = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < bodies.length) {
      const body = bodies[next++]!;
      const res = await fetch(url, { method: 'POST', headers, body });
      await res.arrayBuffer();
      if (res.status >= 300) throw new Error(`${sink} ceiling run got HTTP ${res.status}`);
    }
  };
  await Promise.all([worker(), worker()]);
  return EVENTS / ((performance.now() - started) / 1000);
}

async function throughput(siems: Siems): Promise<void> {
  console.log(
    `\nthroughput: ${fmt(EVENTS)} events pre-filled on a 3-partition topic, one sink per run, delivery counted from committed offsets;\nceiling: a bare client posting pre-built bodies of the same size to the same stand-in (2 in flight, no Kafka)`,
  );
  const rows: Array<Record<string, string | number>> = [];
  for (const sink of SINKS) {
    let base = 0;
    for (const size of BATCH_SIZES) {
      const { namespace, topics } = await freshTopics(3, ['events', 'alerts', 'alertsDlq', 'forwardDlq']);
      await produceMany(topics.events, EVENTS, event);
      const before = delivered(siems, sink);
      const prefix = uniqueName('bench-fwd');
      const port = await freePort();
      const child = startNode(MAIN, env(siems, sink, namespace, prefix, port, { SIEM_BATCH_MAX_EVENTS: String(size) }));
      let r: Awaited<ReturnType<typeof measureDrain>>;
      let mem: Awaited<ReturnType<typeof procStatus>>;
      try {
        r = await measureDrain(`${prefix}-${sink}`, topics.events, EVENTS);
        const got = delivered(siems, sink) - before;
        if (got < EVENTS) throw new Error(`${sink} received ${got} of ${EVENTS}`);
        mem = await procStatus(child.pid!);
      } finally {
        await stop(child);
      }
      const max = await ceiling(siems, sink, size);
      if (base === 0) base = r.rate;
      rows.push({
        sink,
        'batch (events)': size,
        'events/s': fmt(r.rate),
        'vs batch 50': `${fmt(r.rate / base, 2)}x`,
        'stand-in ceiling ev/s': fmt(max),
        'of ceiling': `${fmt((100 * r.rate) / max)}%`,
        'peak RSS MiB': fmt(mem.hwmMiB, 1),
      });
    }
  }
  table(rows);
}

async function memoryWhileDown(siems: Siems): Promise<void> {
  console.log(`\nmemory while Elasticsearch is down: ${fmt(BACKLOG)} events arrive during the outage (default batch settings)`);
  const { namespace, topics } = await freshTopics(3, ['events', 'alerts', 'alertsDlq', 'forwardDlq']);
  const prefix = uniqueName('bench-down');
  const port = await freePort();
  await siems.es.server.goDown();
  const child = startNode(MAIN, env(siems, 'elasticsearch', namespace, prefix, port, { SIEM_BREAKER_OPEN_MS: '2000' }));
  const samples: Array<{ produced: number; rss: number; heap: number }> = [];
  try {
    await ready(port, child);
    await new Promise((r) => setTimeout(r, 1_000));
    const idle = await procStatus(child.pid!);
    const idleHeap = await heapMiB(port);
    let produced = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const s = await procStatus(child.pid!);
        samples.push({ produced, rss: s.rssMiB, heap: await heapMiB(port) });
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
    const chunk = 10_000;
    for (let i = 0; i < BACKLOG; i += chunk) {
      const n = Math.min(chunk, BACKLOG - i);
      await produceMany(topics.events, n, (j) => event(i + j));
      produced += n;
    }
    await new Promise((r) => setTimeout(r, 3_000)); // the outage goes on with the whole backlog waiting
    sampling = false;
    await sampler;
    const during = await procStatus(child.pid!);
    const before = siems.es.count();

    await siems.es.server.comeBack();
    const drain = await measureDrain(`${prefix}-elasticsearch`, topics.events, BACKLOG, 600_000);
    const after = await procStatus(child.pid!);
    const got = siems.es.count() - before;
    if (got < BACKLOG) throw new Error(`elasticsearch received ${got} of ${BACKLOG} after the outage`);

    const at = (fraction: number) => samples.find((s) => s.produced >= BACKLOG * fraction) ?? samples[samples.length - 1]!;
    const peakRss = Math.max(...samples.map((s) => s.rss));
    const peakHeap = Math.max(...samples.map((s) => s.heap));
    table([
      { moment: 'idle, sink down, no backlog', 'backlog (events)': 0, 'RSS MiB': fmt(idle.rssMiB, 1), 'heap MiB': fmt(idleHeap, 1) },
      ...[0.25, 0.5, 0.75, 1].map((f) => {
        const s = at(f);
        return {
          moment: `backlog ${f * 100}% produced`,
          'backlog (events)': fmt(s.produced),
          'RSS MiB': fmt(s.rss, 1),
          'heap MiB': fmt(s.heap, 1),
        };
      }),
      { moment: 'peak while down (sampled)', 'backlog (events)': fmt(BACKLOG), 'RSS MiB': fmt(peakRss, 1), 'heap MiB': fmt(peakHeap, 1) },
      { moment: 'peak RSS of the process so far (VmHWM)', 'backlog (events)': '', 'RSS MiB': fmt(during.hwmMiB, 1), 'heap MiB': '' },
      {
        moment: 'after draining the backlog',
        'backlog (events)': 0,
        'RSS MiB': fmt(after.rssMiB, 1),
        'heap MiB': fmt(await heapMiB(port), 1),
      },
    ]);
    const first = at(0.25);
    console.log(
      `RSS growth from 25% to 100% of the backlog: ${fmt(at(1).rss - first.rss, 1)} MiB (${fmt(at(1).rss / first.rss, 2)}x); peak RSS / idle RSS: ${fmt(peakRss / idle.rssMiB, 2)}x`,
    );
    console.log(
      `backlog drained after the sink came back: ${fmt(drain.rate)} events/s over ${fmt(drain.seconds, 1)} s; peak RSS of the whole run (VmHWM): ${fmt(after.hwmMiB, 1)} MiB`,
    );
  } finally {
    await stop(child);
  }
}

export async function run(): Promise<void> {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: build first (pnpm exec tsc -b tsconfig.build.json)`);
  const siems: Siems = {
    splunk: await SplunkStandin.start({ tokens: { [HEC_TOKEN]: {} }, keepEvents: false }),
    es: await ElasticsearchStandin.start({ apiKeys: [ES_KEY], keepSource: false }),
    sentinel: await SentinelStandin.start({
      tenantId: TENANT,
      clients: { [APP]: 'bench-secret' },
      dcrs: {
        [DCR]: {
          streams: {
            [STREAM]: [
              { name: 'TimeGenerated', type: 'datetime' },
              { name: 'EventId', type: 'string' },
            ],
          },
          publishers: [APP],
        },
      },
      keepRows: false,
    }),
  };
  try {
    await throughput(siems);
    await memoryWhileDown(siems);
  } finally {
    await Promise.all([siems.splunk.close(), siems.es.close(), siems.sentinel.close()]);
  }
}
