import { spawn, type ChildProcess } from 'node:child_process';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { committedTotal, testBrokers, testRedisUrl, uniqueName } from '@vigil/testing';
import { startPipeline } from '@vigil/tools/dist/demo/pipeline';

export const ROOT = `${__dirname}/../..`;

/** The p-th percentile of ascending values, nearest rank (NaN when there are none). */
export function pct(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

type PipelineOptions = Parameters<typeof startPipeline>[0];

/** The five services as processes (the demo's launcher) on the local Kafka and Redis; logs discarded. */
export function benchPipeline(
  namespace: string,
  standinsEnv: PipelineOptions['standinsEnv'],
  portOffset: number,
  overrides?: PipelineOptions['overrides'],
  only?: PipelineOptions['only'],
): ReturnType<typeof startPipeline> {
  return startPipeline({
    root: ROOT,
    brokers: testBrokers().join(','),
    redisUrl: testRedisUrl(),
    namespace,
    standinsEnv,
    portOffset,
    ...(overrides ? { overrides } : {}),
    ...(only ? { only } : {}),
    onLog: () => undefined,
  });
}

export function kafka(): Kafka {
  return new Kafka({ clientId: uniqueName('bench'), brokers: testBrokers(), logLevel: logLevel.NOTHING });
}

/** Produces `count` values made by `make(i)` as fast as the broker takes them, in big batches. */
export async function produceMany(
  topic: string,
  count: number,
  make: (i: number) => { key: string; value: string },
  batch = 2000,
): Promise<number> {
  const producer: Producer = kafka().producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const started = performance.now();
  try {
    const inflight: Promise<unknown>[] = [];
    for (let i = 0; i < count; i += batch) {
      const messages = [];
      for (let j = i; j < Math.min(count, i + batch); j++) messages.push(make(j));
      inflight.push(producer.send({ topic, acks: 1, messages }));
      if (inflight.length >= 4) await inflight.shift();
    }
    await Promise.all(inflight);
  } finally {
    await producer.disconnect();
  }
  return count / ((performance.now() - started) / 1000);
}

export interface DrainResult {
  /** Messages per second between the first commit and the last (start-up and group join excluded). */
  rate: number;
  seconds: number;
  counted: number;
}

/**
 * Measures how fast a consumer group works through a pre-filled topic, from broker-side facts only:
 * committed offsets, polled every 100 ms.
 */
export async function measureDrain(groupId: string, topic: string, total: number, timeoutMs = 300_000): Promise<DrainResult> {
  const until = Date.now() + timeoutMs;
  let firstAt = 0;
  let firstCount = 0;
  for (;;) {
    const n = await committedTotal(groupId, topic);
    const now = performance.now();
    if (n > 0 && firstAt === 0) {
      firstAt = now;
      firstCount = n;
    }
    if (n >= total) {
      const seconds = (now - firstAt) / 1000;
      return { rate: (n - firstCount) / seconds, seconds, counted: n - firstCount };
    }
    if (Date.now() > until) throw new Error(`group ${groupId} committed only ${n}/${total} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export function startNode(script: string, env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, [script], {
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return child;
}

export async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

/** Resident memory of a process in MiB, from /proc (Linux). */
export async function rssMiB(pid: number): Promise<number> {
  const { readFile } = await import('node:fs/promises');
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

export function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

/** Prints an aligned table. */
export function table(rows: Array<Record<string, string | number>>): void {
  if (rows.length === 0) return;
  const cols = Object.keys(rows[0]!);
  const width = cols.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c]).length)));
  const line = (vals: string[]) => vals.map((v, i) => v.padEnd(width[i]!)).join('  ');
  console.log(line(cols));
  console.log(line(width.map((w) => '-'.repeat(w))));
  for (const r of rows) console.log(line(cols.map((c) => String(r[c]))));
}
