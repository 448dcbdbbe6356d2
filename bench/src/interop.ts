/**
 * Interop figures: events/s into the raw topic through the HEC-compatible endpoint of the real
 * ingest service (its own process), next to kafkajs producing the same events with the same
 * batching and acks=all straight to Kafka; and the hash chain's write and verify rates next to
 * plain JSON serialisation of the same records. The ingest process also runs its pipeline (raw →
 * validated) during the HEC run, as it does in production; the baseline has no such competitor.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { ChainVerifier, ChainWriter, chainLine, parseChainKeys } from '@vigil/contracts';
import { freshTopics, uniqueName, waitFor } from '@vigil/testing';
import { sampleEvent } from './ingest';
import { ROOT, fmt, kafka, startNode, stop, table } from './lib';

const N = Number(process.env.BENCH_HEC_EVENTS ?? 20_000);
const PER_REQUEST = 100;
const CONCURRENCY = 8;

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Runs `total / per` jobs with at most `concurrency` at once; returns jobs/s × per. */
async function pump(total: number, per: number, concurrency: number, job: (from: number) => Promise<void>): Promise<number> {
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    for (;;) {
      const from = next;
      next += per;
      if (from >= total) return;
      await job(from);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return total / ((performance.now() - started) / 1000);
}

async function hec(): Promise<void> {
  const events = Array.from({ length: N }, (_, i) => JSON.parse(sampleEvent(i)) as Record<string, unknown>);
  for (const e of events) delete e.hash; // the HEC path is for the current shape
  const bodies = new Map<number, string>();
  for (let i = 0; i < N; i += PER_REQUEST)
    bodies.set(
      i,
      events
        .slice(i, i + PER_REQUEST)
        .map((event) => JSON.stringify({ event, sourcetype: 'vigil' }))
        .join(''),
    );

  // Baseline: kafkajs, same batches, acks=all, same concurrency.
  const base = await freshTopics(6, ['eventsRaw']);
  const producer = kafka().producer({ allowAutoTopicCreation: false, idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const direct = await pump(N, PER_REQUEST, CONCURRENCY, async (from) => {
    await producer.send({
      topic: base.topics.eventsRaw,
      acks: -1,
      messages: events
        .slice(from, from + PER_REQUEST)
        .map((e) => ({ key: String((e.source as { ip: string }).ip), value: JSON.stringify(e) })),
    });
  });
  await producer.disconnect();

  const token = randomBytes(24).toString('hex');
  const port = await freePort();
  const { namespace } = await freshTopics(6, ['eventsRaw', 'events', 'eventsDlq']);
  const child = startNode(`${ROOT}/apps/ingest/dist/main.js`, {
    VIGIL_TOPIC_NAMESPACE: namespace,
    KAFKA_CREATE_TOPICS: 'false',
    HTTP_HOST: '127.0.0.1',
    HTTP_PORT: String(port),
    INGEST_GROUP_ID: uniqueName('bench-ingest'),
    INGEST_HEC_TOKENS: `bench:${createHash('sha256').update(token).digest('hex')}`,
    INGEST_HTTP_MAX_BODY_BYTES: String(4 * 1024 * 1024),
  });
  try {
    const url = `http://127.0.0.1:${port}`;
    await waitFor('HEC healthy', async () => (await fetch(`${url}/services/collector/health`)).status === 200, 60_000, 200);
    let refused = 0;
    const viaHec = await pump(N, PER_REQUEST, CONCURRENCY, async (from) => {
      const res = await fetch(`${url}/services/collector/event`, {
        method: 'POST',
        body: bodies.get(from)!,
        headers: { Authorization: `Splunk ${token}` },
      });
      if (res.status !== 200) refused++;
      await res.arrayBuffer();
    });
    if (refused > 0) throw new Error(`${refused} HEC requests were not answered 200`);
    console.log(
      `HEC: ${fmt(N)} events of ~${(bodies.get(0)!.length / PER_REQUEST) | 0} bytes, ${PER_REQUEST} per request, ${CONCURRENCY} requests at once, acks=all`,
    );
    table([
      { path: 'kafkajs → raw topic (baseline)', 'events/s': fmt(direct), 'vs baseline': '1.00×' },
      { path: 'HTTP HEC → ingest → raw topic', 'events/s': fmt(viaHec), 'vs baseline': `${fmt(viaHec / direct, 2)}×` },
    ]);
  } finally {
    await stop(child);
  }
}

function chain(): void {
  const keys = parseChainKeys(`k=${Buffer.alloc(32, 1).toString('base64')}`);
  const docs = Array.from({ length: 50_000 }, (_, i) => JSON.parse(sampleEvent(i)) as unknown);
  const t0 = performance.now();
  let plain = 0;
  for (const d of docs) plain += JSON.stringify(d).length;
  const tPlain = (performance.now() - t0) / 1000;
  const w = new ChainWriter('bench/events', keys, null, 'k');
  const t1 = performance.now();
  const lines: string[] = [];
  for (let i = 0; i < docs.length; i += 500) {
    const recs = w.batch(docs.slice(i, i + 500), '2026-11-29T10:00:00.000Z');
    w.commit(recs);
    for (const r of recs) lines.push(chainLine(r));
  }
  const tWrite = (performance.now() - t1) / 1000;
  const v = new ChainVerifier(keys, { requireGenesis: true });
  const t2 = performance.now();
  lines.forEach((text, i) => v.push({ file: 'bench', line: i + 1, text }));
  const r = v.end();
  const tVerify = (performance.now() - t2) / 1000;
  if (!r.ok || r.records !== docs.length) throw new Error('chain did not verify');
  console.log(`hash chain: ${fmt(docs.length)} records of ~${Math.round(plain / docs.length)} bytes, in process`);
  table([
    { step: 'JSON.stringify only (baseline)', 'records/s': fmt(docs.length / tPlain), 'vs baseline': '1.00×' },
    {
      step: 'chain write (canonical JSON + HMAC + line)',
      'records/s': fmt(docs.length / tWrite),
      'vs baseline': `${fmt(tPlain / tWrite, 2)}×`,
    },
    {
      step: 'verify (parse + canonical JSON + HMAC + links)',
      'records/s': fmt(docs.length / tVerify),
      'vs baseline': `${fmt(tPlain / tVerify, 2)}×`,
    },
  ]);
}

export async function run(): Promise<void> {
  await hec();
  chain();
}
