import type { TopicNames } from '@vigil/contracts';
import { committedTotal, freshTopics, produceRaw, readTopic, sleep, uniqueName, waitFor } from '@vigil/testing';
import { SPILL_ORIGIN_HEADER, SPILL_SINK_HEADER } from '../src/forwarder';
import {
  ALERT_STREAM,
  EVENT_STREAM,
  dlqRecords,
  forwarderEnv,
  forwarderPool,
  newEvent,
  produceEvents,
  sampleAlert,
  startForwarder,
  startSiems,
  type Siems,
} from './harness';

jest.setTimeout(120_000);

/** SIEM_READ_MODE=shared: one consumer group reads the input once for every sink. */
describe('siem-forwarder reading once for every sink', () => {
  let topics: TopicNames;
  let namespace: string;
  let siems: Siems;
  const pool = forwarderPool();
  const start = pool.start;
  const shared = (extra: Record<string, string> = {}) =>
    forwarderEnv(namespace, siems, 'splunk,elasticsearch,sentinel', { SIEM_READ_MODE: 'shared', SIEM_SPILL_AFTER_MS: '1000', ...extra });

  beforeEach(async () => {
    ({ namespace, topics } = await freshTopics(3, ['events', 'alerts', 'alertsDlq', 'forwardDlq', 'forwardSpill']));
  });
  afterEach(async () => {
    await pool.stopAll();
    await siems?.close();
  });

  it('every sink gets every event and alert from one group; nothing is spilled while every sink keeps up', async () => {
    siems = await startSiems();
    const f = await start(shared({ SIEM_FORWARD_ALERTS: 'true' }));
    const events = Array.from({ length: 300 }, (_, i) => newEvent(i));
    await produceEvents(topics.events, events);
    await produceRaw(topics.alerts, [JSON.stringify(sampleAlert())], 'alert');
    await waitFor(
      'every sink to have every event and the alert',
      () =>
        siems.splunk.eventCount === 301 &&
        siems.es.count() === 301 &&
        siems.sentinel.rowCount(EVENT_STREAM) === 300 &&
        siems.sentinel.rowCount(ALERT_STREAM) === 1,
    );
    await waitFor(
      'the shared group to commit every event and the alert',
      async () =>
        (await committedTotal(f.shared!.groupId, topics.events)) === 300 && (await committedTotal(f.shared!.groupId, topics.alerts)) === 1,
    );
    expect(siems.es.doc(sampleAlert().alert_id)).toBeDefined();
    for (const e of events) expect(siems.es.doc(e.event_id)).toBeDefined();
    expect(await readTopic(topics.forwardSpill, 0, { timeoutMs: 1_000 })).toEqual([]);
    const consumed = (await f.metrics.shared.consumed.get()).values.filter((v) => v.labels.topic === topics.events);
    expect(consumed.map((v) => [v.labels.group, v.value])).toEqual([[f.shared!.groupId, 300]]);
  });

  it('a slow sink does not set the pace: the others go on, its share is spilled and read back, none twice', async () => {
    siems = await startSiems();
    // Every bulk request takes 4 s (under the 5 s request timeout); a share not taken within 1 s is spilled. Requests of 50, two in
    // flight: of the first 300 events, 100 are in requests when the batch stops waiting (they are
    // waited for) and 200 are handed back and spilled.
    siems.es.server.latencyMs = 4_000;
    const f = await start(shared({ SIEM_BATCH_MAX_EVENTS: '50', SIEM_MAX_IN_FLIGHT: '2' }));
    const spilled = async (reason: string) =>
      (await f.metrics.spilled.get()).values
        .filter((v) => v.labels.sink === 'elasticsearch' && v.labels.reason === reason)
        .reduce((n, v) => n + v.value, 0);
    const first = Array.from({ length: 300 }, (_, i) => newEvent(i));
    await produceEvents(topics.events, first);
    await waitFor(
      'Splunk and Sentinel to have the first events',
      () => siems.splunk.eventCount === 300 && siems.sentinel.rowCount(EVENT_STREAM) === 300,
    );
    expect(siems.es.count()).toBeLessThan(300);
    await waitFor(
      'the shared group to commit the first events',
      async () => (await committedTotal(f.shared!.groupId, topics.events)) === 300,
      60_000,
    );
    const waited = await spilled('timeout');
    expect(waited).toBeGreaterThan(0);

    // Events read while Elasticsearch still works through what was spilled go to the spill topic
    // without another wait.
    const second = Array.from({ length: 30 }, (_, i) => newEvent(1000 + i));
    await produceEvents(topics.events, second, 'second');
    await waitFor(
      'Splunk and Sentinel to have the second events',
      () => siems.splunk.eventCount === 330 && siems.sentinel.rowCount(EVENT_STREAM) === 330,
    );
    await waitFor('the shared group to commit every event', async () => (await committedTotal(f.shared!.groupId, topics.events)) === 330);
    expect(await spilled('timeout')).toBe(waited);
    const spilledSecond = (await readTopic(topics.forwardSpill, 330, { timeoutMs: 3_000 })).filter((m) => m.key === 'second');
    expect(spilledSecond).toHaveLength(30);

    siems.es.server.latencyMs = 0;
    await waitFor('Elasticsearch to have every event', () => siems.es.count() === 330, 60_000);
    // A request in flight when a share was spilled was waited for: nothing reached Elasticsearch twice.
    expect(siems.es.conflicts).toBe(0);
    expect(siems.splunk.eventCount).toBe(330);
    expect(await dlqRecords(topics.forwardDlq, 0, 1_500)).toEqual([]);
  });

  it('a sink down: the others get everything at once, its share goes to the spill topic, and it catches up from there with nothing lost', async () => {
    siems = await startSiems();
    await siems.es.server.goDown();
    const f = await start(shared());
    const events = Array.from({ length: 300 }, (_, i) => newEvent(i));
    await produceEvents(topics.events, events);

    await waitFor(
      'Splunk and Sentinel to have every event',
      () => siems.splunk.eventCount === 300 && siems.sentinel.rowCount(EVENT_STREAM) === 300,
    );
    // The shared group moves on: Elasticsearch's share is on the spill topic, durably.
    await waitFor('the shared group to commit every event', async () => (await committedTotal(f.shared!.groupId, topics.events)) === 300);
    const spilled = await readTopic(topics.forwardSpill, 300, { settleMs: 500 });
    expect(spilled).toHaveLength(300);
    for (const m of spilled) {
      expect(m.headers[SPILL_SINK_HEADER]).toBe('elasticsearch');
      expect(m.headers[SPILL_ORIGIN_HEADER]).toMatch(new RegExp(`^${topics.events.replace(/\./g, '\\.')}:[0-2]:\\d+$`));
    }
    expect(new Set(spilled.map((m) => JSON.parse(m.value.toString()).event_id))).toEqual(new Set(events.map((e) => e.event_id)));
    expect(siems.es.count()).toBe(0);
    expect(await committedTotal(f.lane('elasticsearch')!.groupId, topics.forwardSpill)).toBe(0);

    await siems.es.server.comeBack();
    await waitFor('Elasticsearch to catch up from the spill topic', () => siems.es.count() === 300, 60_000);
    await waitFor(
      "Elasticsearch's spill group to commit what it delivered",
      async () => (await committedTotal(f.lane('elasticsearch')!.groupId, topics.forwardSpill)) === 300,
    );
    for (const e of events) expect(siems.es.doc(e.event_id)).toBeDefined();
    expect(siems.splunk.eventCount).toBe(300); // not sent twice
    expect(siems.sentinel.rowCount(EVENT_STREAM)).toBe(300);
    expect(await dlqRecords(topics.forwardDlq, 0, 1_500)).toEqual([]);
    // Spilled once each: the first shares after waiting SIEM_SPILL_AFTER_MS, then, with the circuit open, at once.
    const spilledMetric = (await f.metrics.spilled.get()).values;
    for (const v of spilledMetric)
      expect([v.labels.sink, ['timeout', 'circuit_open'].includes(String(v.labels.reason))]).toEqual(['elasticsearch', true]);
    expect(spilledMetric.reduce((n, v) => n + v.value, 0)).toBe(300);

    // Back to normal: new events go to Elasticsearch directly again.
    const later = Array.from({ length: 30 }, (_, i) => newEvent(1000 + i));
    await produceEvents(topics.events, later);
    await waitFor('Elasticsearch to have the later events', () => siems.es.count() === 330, 30_000);
    await sleep(500);
    expect(await readTopic(topics.forwardSpill, 300, { settleMs: 500 })).toHaveLength(300);
  });

  it('an unreadable message is dead-lettered once, naming every sink; a spilled item refused by its sink is dead-lettered with its origin', async () => {
    siems = await startSiems({ esMappings: { 'details.attempt': 'long' } });
    await siems.es.server.goDown();
    const f = await start(shared());
    const bad = newEvent(99, { details: { attempt: 'three' } });
    await produceRaw(topics.events, [JSON.stringify(newEvent(1)), 'not json', JSON.stringify(bad)], 'p');
    await waitFor('Splunk to have the two readable events', () => siems.splunk.eventCount === 2);
    const [unreadable, ...more] = await dlqRecords(topics.alertsDlq, 1);
    expect(more).toEqual([]);
    expect(unreadable).toMatchObject({ error_kind: 'invalid_json', destination: 'splunk,elasticsearch,sentinel' });
    expect(unreadable!.source).toMatchObject({ topic: topics.events, offset: '1' });

    await waitFor('the shared group to commit all three', async () => (await committedTotal(f.shared!.groupId, topics.events)) === 3);
    await siems.es.server.comeBack();
    const [refused, ...others] = await dlqRecords(topics.forwardDlq, 1, 30_000);
    expect(others).toEqual([]);
    // Read back from the spill topic, refused by Elasticsearch's mapping: the DLQ record names where the event was first read.
    expect(refused).toMatchObject({ error_kind: 'sink_rejected', destination: 'elasticsearch' });
    expect(refused!.source).toMatchObject({ topic: topics.events, partition: unreadable!.source.partition, offset: '2' });
    await waitFor('Elasticsearch to store the other event', () => siems.es.count() === 1);
  });
});

describe('switching SIEM_READ_MODE keeps the read position', () => {
  let siems: Siems;
  afterEach(async () => {
    await siems?.close();
  });

  it('per-sink → shared → per-sink: every event reaches every sink once, none skipped, none sent again', async () => {
    const { namespace, topics } = await freshTopics(3, ['events', 'alerts', 'alertsDlq', 'forwardDlq', 'forwardSpill']);
    siems = await startSiems();
    const prefix = uniqueName('switch');
    const env = (mode: string) =>
      forwarderEnv(namespace, siems, 'splunk,elasticsearch,sentinel', { SIEM_GROUP_ID_PREFIX: prefix, SIEM_READ_MODE: mode });
    const all = () => [siems.splunk.eventCount, siems.es.count(), siems.sentinel.rowCount(EVENT_STREAM)];
    const batches = [0, 1, 2].map((b) => Array.from({ length: 100 }, (_, i) => newEvent(b * 100 + i)));

    for (const [i, mode] of ['per-sink', 'shared', 'per-sink'].entries()) {
      const f = await startForwarder(env(mode));
      try {
        await produceEvents(topics.events, batches[i]!);
        const total = (i + 1) * 100;
        await waitFor(`every sink to have ${total} events (${mode})`, () => all().every((n) => n === total));
        const groups = f.shared ? [f.shared.groupId] : f.lanes.map((l) => l.groupId);
        await waitFor(`${mode} groups to commit ${total}`, async () => {
          for (const g of groups) if ((await committedTotal(g, topics.events)) !== total) return false;
          return true;
        });
      } finally {
        await f.stop();
      }
      await sleep(300);
      expect(all()).toEqual([(i + 1) * 100, (i + 1) * 100, (i + 1) * 100]);
    }
    // No event twice: Elasticsearch saw each id once (a resend would have been a 409).
    expect(siems.es.conflicts).toBe(0);
  });
});
