import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChainVerifier, parseChainKeys } from '@vigil/contracts';
import { committedTotal, freshTopics, testBrokers, uniqueName, waitFor } from '@vigil/testing';
import type { Forwarder } from '../src/forwarder';
import { newEvent, produceEvents, sampleAlert, startForwarder } from './harness';

const KEYS = `a1=${Buffer.alloc(32, 3).toString('base64')}`;

function verifyStream(dir: string) {
  const v = new ChainVerifier(parseChainKeys(KEYS), { requireGenesis: true });
  let lines = 0;
  for (const name of readdirSync(dir).sort())
    readFileSync(join(dir, name), 'utf8')
      .split('\n')
      .forEach((text, i) => {
        if (text) lines++;
        v.push({ file: name, line: i + 1, text });
      });
  return { ...v.end(), lines };
}

describe('archive sink on a real broker', () => {
  let dir: string;
  let f: Forwarder | undefined;
  afterEach(async () => {
    await f?.stop();
    f = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('archives every event and alert as a verifiable chain, commits offsets after the fsync, and continues the chain after a restart', async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-archive-int-'));
    const { namespace, topics } = await freshTopics(3, ['events', 'alerts', 'alertsDlq', 'forwardDlq', 'forwardSpill']);
    const prefix = uniqueName('fwd');
    const env = {
      KAFKA_BROKERS: testBrokers().join(','),
      VIGIL_TOPIC_NAMESPACE: namespace,
      KAFKA_CREATE_TOPICS: 'false',
      SIEM_SINKS: 'archive',
      SIEM_FORWARD_ALERTS: 'true',
      SIEM_GROUP_ID_PREFIX: prefix,
      SIEM_FLUSH_INTERVAL_MS: '100',
      ARCHIVE_DIR: dir,
      ARCHIVE_INSTANCE: 'node-a',
      ARCHIVE_KEYS: KEYS,
      ARCHIVE_DOCUMENT_FORMAT: 'ocsf',
    };
    f = await startForwarder(env);
    await produceEvents(
      topics.events,
      Array.from({ length: 30 }, (_, i) => newEvent(i)),
    );
    await produceEvents(topics.alerts, [sampleAlert({ alert_id: '11111111-2222-5333-8444-555555555555' })]);
    await waitFor('30 events committed', async () => (await committedTotal(`${prefix}-shared`, topics.events)) === 30);
    await waitFor('the alert committed', async () => (await committedTotal(`${prefix}-shared`, topics.alerts)) === 1);
    const events = verifyStream(join(dir, 'node-a', 'events'));
    expect(events).toMatchObject({ ok: true, records: 30, lines: 30 });
    expect(verifyStream(join(dir, 'node-a', 'alerts'))).toMatchObject({ ok: true, records: 1 });
    const first = JSON.parse(
      readFileSync(join(dir, 'node-a', 'events', readdirSync(join(dir, 'node-a', 'events'))[0]!), 'utf8').split('\n')[0]!,
    );
    expect(first.data).toMatchObject({ class_uid: 3002 }); // OCSF documents, as configured

    await f.stop();
    f = await startForwarder(env);
    await produceEvents(
      topics.events,
      Array.from({ length: 5 }, (_, i) => newEvent(100 + i)),
    );
    await waitFor('35 events committed', async () => (await committedTotal(`${prefix}-shared`, topics.events)) === 35);
    expect(verifyStream(join(dir, 'node-a', 'events'))).toMatchObject({
      ok: true,
      records: 35,
      streams: { 'node-a/events': { lastSeq: 35 } },
    });
  });
});
