import { DlqRecordSchema } from '@vigil/contracts';
import type { BatchContext, ConsumedMessage, OutMessage } from '@vigil/kafka';
import { Metrics, silentLogger } from '@vigil/runtime';
import type { BatchLimits } from '../domain/batching';
import type { SendOutcome } from '../domain/outcome';
import { ForwarderMetrics } from './metrics';
import { BatchAbandoned, SinkRunner, type RunnerSettings } from './runner';
import type { EncodedRecord, SinkClient } from './sink';

type Rec = EncodedRecord;

/** A sink that answers from a script and remembers every request. */
class FakeSink implements SinkClient<Rec> {
  readonly name = 'elasticsearch' as const;
  readonly calls: Array<{ ids: string[]; at: number }> = [];
  constructor(
    readonly limits: BatchLimits,
    private readonly answer: (records: readonly Rec[], call: number) => SendOutcome | Promise<SendOutcome>,
  ) {}
  encode(): Rec {
    throw new Error('not used');
  }
  async send(records: readonly Rec[]): Promise<SendOutcome> {
    this.calls.push({ ids: records.map((r) => r.id), at: Date.now() });
    return this.answer(records, this.calls.length);
  }
  describe() {
    return {};
  }
  async close() {}
}

class FakeDlq {
  readonly sent: OutMessage[] = [];
  fail = false;
  async send(messages: readonly OutMessage[]): Promise<void> {
    if (this.fail) throw new Error('broker down');
    this.sent.push(...messages);
  }
  records() {
    return this.sent.map((m) => DlqRecordSchema.parse(JSON.parse(String(m.value))));
  }
}

const LIMITS: BatchLimits = { maxEvents: 100, maxBytes: 10_000, frameBytes: 0, separatorBytes: 0 };
const HOUR = 3_600_000;
const SETTINGS: RunnerSettings = {
  lingerMs: HOUR, // longer than any test: a test that relies on the timer sets it explicitly
  maxAttempts: 5,
  backoff: { initialMs: 5, maxMs: 20, jitter: 0 },
  breakerFailures: 5,
  breakerOpenMs: 50,
  maxInFlight: 1,
  shutdownGraceMs: 1_000,
};

const ok = (n: number): SendOutcome => ({ kind: 'items', items: Array.from({ length: n }, () => ({ status: 'ok' })) });

function items(ids: string[], bytes = 10) {
  return ids.map((id, i) => ({
    record: { id, kind: 'event' as const, bytes },
    msg: {
      topic: 'events',
      partition: 0,
      offset: String(i),
      key: null,
      value: Buffer.from(`{"id":"${id}"}`),
      timestamp: '0',
      headers: {},
    } as ConsumedMessage,
  }));
}

function ctx(over: Partial<BatchContext> & { active?: () => boolean } = {}): BatchContext & { beats: number } {
  const c = {
    topic: 'events',
    partition: 0,
    beats: 0,
    lag: 0,
    heartbeat: async () => {
      c.beats++;
    },
    isActive: over.active ?? (() => true),
    ...over,
  };
  return c;
}

function runner(
  sink: FakeSink,
  dlq: FakeDlq,
  settings: Partial<RunnerSettings> = {},
  metrics = new ForwarderMetrics(new Metrics('test', { defaultMetrics: false })),
) {
  return new SinkRunner<Rec>({
    client: sink,
    settings: { ...SETTINGS, ...settings },
    dlq,
    dlqTopic: 'siem.forward.dlq',
    service: 'siem-forwarder',
    logger: silentLogger(),
    metrics,
    random: () => 0.5,
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('batching', () => {
  let r: SinkRunner<Rec> | undefined;
  afterEach(async () => {
    await r?.stop();
    r = undefined;
  });

  it('a lone item waits for the flush interval, then goes alone', async () => {
    const sink = new FakeSink(LIMITS, (recs) => ok(recs.length));
    r = runner(sink, new FakeDlq(), { lingerMs: 300 });
    const started = Date.now();
    await r.deliver(items(['a']), ctx());
    expect(sink.calls).toEqual([{ ids: ['a'], at: expect.any(Number) }]);
    expect(sink.calls[0]!.at - started).toBeGreaterThanOrEqual(290);
  });

  it('a batch full by count goes at once (the flush interval is an hour here)', async () => {
    const sink = new FakeSink({ ...LIMITS, maxEvents: 3 }, (recs) => ok(recs.length));
    r = runner(sink, new FakeDlq());
    await r.deliver(items(['a', 'b', 'c']), ctx());
    expect(sink.calls.map((c) => c.ids)).toEqual([['a', 'b', 'c']]);
  });

  it('a batch full by bytes goes at once, and no request exceeds the byte limit', async () => {
    const sink = new FakeSink({ ...LIMITS, maxBytes: 20 }, (recs) => ok(recs.length));
    r = runner(sink, new FakeDlq());
    await r.deliver(items(['a', 'b', 'c', 'd']), ctx());
    expect(sink.calls.map((c) => c.ids)).toEqual([
      ['a', 'b'],
      ['c', 'd'],
    ]);
  });

  it('does not linger when a backlog waits behind the batch on its partition', async () => {
    const sink = new FakeSink(LIMITS, (recs) => ok(recs.length));
    r = runner(sink, new FakeDlq());
    await r.deliver(items(['a', 'b']), ctx({ lag: 500 }));
    expect(sink.calls.map((c) => c.ids)).toEqual([['a', 'b']]);
  });

  it('items of batches from different partitions share one request', async () => {
    const sink = new FakeSink({ ...LIMITS, maxEvents: 4 }, (recs) => ok(recs.length));
    r = runner(sink, new FakeDlq());
    await Promise.all([r.deliver(items(['a', 'b']), ctx({ partition: 0 })), r.deliver(items(['c', 'd']), ctx({ partition: 1 }))]);
    expect(sink.calls.map((c) => c.ids)).toEqual([['a', 'b', 'c', 'd']]);
  });

  it('never mixes routes (e.g. two Sentinel streams) in one request', async () => {
    const sink = new FakeSink({ ...LIMITS, maxEvents: 2 }, (recs) => ok(recs.length));
    r = runner(sink, new FakeDlq());
    const mixed = items(['e1', 'a1', 'e2', 'a2']).map((it, i) => ({ ...it, record: { ...it.record, route: i % 2 ? 'alerts' : 'events' } }));
    await r.deliver(mixed, ctx());
    expect(sink.calls.map((c) => c.ids)).toEqual([
      ['e1', 'e2'],
      ['a1', 'a2'],
    ]);
  });

  it('dead-letters an item larger than a request may be, without sending it', async () => {
    const sink = new FakeSink({ ...LIMITS, maxBytes: 50, maxEvents: 2 }, (recs) => ok(recs.length));
    const dlq = new FakeDlq();
    r = runner(sink, dlq);
    await r.deliver([...items(['big'], 60), ...items(['a', 'b'])], ctx());
    expect(sink.calls.map((c) => c.ids)).toEqual([['a', 'b']]);
    expect(dlq.records()).toEqual([expect.objectContaining({ error_kind: 'sink_rejected', destination: 'elasticsearch' })]);
  });
});

describe('retries and dead letters', () => {
  let r: SinkRunner<Rec> | undefined;
  afterEach(async () => {
    await r?.stop();
    r = undefined;
  });

  it('retries only the items that failed', async () => {
    const sink = new FakeSink(LIMITS, (recs, call) =>
      call === 1
        ? { kind: 'items', items: [{ status: 'ok' }, { status: 'retry', reason: 'item 429' }, { status: 'ok' }] }
        : ok(recs.length),
    );
    const dlq = new FakeDlq();
    r = runner(sink, dlq);
    await r.deliver(items(['a', 'b', 'c']), ctx({ lag: 1 }));
    expect(sink.calls.map((c) => c.ids)).toEqual([['a', 'b', 'c'], ['b']]);
    expect(dlq.sent).toEqual([]);
  });

  it('resends items the sink never read without spending an attempt', async () => {
    let call = 0;
    const sink = new FakeSink(LIMITS, (recs) => {
      call++;
      if (call <= 3)
        return { kind: 'items', items: recs.map((_, i) => (i === 0 ? { status: 'ok' } : { status: 'resend', reason: 'not read' })) };
      return ok(recs.length);
    });
    const dlq = new FakeDlq();
    r = runner(sink, dlq, { maxAttempts: 1, breakerFailures: 1 });
    await r.deliver(items(['a', 'b', 'c', 'd']), ctx({ lag: 1 }));
    expect(dlq.sent).toEqual([]);
    expect(sink.calls.map((c) => c.ids)).toEqual([['a', 'b', 'c', 'd'], ['b', 'c', 'd'], ['c', 'd'], ['d']]);
  });

  it('dead-letters an item that keeps failing while the sink is up, with sink, reason and attempt count', async () => {
    const sink = new FakeSink(LIMITS, (recs) => ({
      kind: 'items',
      items: recs.map((rec) => (rec.id === 'bad' ? { status: 'retry', reason: 'item 503 shard unavailable' } : { status: 'ok' })),
    }));
    const dlq = new FakeDlq();
    r = runner(sink, dlq, { maxAttempts: 3 });
    await r.deliver(items(['good', 'bad']), ctx({ lag: 1 }));
    expect(sink.calls.map((c) => c.ids)).toEqual([['good', 'bad'], ['bad'], ['bad']]);
    const [rec] = dlq.records();
    expect(rec).toMatchObject({ error_kind: 'delivery_exhausted', destination: 'elasticsearch', attempts: 3, service: 'siem-forwarder' });
    expect(rec!.reason).toContain('item 503 shard unavailable');
    expect(Buffer.from(rec!.original_base64, 'base64').toString()).toBe('{"id":"bad"}');
  });

  it('dead-letters an item the sink refuses at once, after one attempt', async () => {
    const sink = new FakeSink(LIMITS, (recs) => ({
      kind: 'items',
      items: recs.map((rec) => (rec.id === 'bad' ? { status: 'reject', reason: 'mapping' } : { status: 'ok' })),
    }));
    const dlq = new FakeDlq();
    r = runner(sink, dlq);
    await r.deliver(items(['good', 'bad']), ctx({ lag: 1 }));
    expect(sink.calls).toHaveLength(1);
    expect(dlq.records()).toEqual([expect.objectContaining({ error_kind: 'sink_rejected', attempts: 1, reason: 'mapping' })]);
  });

  it('a refused request (bad token) dead-letters all its items at once', async () => {
    const sink = new FakeSink(LIMITS, () => ({ kind: 'refused', reason: 'HEC 403 code 4: Invalid token' }));
    const dlq = new FakeDlq();
    r = runner(sink, dlq);
    await r.deliver(items(['a', 'b']), ctx({ lag: 1 }));
    expect(sink.calls).toHaveLength(1);
    expect(dlq.records().map((d) => [d.error_kind, d.reason])).toEqual([
      ['sink_rejected', 'HEC 403 code 4: Invalid token'],
      ['sink_rejected', 'HEC 403 code 4: Invalid token'],
    ]);
  });

  it('while the sink is down the circuit opens and attempts stop counting: a long outage dead-letters nothing', async () => {
    const sink = new FakeSink(LIMITS, (recs, call) => (call <= 8 ? { kind: 'unavailable', reason: 'ECONNREFUSED' } : ok(recs.length)));
    const dlq = new FakeDlq();
    // Two attempts only, but the circuit opens after two failures: the outage costs delay, not events.
    r = runner(sink, dlq, { maxAttempts: 2, breakerFailures: 2, breakerOpenMs: 30 });
    await r.deliver(items(['a', 'b']), ctx({ lag: 1 }));
    expect(sink.calls).toHaveLength(9);
    expect(dlq.sent).toEqual([]);
  });

  it('counts attempts while the circuit is still closed (a flaky sink), so those items do reach the DLQ', async () => {
    let call = 0;
    const sink = new FakeSink(LIMITS, (recs) => {
      call++;
      // A failure between successes: the breaker never sees two in a row.
      if (recs.some((x) => x.id === 'x')) return { kind: 'unavailable', reason: '502 from the proxy' };
      return ok(recs.length);
    });
    const dlq = new FakeDlq();
    r = runner(sink, dlq, { maxAttempts: 2, breakerFailures: 3 });
    await r.deliver(items(['x']), ctx({ lag: 1 }));
    expect(call).toBe(2);
    expect(dlq.records()).toEqual([expect.objectContaining({ error_kind: 'delivery_exhausted', attempts: 2 })]);
  });

  it('honours Retry-After before the next request', async () => {
    const sink = new FakeSink(LIMITS, (recs, call) =>
      call === 1 ? { kind: 'unavailable', reason: '429', retryAfterMs: 400 } : ok(recs.length),
    );
    r = runner(sink, new FakeDlq());
    await r.deliver(items(['a']), ctx({ lag: 1 }));
    expect(sink.calls).toHaveLength(2);
    expect(sink.calls[1]!.at - sink.calls[0]!.at).toBeGreaterThanOrEqual(390);
  });

  it('splits a request the sink calls too large, and dead-letters a single item that is too large alone', async () => {
    const sink = new FakeSink(LIMITS, (recs) =>
      recs.length > 2 || recs.some((x) => x.id === 'huge') ? { kind: 'too_large', reason: '413' } : ok(recs.length),
    );
    const dlq = new FakeDlq();
    r = runner(sink, dlq);
    await r.deliver(items(['a', 'b', 'c', 'huge', 'd']), ctx({ lag: 1 }));
    expect(sink.calls.map((c) => c.ids)).toEqual([
      ['a', 'b', 'c', 'huge', 'd'],
      ['a', 'b', 'c'],
      ['a', 'b'],
      ['c'],
      ['huge', 'd'],
      ['huge'],
      ['d'],
    ]);
    expect(dlq.records()).toEqual([expect.objectContaining({ error_kind: 'sink_rejected', attempts: 1 })]);
  });

  it('fails the batch (to be retried whole) when the DLQ cannot be written', async () => {
    const sink = new FakeSink(LIMITS, () => ({ kind: 'refused', reason: 'bad token' }));
    const dlq = new FakeDlq();
    dlq.fail = true;
    r = runner(sink, dlq);
    await expect(r.deliver(items(['a']), ctx({ lag: 1 }))).rejects.toThrow('could not dead-letter 1 items');
  });
});

describe('waiting, heartbeats and giving up', () => {
  let r: SinkRunner<Rec> | undefined;
  afterEach(async () => {
    await r?.stop();
    r = undefined;
  });

  it('heartbeats while its items wait for a sink that is down', async () => {
    let up = false;
    const sink = new FakeSink(LIMITS, (recs) => (up ? ok(recs.length) : { kind: 'unavailable', reason: 'down' }));
    r = runner(sink, new FakeDlq(), { heartbeatEveryMs: 100, breakerOpenMs: 20 });
    const c = ctx({ lag: 1 });
    const done = r.deliver(items(['a']), c);
    await sleep(700);
    up = true;
    await done;
    expect(c.beats).toBeGreaterThanOrEqual(3);
  });

  it('gives up a batch whose consumer stops while the sink is down: it throws, and its items are not sent later', async () => {
    const sink = new FakeSink(LIMITS, () => ({ kind: 'unavailable', reason: 'down' }));
    const dlq = new FakeDlq();
    r = runner(sink, dlq, { breakerFailures: 1, breakerOpenMs: 200, shutdownGraceMs: 100 });
    let active = true;
    const done = r.deliver(items(['a', 'b']), ctx({ lag: 1, active: () => active }));
    await sleep(100);
    active = false;
    await expect(done).rejects.toBeInstanceOf(BatchAbandoned);
    const calls = sink.calls.length;
    await sleep(500);
    expect(sink.calls.length).toBe(calls);
    expect(r.queuedItems).toBe(0);
    expect(dlq.sent).toEqual([]);
  });

  it('a clean stop sends a lingering batch right away and waits for its answer, so it can be committed', async () => {
    const sink = new FakeSink(LIMITS, (recs) => ok(recs.length));
    r = runner(sink, new FakeDlq(), { shutdownGraceMs: 5_000 });
    let active = true;
    const done = r.deliver(items(['a']), ctx({ active: () => active }));
    await sleep(300);
    expect(sink.calls).toHaveLength(0); // lingering: the flush interval is an hour
    active = false;
    await expect(done).resolves.toEqual([]);
    expect(sink.calls.map((c) => c.ids)).toEqual([['a']]);
  });

  it('gives up after the grace period when the in-flight request never answers', async () => {
    const sink = new FakeSink(LIMITS, () => new Promise<SendOutcome>(() => undefined));
    r = runner(sink, new FakeDlq(), { shutdownGraceMs: 200 });
    let active = true;
    const done = r.deliver(items(['a']), ctx({ lag: 1, active: () => active }));
    await sleep(100);
    active = false;
    await expect(done).rejects.toBeInstanceOf(BatchAbandoned);
  });
});

describe('handing items back after a release time (shared reading)', () => {
  let r: SinkRunner<Rec> | undefined;
  afterEach(async () => {
    await r?.stop();
    r = undefined;
  });
  const ids = (xs: ReadonlyArray<{ record: Rec }>) => xs.map((x) => x.record.id).sort();

  it('hands back every item a sink that is down has not taken, and sends none of them later', async () => {
    const sink = new FakeSink(LIMITS, () => ({ kind: 'unavailable', reason: 'down' }));
    const dlq = new FakeDlq();
    r = runner(sink, dlq, { breakerFailures: 2, breakerOpenMs: 60_000 });
    const started = Date.now();
    const left = await r.deliver(items(['a', 'b', 'c']), ctx({ lag: 1 }), 300);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(ids(left)).toEqual(['a', 'b', 'c']);
    expect(r.queuedItems).toBe(0);
    const calls = sink.calls.length;
    await sleep(300);
    expect(sink.calls.length).toBe(calls);
    expect(dlq.sent).toEqual([]);
  });

  it('waits for a request in flight at the release time: what it delivered is not handed back, what failed is', async () => {
    // One slow request of four items: two stored, two failing retriably.
    const sink = new FakeSink(LIMITS, async (recs) => {
      await sleep(500);
      return { kind: 'items', items: recs.map((rec) => (rec.id < 'c' ? { status: 'ok' } : { status: 'retry', reason: 'busy' })) };
    });
    r = runner(sink, new FakeDlq());
    const left = await r.deliver(items(['a', 'b', 'c', 'd']), ctx({ lag: 1 }), 100);
    expect(sink.calls).toHaveLength(1);
    expect(ids(left)).toEqual(['c', 'd']);
    expect(r.queuedItems).toBe(0);
  });

  it('hands back nothing when the sink takes everything before the release time', async () => {
    const sink = new FakeSink(LIMITS, (recs) => ok(recs.length));
    r = runner(sink, new FakeDlq());
    await expect(r.deliver(items(['a', 'b']), ctx({ lag: 1 }), 5_000)).resolves.toEqual([]);
  });

  it('still dead-letters what the sink refuses after the release time, instead of handing it back', async () => {
    const sink = new FakeSink(LIMITS, async (recs) => {
      await sleep(400);
      return { kind: 'items', items: recs.map((rec) => (rec.id === 'a' ? { status: 'reject', reason: 'mapping' } : { status: 'ok' })) };
    });
    const dlq = new FakeDlq();
    r = runner(sink, dlq);
    const left = await r.deliver(items(['a', 'b']), ctx({ lag: 1 }), 100);
    expect(left).toEqual([]);
    expect(dlq.records().map((d) => [d.error_kind, d.reason])).toEqual([['sink_rejected', 'mapping']]);
  });
});

describe('metrics', () => {
  let r: SinkRunner<Rec> | undefined;
  afterEach(async () => {
    await r?.stop();
    r = undefined;
  });

  const newMetrics = () => new ForwarderMetrics(new Metrics('test', { defaultMetrics: false }));
  const series = async (c: { get(): Promise<{ values: Array<{ labels: object; value: number }> }> }) =>
    (await c.get()).values.map((v) => ({ ...v.labels, value: v.value }));

  it('reports the circuit as 0 closed, 1 open and 2 half-open (while its trial request is out)', async () => {
    const metrics = newMetrics();
    const gauge = async () => (await series(metrics.circuit)).find((v) => 'sink' in v && v.sink === 'elasticsearch')?.value;
    const atCall: Array<number | undefined> = [];
    const sink = new FakeSink(LIMITS, async (recs, call) => {
      atCall.push(await gauge());
      return call <= 2 ? { kind: 'unavailable', reason: 'ECONNREFUSED' } : ok(recs.length);
    });
    r = runner(sink, new FakeDlq(), { breakerFailures: 2, breakerOpenMs: 150 }, metrics);
    const done = r.deliver(items(['a']), ctx({ lag: 1 }));
    let sawOpen = false;
    while (!sawOpen && sink.calls.length < 3) {
      sawOpen = (await gauge()) === 1 && r.circuitState === 'open';
      await sleep(5);
    }
    await done;
    expect(sawOpen).toBe(true);
    expect(atCall).toEqual([0, 0, 2]); // closed, closed (the failure that opens it), then the half-open trial
    expect(await gauge()).toBe(0);
  });

  it('counts delivered items by record and dead-lettered ones by kind, in its own family and the shared one', async () => {
    const metrics = newMetrics();
    const sink = new FakeSink(LIMITS, () => ({
      kind: 'items',
      items: [{ status: 'ok' }, { status: 'reject', reason: 'mapper_parsing_exception' }],
    }));
    r = runner(sink, new FakeDlq(), {}, metrics);
    await r.deliver(items(['a', 'b']), ctx({ lag: 1 }));
    expect(await series(metrics.delivered)).toEqual([{ sink: 'elasticsearch', record: 'event', value: 1 }]);
    expect(await series(metrics.deadLettered)).toEqual([{ sink: 'elasticsearch', kind: 'sink_rejected', value: 1 }]);
    expect(await series(metrics.shared.deadLettered)).toEqual([{ topic: 'siem.forward.dlq', kind: 'sink_rejected', value: 1 }]);
  });
});
