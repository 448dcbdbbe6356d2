import { createWriteStream, mkdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { uuidV5 } from '@vigil/contracts';
import { CONSUMER_REPLACED_MESSAGE } from '@vigil/kafka';
import { parseEnv } from '@vigil/runtime';
import { Feed } from '../demo/feed';
import { demoKafka, startPipeline, type RunningPipeline, type ServiceName } from '../demo/pipeline';
import { StandinsEnvSchema, startStandins, type RunningStandins } from '../standins';
import { account, complete, type Account } from './account';
import type { GeneratorReport } from './generator';
import type { PrivateInfra } from './infra';
import { Schedule, type Expected } from './load';
import { LoadProcess } from './load-process';

export interface SuiteOptions {
  root: string;
  brokers: string;
  redisUrl: string;
  /** The suite's own broker and Redis, for the faults that stop them (null: those faults are skipped). */
  infra: PrivateInfra | null;
  /** Events per second the generator aims at. */
  rate: number;
  /** Seconds of load per fault (count = rate × seconds). */
  seconds: number;
  siemDownSeconds: number;
  siemSlowSeconds: number;
  siemSlowMs: number;
  kafkaDownSeconds: number;
  redisDownSeconds: number;
  standinsPortBase: number;
  portOffset: number;
  /** Most time to wait, after the load, for everything to arrive. */
  drainTimeoutMs: number;
  say: (line: string) => void;
}

export const DEFAULT_SUITE: Omit<SuiteOptions, 'root' | 'brokers' | 'redisUrl' | 'infra' | 'say'> = {
  rate: 2_000,
  seconds: 30,
  siemDownSeconds: 60, // 1 min, as the issue asks
  siemSlowSeconds: 30,
  siemSlowMs: 3_000, // 3 s per request
  kafkaDownSeconds: 15,
  redisDownSeconds: 10,
  standinsPortBase: 29_300,
  portOffset: 21_300, // services on 29381-29385
  drainTimeoutMs: 360_000, // 6 min
};

export interface FaultContext {
  pipeline: RunningPipeline;
  standins: RunningStandins;
  load: LoadProcess;
  count: number;
  opts: SuiteOptions;
  /** Records a timeline entry ("+12.3 s  killed correlation"). */
  mark: (what: string) => void;
  onLog: (name: string, line: string) => void;
}

export interface FaultSpec {
  name: string;
  /** What the table's row says was done. */
  title: string;
  needsPrivateInfra: boolean;
  inject: (ctx: FaultContext) => Promise<void>;
}

export interface FaultResult {
  name: string;
  title: string;
  rate: number;
  account: Account;
  generator: GeneratorReport;
  timeline: string[];
  /** Every line the services logged (warn and above). */
  logFile: string;
  /** Error/fatal lines the services logged, per service, and a few of them. */
  serviceErrors: Record<string, number>;
  errorSamples: string[];
  /**
   * Per service, consumers BatchConsumer replaced after kafkajs gave up on them for good (the
   * restart path a broker restart can take; counted from the services' log lines).
   */
  consumersReplaced: Record<string, number>;
  /** Everything expected arrived before the drain timeout. */
  complete: boolean;
  /** Seconds from the end of the load until everything had arrived. */
  drainSeconds: number;
  loadAverage: { start: number[]; end: number[] };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitReady(port: number, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200) return true;
    } catch {
      // not listening yet
    }
    await sleep(250);
  }
  return false;
}

/**
 * Resolves on the next element pushed to `list` (a stand-in's log of what it received), calling
 * `now` synchronously first: the stand-in has taken the request in but not answered it yet.
 */
function onNextPush<T>(list: T[], now: () => void): Promise<void> {
  return new Promise((resolve) => {
    const push = list.push.bind(list);
    list.push = (...items: T[]) => {
      list.push = push;
      now();
      resolve();
      return push(...items);
    };
  });
}

async function restartAfterKill(ctx: FaultContext, name: ServiceName, what: string): Promise<void> {
  ctx.mark(`kill -9 ${name} ${what}`);
  await sleep(1000);
  ctx.pipeline.services.restart(name, ctx.onLog);
  ctx.mark(`${name} restarted`);
  const ready = await waitReady(ctx.pipeline.ports[name], 120_000);
  ctx.mark(ready ? `${name} ready again` : `${name} NOT ready after 120 s`);
}

/** Where each service is killed: inside its work, not between two batches. */
const KILL_MOMENT: Record<ServiceName, string> = {
  ingest: 'under load, then again 1 s into the backlog the first kill left (mid-batch)',
  correlation: 'under load, then again 1 s into the backlog the first kill left (mid-batch)',
  'siem-forwarder': 'with a bulk request at Elasticsearch taken in and not yet answered',
  'alert-router': 'with a webhook notification taken in and not yet answered',
  soar: 'with a firewall block taken in and not yet answered',
};

/** kill -9 one service mid-work under load, and start it again a second later. */
function killService(name: ServiceName): FaultSpec {
  return {
    name: `kill-${name}`,
    title: `kill -9 ${name} ${KILL_MOMENT[name]}; restarted after 1 s`,
    needsPrivateInfra: false,
    inject: async (ctx) => {
      const kill = () => void ctx.pipeline.services.kill(name, 'SIGKILL');
      const { elasticsearch, webhook, firewall } = ctx.standins.instances;
      await ctx.load.untilAcked(Math.floor(ctx.count * 0.35));
      switch (name) {
        case 'ingest':
        case 'correlation':
          await ctx.pipeline.services.kill(name, 'SIGKILL');
          await restartAfterKill(ctx, name, 'under load');
          // It is now working through the backlog: back-to-back batches, so this one lands mid-batch.
          await sleep(1000);
          await ctx.pipeline.services.kill(name, 'SIGKILL');
          await restartAfterKill(ctx, name, 'while catching up');
          return;
        case 'siem-forwarder': {
          // The bulk request is processed but its answer held; the forwarder dies waiting for it.
          elasticsearch.server.holdAnswersMs = 500;
          const before = elasticsearch.server.requests;
          while (elasticsearch.server.requests === before) await sleep(1);
          kill();
          elasticsearch.server.holdAnswersMs = 0;
          return restartAfterKill(ctx, name, 'mid-request');
        }
        case 'alert-router':
          await onNextPush(webhook.received, kill);
          return restartAfterKill(ctx, name, 'mid-delivery');
        case 'soar':
          await onNextPush(firewall.requests, kill);
          return restartAfterKill(ctx, name, 'mid-action');
      }
    },
  };
}

export const FAULTS: FaultSpec[] = [
  ...(['ingest', 'correlation', 'siem-forwarder', 'alert-router', 'soar'] as const).map(killService),
  {
    name: 'kafka-restart',
    title: 'Kafka broker stopped (SIGTERM) and started again',
    needsPrivateInfra: true,
    inject: async (ctx) => {
      await ctx.load.untilAcked(Math.floor(ctx.count * 0.35));
      await ctx.opts.infra!.stopKafka();
      ctx.mark('broker stopped');
      await sleep(ctx.opts.kafkaDownSeconds * 1000);
      await ctx.opts.infra!.startKafka();
      ctx.mark('broker started');
    },
  },
  {
    name: 'redis-restart',
    title: 'Redis stopped (SIGTERM, AOF on) and started again',
    needsPrivateInfra: true,
    inject: async (ctx) => {
      await ctx.load.untilAcked(Math.floor(ctx.count * 0.35));
      await ctx.opts.infra!.stopRedis();
      ctx.mark('redis stopped');
      await sleep(ctx.opts.redisDownSeconds * 1000);
      await ctx.opts.infra!.startRedis();
      ctx.mark('redis started');
    },
  },
  {
    name: 'siem-down-slow',
    title: 'Elasticsearch stand-in down, then slow, then back',
    needsPrivateInfra: false,
    inject: async (ctx) => {
      const es = ctx.standins.instances.elasticsearch.server;
      await ctx.load.untilAcked(Math.floor(ctx.count * 0.2));
      await es.goDown();
      ctx.mark('elasticsearch down (connection refused)');
      await sleep(ctx.opts.siemDownSeconds * 1000);
      es.latencyMs = ctx.opts.siemSlowMs;
      await es.comeBack();
      ctx.mark(`elasticsearch back, ${ctx.opts.siemSlowMs} ms per request`);
      await sleep(ctx.opts.siemSlowSeconds * 1000);
      es.latencyMs = 0;
      ctx.mark('elasticsearch at full speed');
    },
  },
  {
    name: 'notify-429-500',
    title: 'Slack and PagerDuty answer every request 429 (Retry-After) for 20 s, then 500 for 20 s',
    needsPrivateInfra: false,
    inject: async (ctx) => {
      const { slack, pagerduty } = ctx.standins.instances;
      const during = async (what: string, fault: (retryAfterSeconds: number) => Parameters<typeof slack.failNext>[1]) => {
        slack.failNext(1_000_000, fault(2));
        pagerduty.failNext(1_000_000, fault(1));
        ctx.mark(`slack and pagerduty answer ${what}`);
        await sleep(20_000);
        slack.clearFaults();
        pagerduty.clearFaults();
      };
      await ctx.load.untilAcked(Math.floor(ctx.count * 0.1));
      const before = { slack: slack.faulted, pagerduty: pagerduty.faulted };
      await during('429 with Retry-After (2 s / 1 s)', (s) => ({ status: 429, retryAfterSeconds: s }));
      await during('500', () => ({ status: 500 }));
      ctx.mark(
        `slack and pagerduty back; refused meanwhile: slack ${slack.faulted - before.slack}, pagerduty ${pagerduty.faulted - before.pagerduty} requests`,
      );
    },
  },
];

export const BASELINE: FaultSpec = { name: 'none', title: 'no fault (reference)', needsPrivateInfra: false, inject: async () => undefined };

async function rawMessages(brokers: string, topic: string): Promise<number | null> {
  const admin = demoKafka(brokers).admin();
  try {
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((n, p) => n + Number(p.high) - Number(p.low), 0);
  } catch {
    return null;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** One fault: fresh stand-ins and namespace, the five services, the load, the fault, the accounting. */
export async function runFault(spec: FaultSpec, opts: SuiteOptions): Promise<FaultResult> {
  const count = opts.rate * opts.seconds;
  const namespace = `faults-${spec.name}-${Date.now().toString(36)}`;
  const plan = { runId: uuidV5(namespace), rate: opts.rate, count, attackEvery: opts.rate, junkEvery: 1000 };
  const schedule = new Schedule(plan);
  const expected: Expected = schedule.expected();
  const timeline: string[] = [];
  let t0 = Date.now();
  const mark = (what: string) => {
    const line = `+${((Date.now() - t0) / 1000).toFixed(1)} s  ${what}`;
    timeline.push(line);
    opts.say(`  ${line}`);
  };
  const serviceErrors: Record<string, number> = {};
  const errorSamples: string[] = [];
  const consumersReplaced: Record<string, number> = {};
  // Every service line (they log at warn and above) goes to a file for the post-mortem.
  mkdirSync(join(opts.root, '.cache', 'faults'), { recursive: true });
  const logFile = join(opts.root, '.cache', 'faults', `${namespace}.log`);
  const logStream = createWriteStream(logFile);
  const onLog = (name: string, line: string) => {
    logStream.write(`[${name}] ${line}\n`);
    if (line.includes(CONSUMER_REPLACED_MESSAGE)) consumersReplaced[name] = (consumersReplaced[name] ?? 0) + 1;
    if (!/"level":"(error|fatal)"/.test(line)) return;
    serviceErrors[name] = (serviceErrors[name] ?? 0) + 1;
    if (errorSamples.length < 12) errorSamples.push(`[${name}] ${line.slice(0, 300)}`);
  };
  const loadStart = loadavg();

  const standins = await startStandins(parseEnv(StandinsEnvSchema, { STANDINS_PORT_BASE: String(opts.standinsPortBase) }));
  let pipeline: RunningPipeline | undefined;
  let feed: Feed | undefined;
  let load: LoadProcess | undefined;
  try {
    pipeline = await startPipeline({
      root: opts.root,
      brokers: opts.brokers,
      redisUrl: opts.redisUrl,
      namespace,
      standinsEnv: standins.env,
      portOffset: opts.portOffset,
      onLog,
    });
    feed = new Feed(demoKafka(opts.brokers), pipeline.topics, () => undefined);
    await feed.start();
    opts.say(
      `${spec.name}: ${count} messages at ${opts.rate}/s (${expected.eventIds.length} events, ${expected.junk} malformed, ${expected.attacks.length} attacks → ${expected.alerts.length} alerts)`,
    );
    t0 = Date.now();
    load = new LoadProcess({ plan, brokers: opts.brokers, topic: pipeline.topics.eventsRaw, maxSeconds: opts.seconds + 600 });
    const ctx: FaultContext = { pipeline, standins, load, count, opts, mark, onLog };
    const injected = spec.inject(ctx).catch((err: unknown) => mark(`fault injection failed: ${(err as Error).message}`));
    const generator = await load.finished;
    mark(
      `load done: ${generator.acked}/${count} acknowledged, ${generator.failedSends} failed sends, max lag ${generator.maxLagMs ?? 0} ms`,
    );
    if (generator.acked < count) throw new Error(`the load generator stopped early: ${load.errors.join('; ') || generator.error}`);
    await injected;
    const loadEnd = Date.now();
    let done = false;
    const until = Date.now() + opts.drainTimeoutMs;
    while (Date.now() < until) {
      if (complete(expected, feed.seen, standins.instances)) {
        done = true;
        break;
      }
      await sleep(2000);
    }
    const drainSeconds = (Date.now() - loadEnd) / 1000;
    mark(done ? `everything arrived ${drainSeconds.toFixed(1)} s after the load` : `NOT complete after ${drainSeconds.toFixed(0)} s`);
    // Late duplicates (a redelivered batch, a retried notification) get a chance to show up.
    await sleep(8000);
    const raw = await rawMessages(opts.brokers, pipeline.topics.eventsRaw);
    const acc = account(expected, feed.seen, standins.instances, {
      acked: generator.acked,
      failedSends: generator.failedSends,
      rawMessages: raw,
    });
    return {
      name: spec.name,
      title: spec.title,
      rate: opts.rate,
      account: acc,
      generator,
      timeline,
      logFile,
      serviceErrors,
      errorSamples,
      consumersReplaced,
      complete: done,
      drainSeconds,
      loadAverage: { start: loadStart, end: loadavg() },
    };
  } finally {
    load?.stop();
    await feed?.stop().catch(() => undefined);
    await pipeline?.stop();
    await standins.close();
    logStream.end();
  }
}
