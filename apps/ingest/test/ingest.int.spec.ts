import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Test } from '@nestjs/testing';
import type { INestApplication } from '@nestjs/common';
import { DlqRecordSchema, SecurityEventSchema, type TopicNames } from '@vigil/contracts';
import { Health, Metrics, parseEnv, silentLogger } from '@vigil/runtime';
import { SecurityLogger } from '@vigil/security-logger';
import { freshTopics, produceRaw, readTopic, testBrokers, uniqueName, waitFor, committedTotal } from '@vigil/testing';
import { IngestModule } from '../src/app.module';
import { IngestEnvSchema, ingestConfig } from '../src/config';

const KEY_B64 = Buffer.alloc(32, 5).toString('base64');

async function startIngest(namespace: string, extraEnv: Record<string, string> = {}): Promise<{ app: INestApplication; groupId: string }> {
  const groupId = uniqueName('ingest');
  const raw = {
    KAFKA_BROKERS: testBrokers().join(','),
    VIGIL_TOPIC_NAMESPACE: namespace,
    INGEST_GROUP_ID: groupId,
    KAFKA_CREATE_TOPICS: 'false',
    ...extraEnv,
  };
  const config = ingestConfig(parseEnv(IngestEnvSchema, raw), raw);
  const metrics = new Metrics('ingest', { defaultMetrics: false });
  const moduleRef = await Test.createTestingModule({
    imports: [
      IngestModule.forRoot({
        config,
        logger: silentLogger(),
        metrics,
        health: new Health(),
      }),
    ],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await app.init();
  return { app, groupId, metrics };
}

function classicEvent(i: number, ip = '198.51.100.10'): Record<string, unknown> {
  return {
    event_id: null,
    timestamp: `2026-11-29T10:00:${String(i % 60).padStart(2, '0')}.000001Z`,
    event_type: 'authentication',
    severity: 'medium',
    source: { application: 'web', environment: 'prod', ip, hostname: null },
    actor: { type: 'user', user_id: `user${i}`, username: null },
    action: 'login',
    outcome: 'failure',
    target: null,
    details: { i },
    tags: [],
    correlation_id: null,
    hash: 'deadbeefdeadbeef',
  };
}

describe('ingest against a real broker', () => {
  let topics: TopicNames;
  let namespace: string;
  let app: INestApplication | undefined;

  beforeEach(async () => {
    ({ namespace, topics } = await freshTopics(3, ['eventsRaw', 'events', 'eventsDlq']));
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('publishes valid events to the validated topic and every kind of bad input to the DLQ, without blocking the partition', async () => {
    const bad: Array<[string, Buffer]> = [
      ['invalid_json', Buffer.from('this is not json')],
      ['not_an_object', Buffer.from('[1,2,3]')],
      ['schema_violation', Buffer.from(JSON.stringify({ ...classicEvent(1), timestamp: undefined }))],
      ['schema_violation', Buffer.from(JSON.stringify({ ...classicEvent(2), severity: 'urgent' }))],
      ['schema_violation', Buffer.from(JSON.stringify({ ...classicEvent(3), source: { application: 'web', ip: '300.1.2.3' } }))],
      ['schema_violation', Buffer.from(JSON.stringify({ ...classicEvent(4), timestamp: 'not a time' }))],
      ['too_large', Buffer.from(JSON.stringify({ ...classicEvent(5), details: { blob: 'x'.repeat(1024 * 1024) } }))],
      ['too_deep', Buffer.from(JSON.stringify({ ...classicEvent(6), details: JSON.parse('{"a":'.repeat(50) + '1' + '}'.repeat(50)) }))],
      ['forbidden_key', Buffer.from(JSON.stringify(classicEvent(7)).replace('"details":{', '"details":{"__proto__":{"x":1},'))],
      ['unsupported_schema_version', Buffer.from(JSON.stringify({ ...classicEvent(8), schema_version: 99 }))],
      ['invalid_utf8', Buffer.concat([Buffer.from('{"action":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')])],
      ['nul_byte', Buffer.from(JSON.stringify({ ...classicEvent(9), action: 'a\u0000b' }))],
    ];
    // All on one key, so one partition: valid events after the bad ones must still get through.
    const values: Buffer[] = [];
    for (let i = 0; i < 10; i++) values.push(Buffer.from(JSON.stringify(classicEvent(100 + i))));
    for (const [, b] of bad) values.push(b);
    for (let i = 0; i < 10; i++) values.push(Buffer.from(JSON.stringify(classicEvent(200 + i))));
    await produceRaw(topics.eventsRaw, values, 'one-partition');

    const started = await startIngest(namespace);
    app = started.app;

    const valid = await readTopic(topics.events, 20, { settleMs: 500 });
    expect(valid).toHaveLength(20);
    const events = valid.map((m) => SecurityEventSchema.parse(JSON.parse(m.value.toString())));
    expect(new Set(events.map((e) => e.event_id)).size).toBe(20);
    expect(events.every((e) => e.timestamp.endsWith('Z') && e.legacy_hash === 'deadbeefdeadbeef')).toBe(true);
    expect(valid.every((m) => m.key === '198.51.100.10')).toBe(true);

    const dlq = await readTopic(topics.eventsDlq, bad.length, { settleMs: 500 });
    const records = dlq.map((m) => DlqRecordSchema.parse(JSON.parse(m.value.toString())));
    expect(records.map((r) => r.error_kind).sort()).toEqual(bad.map(([k]) => k).sort());
    for (const r of records) {
      expect(r.service).toBe('ingest');
      expect(r.source.topic).toBe(topics.eventsRaw);
      expect(r.reason.length).toBeGreaterThan(10);
      // the original bytes survive exactly, even when they are not UTF-8 (a prefix + hash when huge)
      const kept = Buffer.from(r.original_base64, 'base64');
      expect(
        bad.some(([, b]) =>
          r.original_truncated ? b.subarray(0, kept.length).equals(kept) && b.length === r.original_size : b.equals(kept),
        ),
      ).toBe(true);
    }
    await waitFor(
      'offsets committed past every message',
      async () => (await committedTotal(started.groupId, topics.eventsRaw)) === values.length,
    );
    // Counted once sent: events out, events rejected by kind (also in the shared DLQ family), events in per group.
    const series = async (name: string) =>
      (await started.metrics.registry.getSingleMetric(name)!.get()).values.map((v) => ({ ...v.labels, value: v.value }));
    const byKind = new Map<string, number>();
    for (const [k] of bad) byKind.set(k, (byKind.get(k) ?? 0) + 1);
    expect(await series('vigil_ingest_events_accepted_total')).toEqual([{ value: 20 }]);
    const rejected = await series('vigil_ingest_events_rejected_total');
    expect(new Map(rejected.map((v) => [v.kind, v.value]))).toEqual(byKind);
    const dead = await series('vigil_messages_dead_lettered_total');
    expect(dead.every((v) => v.topic === topics.eventsDlq)).toBe(true);
    expect(new Map(dead.map((v) => [v.kind, v.value]))).toEqual(byKind);
    const consumed = await series('vigil_messages_consumed_total');
    expect(consumed).toEqual([{ topic: topics.eventsRaw, group: started.groupId, value: values.length }]);
  });

  it('accepts events published by the security logger SDK, signed, and refuses unsigned ones when signatures are required', async () => {
    const started = await startIngest(namespace, { INGEST_HMAC_KEYS: `sdk-1=${KEY_B64}` });
    app = started.app;
    const signedLogger = new SecurityLogger({
      application: 'shop',
      brokers: testBrokers(),
      topicNamespace: namespace,
      signing: { keyId: 'sdk-1', key: Buffer.from(KEY_B64, 'base64') },
      warn: () => undefined,
    });
    const unsignedLogger = new SecurityLogger({
      application: 'legacy',
      brokers: testBrokers(),
      topicNamespace: namespace,
      warn: () => undefined,
    });
    const id1 = signedLogger.authentication({ userId: 'alice', outcome: 'failure', sourceIp: '192.0.2.1' });
    const id2 = signedLogger.authorization({ userId: 'alice', resource: '/admin', permission: 'write', granted: false });
    const id3 = unsignedLogger.dataAccess({ userId: 'bob', resource: 'customers', operation: 'export', records: 10 });
    await Promise.all([signedLogger.close(), unsignedLogger.close()]);

    const valid = await readTopic(topics.events, 2, { settleMs: 500 });
    const events = valid.map((m) => SecurityEventSchema.parse(JSON.parse(m.value.toString())));
    expect(events.map((e) => e.event_id).sort()).toEqual([id1, id2].sort());
    expect(events.every((e) => e.integrity?.verified === true)).toBe(true);
    const dlq = await readTopic(topics.eventsDlq, 1, { settleMs: 300 });
    const rec = DlqRecordSchema.parse(JSON.parse(dlq[0]!.value.toString()));
    expect(rec.error_kind).toBe('integrity_missing');
    expect(JSON.parse(Buffer.from(rec.original_base64, 'base64').toString()).event_id).toBe(id3);
  });
});

describe('ingest killed mid-batch', () => {
  const main = join(__dirname, '..', 'dist', 'main.js');

  interface IngestProcess {
    proc: ChildProcess;
    /** The last 8 KB it wrote, for a failure message. */
    output(): string;
    running(): boolean;
    /** Sends `signal` (unless it has exited already) and waits for the exit. */
    stop(signal: NodeJS.Signals): Promise<void>;
  }

  function spawnIngest(namespace: string, groupId: string): IngestProcess {
    const proc = spawn(process.execPath, [main], {
      env: {
        ...process.env,
        KAFKA_BROKERS: testBrokers().join(','),
        VIGIL_TOPIC_NAMESPACE: namespace,
        INGEST_GROUP_ID: groupId,
        KAFKA_CREATE_TOPICS: 'false',
        HTTP_PORT: '0',
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let tail = '';
    const keep = (c: Buffer) => (tail = (tail + c.toString('utf8')).slice(-8_000));
    proc.stdout!.on('data', keep);
    proc.stderr!.on('data', keep);
    const running = () => proc.exitCode === null && proc.signalCode === null;
    return {
      proc,
      output: () => tail,
      running,
      stop: async (signal) => {
        if (!running()) return;
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill(signal);
        await exited;
      },
    };
  }

  /** Waits like waitFor, but stops at once if the process exits, and puts its output in the error. */
  async function whileRunning(ingest: IngestProcess, what: string, check: () => Promise<boolean>, timeoutMs: number, everyMs: number) {
    let outcome: 'done' | 'exited';
    try {
      outcome = await waitFor(what, async () => (!ingest.running() ? 'exited' : (await check()) ? 'done' : false), timeoutMs, everyMs);
    } catch (err) {
      throw new Error(`${(err as Error).message}\ningest's last output:\n${ingest.output()}`);
    }
    if (outcome === 'exited') {
      throw new Error(
        `ingest exited (${ingest.proc.exitCode ?? ingest.proc.signalCode}) while waiting for ${what}; its last output:\n${ingest.output()}`,
      );
    }
  }

  it('has every accepted event on the validated topic after a kill -9 and restart (duplicates allowed, loss not)', async () => {
    if (!existsSync(main)) throw new Error(`${main} is missing: build first (pnpm exec tsc -b tsconfig.build.json)`);
    const { namespace, topics } = await freshTopics(3, ['eventsRaw', 'events', 'eventsDlq']);
    const total = 20_000;
    const chunkSize = 1000;
    const ids: string[] = [];
    const produceChunk = (chunk: number) =>
      produceRaw(
        topics.eventsRaw,
        Array.from({ length: chunkSize }, (_, j) => {
          const n = chunk * chunkSize + j;
          const id = `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
          ids.push(id);
          return JSON.stringify({ ...classicEvent(n, `10.0.${n % 250}.1`), event_id: id });
        }),
      );
    // Phase A: half the events, then kill ingest as soon as it committed its first batch, while
    // the rest of that half is still in flight. Phase B: the other half, then a restart.
    const half = total / chunkSize / 2;
    for (let c = 0; c < half; c++) await produceChunk(c);
    const groupId = uniqueName('ingest-kill');
    const first = spawnIngest(namespace, groupId);
    let before: number;
    try {
      await whileRunning(
        first,
        'ingest to commit a first batch',
        async () => (await committedTotal(groupId, topics.eventsRaw)) > 0,
        60_000,
        20, // kill as soon as a first batch is committed, with the rest still in flight
      );
    } finally {
      await first.stop('SIGKILL');
      before = await committedTotal(groupId, topics.eventsRaw);
    }
    for (let c = half; c < 2 * half; c++) await produceChunk(c);

    const second = spawnIngest(namespace, groupId);
    try {
      await whileRunning(
        second,
        'all raw offsets committed',
        async () => (await committedTotal(groupId, topics.eventsRaw)) === total,
        120_000,
        500,
      );
    } finally {
      await second.stop('SIGTERM');
    }
    const out = await readTopic(topics.events, total, { timeoutMs: 60_000, settleMs: 1000 });
    const seen = new Set(out.map((m) => (JSON.parse(m.value.toString()) as { event_id: string }).event_id));
    const missing = ids.filter((id) => !seen.has(id));
    expect(before).toBeLessThan(total / 2);
    expect(missing).toEqual([]);
    expect(out.length).toBeGreaterThanOrEqual(total);
  }, 240_000);
});
