import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { committedTotal, freshTopics, sleep, uniqueName, waitFor } from '@vigil/testing';
import { dlqRecords, forwarderEnv, newEvent, produceEvents, startSiems, type Siems } from './harness';

jest.setTimeout(120_000);

const main = join(__dirname, '..', 'dist', 'main.js');

function spawnForwarder(env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, [main], {
    env: { ...process.env, LOG_LEVEL: 'warn', HTTP_HOST: '127.0.0.1', HTTP_PORT: '0', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

async function ended(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise((r) => child.once('exit', r));
}

describe('siem-forwarder killed mid-batch (kill -9, a real process)', () => {
  let siems: Siems | undefined;
  const children: ChildProcess[] = [];
  afterEach(async () => {
    for (const c of children.splice(0)) {
      c.kill('SIGKILL');
      await ended(c);
    }
    await siems?.close();
  });

  it('leaves Elasticsearch with every event exactly once after a restart', async () => {
    if (!existsSync(main)) throw new Error(`${main} is missing: build first (pnpm exec tsc -b tsconfig.build.json)`);
    const { namespace, topics } = await freshTopics(3, ['events', 'alerts', 'alertsDlq', 'forwardDlq']);
    siems = await startSiems();
    const events = Array.from({ length: 600 }, (_, i) => newEvent(i));
    await produceEvents(topics.events, events);
    const env = forwarderEnv(namespace, siems, 'elasticsearch', {
      SIEM_GROUP_ID_PREFIX: uniqueName('fwd-kill'),
      SIEM_BATCH_MAX_EVENTS: '100',
      SIEM_MAX_IN_FLIGHT: '8',
      SIEM_SESSION_TIMEOUT_MS: '6000',
    });
    const group = `${env.SIEM_GROUP_ID_PREFIX}-elasticsearch`;

    // Elasticsearch stores what it gets but withholds its answers: the process dies with documents
    // written and their offsets not committed.
    siems.es.server.holdAnswersMs = 60_000;
    const first = spawnForwarder(env);
    children.push(first);
    await waitFor('Elasticsearch to store the first batches', () => siems!.es.count() >= 100, 60_000);
    first.kill('SIGKILL');
    await ended(first);
    await sleep(500); // a request fully sent just before the kill may still be processed
    const stored = siems.es.count();
    expect(await committedTotal(group, topics.events)).toBe(0);

    siems.es.server.holdAnswersMs = 0;
    const second = spawnForwarder(env);
    children.push(second);
    await waitFor('the group to commit every event', async () => (await committedTotal(group, topics.events)) === 600, 90_000);

    expect(siems.es.count()).toBe(600);
    for (const e of events) expect(siems.es.doc(e.event_id)).toBeDefined();
    // The documents stored before the kill were offered again and refused as already there.
    expect(siems.es.conflicts).toBe(stored);
    expect(await dlqRecords(topics.forwardDlq, 0, 1_500)).toEqual([]);
  });
});
