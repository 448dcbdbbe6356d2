/**
 * Ingest throughput: raw → validated, ~1 KB events, the real service as its own process, next to a
 * plain kafkajs pass-through measured in the same run on the same kind of topic. Also the pure
 * validation function alone, to show how much of the time is Kafka.
 */
import { uuidV5 } from '@vigil/contracts';
import { freshTopics, uniqueName } from '@vigil/testing';
import { validateRawEvent } from '@vigil/ingest/dist/domain/validate';
import { passthroughs, startPassthrough } from './kafkajs-published';
import { ROOT, fmt, measureDrain, produceMany, startNode, stop, table } from './lib';

const N = Number(process.env.BENCH_INGEST_EVENTS ?? 200_000);
const PARTITIONS = 6;

/** A realistic ~1 KB classic-shape event. */
export function sampleEvent(i: number): string {
  return JSON.stringify({
    event_id: uuidV5(`bench-${i}`),
    timestamp: new Date(Date.UTC(2026, 10, 29, 10, 0, 0) + i).toISOString().replace('Z', '123Z'), // microseconds, as Python writes them
    event_type: i % 3 === 0 ? 'authentication' : i % 3 === 1 ? 'data_access' : 'network_event',
    severity: ['info', 'low', 'medium', 'high'][i % 4],
    source: {
      application: 'billing-api',
      environment: 'production',
      ip: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
      hostname: `web-${i % 20}`,
    },
    actor: {
      type: 'user',
      user_id: `user-${i % 5000}`,
      username: `user${i % 5000}@example.com`,
      session_id: `sess-${i % 9000}`,
      user_agent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Safari/537.36',
    },
    action: 'login',
    outcome: i % 5 === 0 ? 'success' : 'failure',
    target: { type: 'endpoint', resource: '/api/v2/accounts/login', name: 'login' },
    details: {
      method: 'password',
      mfa: false,
      attempt: i % 7,
      request_id: uuidV5(`req-${i}`),
      response_code: 401,
      bytes: 1234,
      geo: { country: 'NL', city: 'Amsterdam' },
      padding: 'x'.repeat(220),
    },
    tags: ['auth', 'web', 'bench'],
    correlation_id: uuidV5(`corr-${i}`),
    hash: 'a1b2c3d4e5f60708',
  });
}

export async function run(): Promise<void> {
  const sample = sampleEvent(1);
  console.log(`events: ${fmt(N)} of ~${sample.length} bytes, ${PARTITIONS} partitions, Kafka and the service on this machine`);

  // Pure validation, in process: the ceiling set by JSON + zod + normalisation.
  const buffers = Array.from({ length: 20_000 }, (_, i) => Buffer.from(sampleEvent(i)));
  const opts = {
    limits: { maxBytes: 1024 * 1024, maxDepth: 32 },
    nowMs: Date.now(),
    receivedAt: new Date().toISOString(),
    futureToleranceMs: 300_000,
    fallbackEventId: () => uuidV5('x'),
    integrity: 'off' as const,
    keys: new Map(),
  };
  for (const b of buffers.slice(0, 2000)) validateRawEvent(b, opts);
  const t = performance.now();
  let ok = 0;
  for (let r = 0; r < 5; r++) for (const b of buffers) if (validateRawEvent(b, opts).ok) ok++;
  const pure = ok / ((performance.now() - t) / 1000);

  // Baseline: a kafkajs pass-through over the same events, on kafkajs as published; then on the
  // copy Vigil runs (patched), for comparison.
  let produceRate = 0;
  const pts = passthroughs().map((p) => ({ ...p, rate: 0 }));
  for (const p of pts) {
    const base = await freshTopics(PARTITIONS, ['eventsRaw', 'events']);
    produceRate = await produceMany(base.topics.eventsRaw, N, (i) => ({ key: `k${i % 1000}`, value: sampleEvent(i) }));
    const ptGroup = uniqueName('passthrough');
    const pt = startPassthrough(base.topics.eventsRaw, base.topics.events, ptGroup, p.kafkajsDir);
    try {
      p.rate = (await measureDrain(ptGroup, base.topics.eventsRaw, N)).rate;
    } finally {
      await stop(pt);
    }
  }
  const passthrough = pts[0]!;

  // Vigil ingest, the real service process: validation inline, and on one worker thread (the default).
  const variants: Array<{ label: string; workers: number; rate: number }> = [
    { label: 'vigil ingest, validation inline', workers: 0, rate: 0 },
    { label: 'vigil ingest, 1 validation worker (default)', workers: 1, rate: 0 },
    { label: 'vigil ingest, 2 validation workers', workers: 2, rate: 0 },
  ];
  for (const v of variants) {
    const ing = await freshTopics(PARTITIONS, ['eventsRaw', 'events', 'eventsDlq']);
    await produceMany(ing.topics.eventsRaw, N, (i) => ({ key: `k${i % 1000}`, value: sampleEvent(i) }));
    const group = uniqueName('ingest');
    const svc = startNode(`${ROOT}/apps/ingest/dist/main.js`, {
      VIGIL_TOPIC_NAMESPACE: ing.namespace,
      INGEST_GROUP_ID: group,
      INGEST_WORKERS: String(v.workers),
      KAFKA_CREATE_TOPICS: 'false',
      HTTP_PORT: '0',
    });
    try {
      v.rate = (await measureDrain(group, ing.topics.eventsRaw, N)).rate;
    } finally {
      await stop(svc);
    }
  }

  table([
    { stage: 'producer fill (acks=1)', 'events/s': fmt(produceRate) },
    { stage: 'pure validateRawEvent (1 thread)', 'events/s': fmt(pure) },
    ...pts.map((p) => ({ stage: p.stage, 'events/s': fmt(p.rate) })),
    ...variants.map((v) => ({ stage: v.label, 'events/s': fmt(v.rate) })),
  ]);
  for (const v of variants) console.log(`ratio ${v.label} / pass-through: ${fmt(v.rate / passthrough.rate, 2)} (target ≥ 0.70)`);
  const patched = pts[1]!;
  for (const v of variants) console.log(`  (to the patched pass-through: ${fmt(v.rate / patched.rate, 2)})`);
}
