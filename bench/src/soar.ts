/**
 * soar: the built service (apps/soar/dist/main.js) as its own process against the real Kafka and
 * Redis and a local firewall stand-in.
 *  - latency: alert produced (acks=all) → the block request arrives at the firewall, one at a time;
 *  - throughput: a burst of alerts → blocks executed per second, next to the rate the stand-in takes
 *    bare PUTs from this process (the ceiling any connector could reach), with the ratio.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { sendOutbound } from '@vigil/runtime';
import { startFirewallStandin, type FirewallStandin } from '@vigil/standins';
import { freshTopics, produceRaw, sleep, testBrokers, testRedisUrl, uniqueName } from '@vigil/testing';
import { pct } from './lib';

const TOKEN = 'bench-firewall-token';
const LATENCY_SAMPLES = 100;
const BURST = 1000;
const CONCURRENCY = 16;

function ip(i: number): string {
  return `198.18.${Math.floor(i / 250)}.${(i % 250) + 1}`;
}

function alert(target: string): string {
  const now = new Date().toISOString();
  return JSON.stringify({
    schema_version: 1,
    alert_id: randomUUID(),
    dedup_key: `bench|${target}`,
    rule: { id: 'bench.brute_force', name: 'bench', description: '', kind: 'threshold' },
    severity: 'high',
    group: { 'source.ip': target },
    event_count: 10,
    first_event_at: now,
    last_event_at: now,
    sample_events: [],
    action: 'block_ip',
    tags: [],
    created_at: now,
  });
}

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

async function waitUntil(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(1);
  }
}

async function startSoar(fw: FirewallStandin, namespace: string): Promise<{ proc: ChildProcess; url: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'soar-bench-'));
  writeFileSync(
    join(dir, 'block.yaml'),
    `id: bench-block\ntrigger: { rule_id: bench.brute_force }\nsteps:\n  - action: block_ip\n    connector: firewall\n    target: '{{ group["source.ip"] }}'\n`,
  );
  const port = await freePort();
  const proc = spawn(process.execPath, [resolve(__dirname, '../../apps/soar/dist/main.js')], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      ...process.env,
      KAFKA_BROKERS: testBrokers().join(','),
      REDIS_URL: testRedisUrl(),
      VIGIL_TOPIC_NAMESPACE: namespace,
      KAFKA_CREATE_TOPICS: 'false',
      REDIS_KEY_PREFIX: `${uniqueName('bench')}:`,
      SOAR_GROUP_ID: uniqueName('soar-bench'),
      SOAR_PLAYBOOKS_DIR: dir,
      SOAR_CONNECTOR_IP: 'firewall',
      SOAR_RUNNER_CONCURRENCY: String(CONCURRENCY),
      SOAR_MIN_PREFIX_V4: '16',
      FIREWALL_URL: fw.url,
      FIREWALL_TOKEN: TOKEN,
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: String(port),
      LOG_LEVEL: 'warn',
    },
  });
  const url = `http://127.0.0.1:${port}`;
  const until = Date.now() + 60_000;
  for (;;) {
    if (proc.exitCode !== null)
      throw new Error(`soar exited with ${proc.exitCode} (is apps/soar built? pnpm exec tsc -b tsconfig.build.json)`);
    const ready = await fetch(`${url}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) return { proc, url };
    if (Date.now() > until) throw new Error('soar did not become ready within 60 s');
    await sleep(200);
  }
}

/** The ceiling: bare PUTs from this process to the stand-in, CONCURRENCY in flight, on the client the connectors use. */
async function bareRate(fw: FirewallStandin): Promise<number> {
  let next = 0;
  const started = process.hrtime.bigint();
  const worker = async () => {
    while (next < BURST) {
      const i = next++;
      await sendOutbound({
        method: 'PUT',
        url: `${fw.url}/v1/blocks/${encodeURIComponent(`198.19.${Math.floor(i / 250)}.${(i % 250) + 1}`)}`,
        headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ comment: 'baseline' }),
        timeoutMs: 10_000,
      });
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return BURST / (Number(process.hrtime.bigint() - started) / 1e9);
}

export async function run(): Promise<void> {
  const fw = await startFirewallStandin({ token: TOKEN });
  const { namespace, topics } = await freshTopics(6, ['alerts', 'alertsDlq', 'responses']);
  const { proc } = await startSoar(fw, namespace);
  try {
    // Warm-up: the first alert pays for group join and connections.
    await produceRaw(topics.alerts, [alert('198.18.200.1')]);
    await waitUntil(() => fw.blocks.has('198.18.200.1'), 60_000, 'the warm-up block');

    const latencies: number[] = [];
    for (let i = 0; i < LATENCY_SAMPLES; i++) {
      const target = ip(i);
      const t0 = Date.now();
      await produceRaw(topics.alerts, [alert(target)]);
      await waitUntil(() => fw.blocks.has(target), 30_000, `block of ${target}`);
      latencies.push(fw.blocks.get(target)!.createdAt - t0);
    }
    latencies.sort((a, b) => a - b);

    const burst = Array.from({ length: BURST }, (_, i) => ip(1000 + i));
    const before = fw.blocks.size;
    const t0 = Date.now();
    await produceRaw(topics.alerts, burst.map(alert));
    await waitUntil(() => fw.blocks.size >= before + BURST, 300_000, 'the burst of blocks');
    const last = Math.max(...burst.map((b) => fw.blocks.get(b)!.createdAt));
    const soarRate = BURST / ((last - t0) / 1000);
    const ceiling = await bareRate(fw);

    console.log(`alert on topic → block request at the firewall stand-in, ${LATENCY_SAMPLES} sequential alerts:`);
    console.log(
      `  p50 ${pct(latencies, 50)} ms   p95 ${pct(latencies, 95)} ms   p99 ${pct(latencies, 99)} ms   max ${latencies[latencies.length - 1]} ms`,
    );
    console.log(`burst of ${BURST} alerts (distinct IPs), runner concurrency ${CONCURRENCY}:`);
    console.log(
      `  soar end to end       ${soarRate.toFixed(0)} actions/s (alert consumed, run stored, action claimed, PUT, audit published)`,
    );
    console.log(`  bare PUT baseline     ${ceiling.toFixed(0)} requests/s (this process straight to the stand-in)`);
    console.log(`  ratio soar / baseline ${(soarRate / ceiling).toFixed(2)}`);
  } finally {
    proc.kill('SIGTERM');
    await new Promise((r) => proc.once('exit', r));
    await fw.close();
  }
}
