import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { committedTotal, freshTopics, uniqueName, waitFor } from '@vigil/testing';
import { metricValue, produceEvents, readAlerts, scenario, startCorrelation, uniquePrefix, type Instance } from './scenario';

/** A free TCP port on loopback for a Redis of this test's own (never the shared one on 6379). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** redis-server with nothing on disk (no RDB, no AOF): a restart loses every window. */
async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', '/tmp'],
    {
      stdio: 'ignore',
    },
  );
  const probe = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  try {
    await waitFor(
      `redis-server on ${port}`,
      async () => {
        if (probe.status !== 'ready') await probe.connect().catch(() => undefined);
        return (await probe.ping().catch(() => null)) === 'PONG';
      },
      10_000,
      50,
    );
  } finally {
    probe.disconnect();
  }
  return child;
}

async function stopRedis(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGKILL');
  await exited;
}

describe('correlation when Redis restarts', () => {
  let redisProc: ChildProcess | undefined;
  let inst: Instance | undefined;

  afterEach(async () => {
    await inst?.app.close();
    if (redisProc) await stopRedis(redisProc);
  });

  it('retries the batch while Redis is down, reconnects to the restarted (empty) Redis and carries on', async () => {
    const { namespace, topics } = await freshTopics(3, ['events', 'alerts', 'alertsDlq']);
    const port = await freePort();
    redisProc = await startRedis(port);
    const groupId = uniqueName('corr');
    inst = await startCorrelation({ namespace, groupId, prefix: uniquePrefix(), redisUrl: `redis://127.0.0.1:${port}` });

    const before = scenario('restart-1', ['A1']);
    await produceEvents(topics.events, before.delivered);
    expect((await readAlerts(topics.alerts, 1, 0)).map((a) => a.dedup_key)).toEqual(before.expected);

    // Redis dies; a whole attack arrives while it is down.
    await stopRedis(redisProc);
    const during = scenario('restart-2', ['A4']);
    await produceEvents(topics.events, during.delivered);
    await waitFor(
      'a batch retried while Redis is down',
      async () => (await metricValue(inst!.metrics, 'vigil_batch_retries_total')) > 0,
      20_000,
    );
    expect(await committedTotal(groupId, topics.events)).toBe(before.delivered.length);

    // Redis comes back with nothing in it: the retried batch goes through, nothing is lost or doubled.
    redisProc = await startRedis(port);
    const alerts = await readAlerts(topics.alerts, 2, 1500);
    expect(alerts.map((a) => a.dedup_key).sort()).toEqual([...before.expected, ...during.expected].sort());
    await waitFor(
      'every message committed',
      async () => (await committedTotal(groupId, topics.events)) === before.delivered.length + during.delivered.length,
    );
  });
});
