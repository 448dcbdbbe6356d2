import type { TopicNames } from '@vigil/contracts';
import { committedTotal, freshTopics, produceRaw, sleep, waitFor } from '@vigil/testing';
import type { Forwarder } from '../src/forwarder';
import {
  EVENT_STREAM,
  dlqRecords,
  forwarderEnv,
  forwarderPool,
  newEvent,
  produceEvents,
  sampleAlert,
  startSiems,
  type Siems,
} from './harness';

jest.setTimeout(120_000);

describe('siem-forwarder against a real broker and the SIEM stand-ins', () => {
  let topics: TopicNames;
  let namespace: string;
  let siems: Siems;
  const pool = forwarderPool();
  const start = pool.start;
  const groupOf = (f: Forwarder, sink: string) => f.lanes.find((l) => l.sink === sink)!.groupId;

  beforeEach(async () => {
    ({ namespace, topics } = await freshTopics(3, ['events', 'alerts', 'alertsDlq', 'forwardDlq']));
  });
  afterEach(async () => {
    await pool.stopAll();
    await siems?.close();
  });

  it('a sink down for a stretch, then back: zero events lost, and the other sinks never waited for it', async () => {
    siems = await startSiems();
    await siems.es.server.goDown();
    const f = await start(forwarderEnv(namespace, siems, 'splunk,elasticsearch,sentinel'));
    const events = Array.from({ length: 300 }, (_, i) => newEvent(i));
    await produceEvents(topics.events, events);

    // Splunk and Sentinel get everything while Elasticsearch is down.
    await waitFor(
      'Splunk and Sentinel to have every event',
      () => siems.splunk.eventCount === 300 && siems.sentinel.rowCount(EVENT_STREAM) === 300,
    );
    // Offsets are committed in the background, shortly after delivery.
    await waitFor(
      'the splunk and sentinel groups to commit every event',
      async () =>
        (await committedTotal(groupOf(f, 'splunk'), topics.events)) === 300 &&
        (await committedTotal(groupOf(f, 'sentinel'), topics.events)) === 300,
    );
    // Elasticsearch's group has not moved past what it could not deliver, and its circuit is open.
    await waitFor('the elasticsearch circuit to open', () => f.lane('elasticsearch')!.runner.circuitState !== 'closed');
    expect(await committedTotal(groupOf(f, 'elasticsearch'), topics.events)).toBe(0);
    await sleep(1_500); // a stretch of outage: several trial requests fail
    expect(siems.es.count()).toBe(0);

    await siems.es.server.comeBack();
    await waitFor('Elasticsearch to catch up', () => siems.es.count() === 300, 60_000);
    await waitFor(
      'the elasticsearch group to commit everything',
      async () => (await committedTotal(groupOf(f, 'elasticsearch'), topics.events)) === 300,
    );
    for (const e of events) expect(siems.es.doc(e.event_id)).toBeDefined();
    expect(siems.es.conflicts).toBe(0);
    expect(await dlqRecords(topics.forwardDlq, 0, 1_500)).toEqual([]);
  });

  it('Elasticsearch has zero duplicate documents after the forwarder dies mid-batch (stored, not yet committed)', async () => {
    siems = await startSiems();
    // Elasticsearch stores each bulk but its answer never reaches the forwarder, which then stops:
    // the documents exist, the offsets are not committed. (The events are on the topic before the
    // forwarder starts, so its first fetch holds every partition's batch; enough requests may be in
    // flight for each of them.)
    siems.es.server.holdAnswersMs = 60_000;
    const events = Array.from({ length: 120 }, (_, i) => newEvent(i));
    await produceEvents(topics.events, events);
    const env = forwarderEnv(namespace, siems, 'elasticsearch', { SIEM_SHUTDOWN_GRACE_MS: '100', SIEM_MAX_IN_FLIGHT: '4' });
    const first = await start(env);
    const group = groupOf(first, 'elasticsearch');
    await waitFor('Elasticsearch to store the batch', () => siems.es.count() === 120);
    expect(await committedTotal(group, topics.events)).toBe(0);
    await first.stop();
    pool.forget(first);
    expect(await committedTotal(group, topics.events)).toBe(0);

    // A new forwarder in the same group reads the batch again and sends it again.
    siems.es.server.holdAnswersMs = 0;
    await start(env);
    await waitFor('the group to commit everything', async () => (await committedTotal(group, topics.events)) === 120, 60_000);
    expect(siems.es.count()).toBe(120);
    // Every document was offered twice and stored once: the resend met 409 (create with _id = event_id).
    for (const e of events) expect(siems.es.statusesOf(e.event_id)).toEqual([201, 409]);
    expect(siems.es.conflicts).toBe(120);
    expect(await dlqRecords(topics.forwardDlq, 0, 1_500)).toEqual([]);
  });

  it('a partial bulk failure retries only the failed items; a mapping error goes to the DLQ with the item error', async () => {
    siems = await startSiems({ esMappings: { 'details.attempt': 'long' } });
    siems.es.failNextItems(5, 429);
    const f = await start(forwarderEnv(namespace, siems, 'elasticsearch'));
    const good = Array.from({ length: 40 }, (_, i) => newEvent(i));
    const bad = newEvent(99, { details: { attempt: 'three' } });
    await produceEvents(topics.events, [...good.slice(0, 20), bad, ...good.slice(20)], 'one-partition');

    await waitFor(
      'the group to commit everything',
      async () => (await committedTotal(groupOf(f, 'elasticsearch'), topics.events)) === 41,
      60_000,
    );
    const throttled = good.filter((e) => siems.es.statusesOf(e.event_id)[0] === 429);
    expect(throttled).toHaveLength(5);
    for (const e of throttled) expect(siems.es.statusesOf(e.event_id)).toEqual([429, 201]);
    for (const e of good.filter((x) => !throttled.includes(x))) expect(siems.es.statusesOf(e.event_id)).toEqual([201]);
    expect(siems.es.statusesOf(bad.event_id)).toEqual([400]);
    expect(siems.es.count()).toBe(40);

    const [dead, ...more] = await dlqRecords(topics.forwardDlq, 1);
    expect(more).toEqual([]);
    expect(dead).toMatchObject({ error_kind: 'sink_rejected', destination: 'elasticsearch', attempts: 1, service: 'siem-forwarder' });
    expect(dead!.reason).toContain('document_parsing_exception');
    expect(JSON.parse(Buffer.from(dead!.original_base64, 'base64').toString()).event_id).toBe(bad.event_id);
  });

  it('a bad Splunk token sends its events to the DLQ while the other sinks keep going', async () => {
    siems = await startSiems();
    const f = await start(forwarderEnv(namespace, siems, 'splunk,elasticsearch,sentinel', { SPLUNK_HEC_TOKEN: 'revoked-token' }));
    const events = Array.from({ length: 60 }, (_, i) => newEvent(i));
    await produceEvents(topics.events, events);

    await waitFor(
      'Elasticsearch and Sentinel to have every event',
      () => siems.es.count() === 60 && siems.sentinel.rowCount(EVENT_STREAM) === 60,
    );
    const dead = await dlqRecords(topics.forwardDlq, 60);
    expect(dead).toHaveLength(60);
    for (const d of dead)
      expect(d).toMatchObject({ error_kind: 'sink_rejected', destination: 'splunk', attempts: 1, reason: 'HEC 403 code 4: Invalid token' });
    expect(new Set(dead.map((d) => JSON.parse(Buffer.from(d.original_base64, 'base64').toString()).event_id))).toEqual(
      new Set(events.map((e) => e.event_id)),
    );
    expect(siems.splunk.eventCount).toBe(0);
    await waitFor('the splunk group to move on', async () => (await committedTotal(groupOf(f, 'splunk'), topics.events)) === 60);
  });

  it('the flush timer delivers a lone event within its interval', async () => {
    siems = await startSiems();
    await start(forwarderEnv(namespace, siems, 'splunk', { SIEM_FLUSH_INTERVAL_MS: '1500', SIEM_BATCH_MAX_EVENTS: '500' }));
    const e = newEvent(1);
    const producedAt = Date.now();
    await produceEvents(topics.events, [e], 'lone');
    await waitFor('the lone event to reach Splunk', () => siems.splunk.eventCount === 1, 10_000, 20);
    const arrivedAfter = Date.now() - producedAt;
    // It waited for company (no count or byte limit was reached) and went when the interval ran out.
    expect(arrivedAfter).toBeGreaterThanOrEqual(1_400);
    expect(arrivedAfter).toBeLessThan(1_500 + 2_500);
    expect(siems.splunk.server.requests).toBe(1);
  });

  it('with Splunk indexer acknowledgement, offsets advance only once HEC reports the events indexed', async () => {
    siems = await startSiems({ splunkAck: true });
    siems.splunk.holdAcks();
    await produceEvents(
      topics.events,
      Array.from({ length: 20 }, (_, i) => newEvent(i)),
    );
    const f = await start(
      forwarderEnv(namespace, siems, 'splunk', { SPLUNK_ACK: 'true', SPLUNK_ACK_POLL_MS: '100', SIEM_MAX_IN_FLIGHT: '4' }),
    );
    await waitFor('HEC to accept the events', () => siems.splunk.eventCount === 20);
    await sleep(1_000);
    expect(await committedTotal(groupOf(f, 'splunk'), topics.events)).toBe(0);
    siems.splunk.releaseAcks();
    await waitFor('the group to commit after the acks', async () => (await committedTotal(groupOf(f, 'splunk'), topics.events)) === 20);
    expect(siems.splunk.eventCount).toBe(20);
  });

  it('Sentinel throttling (429 + Retry-After) costs delay only; alerts go to their own stream when enabled', async () => {
    siems = await startSiems();
    siems.sentinel.throttleNext(2, 1);
    const f = await start(forwarderEnv(namespace, siems, 'sentinel', { SIEM_FORWARD_ALERTS: 'true' }));
    const events = Array.from({ length: 25 }, (_, i) => newEvent(i));
    await produceEvents(topics.events, events);
    await produceRaw(topics.alerts, [JSON.stringify(sampleAlert())], 'alert');
    await waitFor(
      'Sentinel to have every event and the alert',
      () => siems.sentinel.rowCount(EVENT_STREAM) === 25 && siems.sentinel.rowCount('Custom-VigilAlerts_CL') === 1,
    );
    expect(siems.sentinel.rows('Custom-VigilAlerts_CL')[0]).toMatchObject({ AlertId: sampleAlert().alert_id });
    await waitFor(
      'both topics committed',
      async () =>
        (await committedTotal(groupOf(f, 'sentinel'), topics.events)) === 25 &&
        (await committedTotal(groupOf(f, 'sentinel'), topics.alerts)) === 1,
    );
    expect(await dlqRecords(topics.forwardDlq, 0, 1_500)).toEqual([]);
  });

  it('an unreadable message goes to the unreadable-input DLQ with its reason; the rest is forwarded', async () => {
    siems = await startSiems();
    const f = await start(forwarderEnv(namespace, siems, 'elasticsearch'));
    await produceRaw(
      topics.events,
      [JSON.stringify(newEvent(1)), 'not json', JSON.stringify({ ...newEvent(2), schema_version: 7 }), JSON.stringify(newEvent(3))],
      'p',
    );
    await waitFor('the readable events to be stored', () => siems.es.count() === 2);
    const dead = await dlqRecords(topics.alertsDlq, 2);
    expect(dead.map((d) => [d.error_kind, d.destination])).toEqual([
      ['invalid_json', 'elasticsearch'],
      ['unsupported_schema_version', 'elasticsearch'],
    ]);
    await waitFor('the group to commit all four', async () => (await committedTotal(groupOf(f, 'elasticsearch'), topics.events)) === 4);
    // Counted by kind, in the forwarder's family and the shared one, and per consumer group on the way in.
    const series = async (c: { get(): Promise<{ values: Array<{ labels: object; value: number }> }> }) =>
      (await c.get()).values.map((v) => ({ ...v.labels, value: v.value }));
    const kinds = ['invalid_json', 'unsupported_schema_version'];
    expect(await series(f.metrics.deadLettered)).toEqual(kinds.map((kind) => ({ sink: 'elasticsearch', kind, value: 1 })));
    expect(await series(f.metrics.shared.deadLettered)).toEqual(kinds.map((kind) => ({ topic: topics.alertsDlq, kind, value: 1 })));
    expect(await series(f.metrics.delivered)).toEqual([{ sink: 'elasticsearch', record: 'event', value: 2 }]);
    expect(await series(f.metrics.shared.consumed)).toEqual([{ topic: topics.events, group: groupOf(f, 'elasticsearch'), value: 4 }]);
  });
});
