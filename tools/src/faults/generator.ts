/**
 * The load generator, as its own process: produces a LoadPlan to the raw topic at a fixed rate
 * (acks=all), stamping each event with its scheduled time. A send that fails (broker down) is
 * retried until it is acknowledged or the deadline passes, then the schedule catches up. Reports
 * progress as JSON lines on stdout: {"acked": n, "lagMs": ...}, and a final {"done": true, ...}.
 *
 * Configuration: VIGIL_LOAD, a JSON GeneratorConfig.
 */
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { Schedule, messageSource, type LoadPlan } from './load';

export interface GeneratorConfig {
  plan: LoadPlan;
  brokers: string;
  topic: string;
  /** Give up (exit 1) when not everything is acknowledged after this many seconds. */
  maxSeconds: number;
  /** Milliseconds between sends (default 10). */
  tickMs?: number;
  /** Report when each attack step was sent (GeneratorReport.attackSends); default off. */
  reportAttackSends?: boolean;
}

export interface GeneratorReport {
  acked: number;
  /** How far behind the schedule the last acknowledged message was sent, ms. */
  lagMs: number;
  /** Sends that failed and were retried (each may leave duplicates on the raw topic). */
  failedSends: number;
  done?: boolean;
  /** Largest lag seen, ms. */
  maxLagMs?: number;
  /**
   * Final report only, with reportAttackSends: [message index, epoch ms] of each attack step, when
   * the send that delivered it was handed to the producer (kafkajs stamps the record's CreateTime
   * a moment later), for latency measured from the send rather than from the schedule.
   */
  attackSends?: Array<[number, number]>;
  seconds?: number;
  error?: string;
  /** CPU this process has used so far (user + system), ms: a bench subtracts two reports. */
  cpuMs?: number;
  /**
   * First report only: when message 0 is due (epoch ms), once the messages are built. Message i
   * is due `i / rate` seconds later; a bench times its warm-up from here.
   */
  startsAt?: number;
}

const MAX_BATCH = 2000;
/**
 * Plans up to this many messages are built before the schedule starts, so that building them
 * (about 20 µs each here) does not share the machine with the pipeline being measured; larger
 * plans are built as they are sent. 500 000 messages of the fault load hold about 250 MB.
 */
const PREBUILD_MAX = 500_000;

function emit(r: GeneratorReport): void {
  const { user, system } = process.cpuUsage();
  process.stdout.write(`${JSON.stringify({ ...r, cpuMs: (user + system) / 1000 })}\n`);
}

async function main(): Promise<number> {
  const cfg = JSON.parse(process.env.VIGIL_LOAD ?? '') as GeneratorConfig;
  const schedule = new Schedule(cfg.plan);
  const { rate, count } = cfg.plan;
  const tick = cfg.tickMs ?? 10;
  const kafka = new Kafka({
    clientId: 'vigil-load-generator',
    brokers: cfg.brokers.split(','),
    logLevel: logLevel.NOTHING,
    retry: { initialRetryTime: 200, maxRetryTime: 2_000, retries: 5 },
  });
  const producer = kafka.producer({
    allowAutoTopicCreation: false,
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  let stopping = false;
  process.once('SIGTERM', () => (stopping = true));
  process.once('SIGINT', () => (stopping = true));
  const deadline = Date.now() + cfg.maxSeconds * 1000;
  for (;;) {
    try {
      await producer.connect();
      break;
    } catch (err) {
      if (Date.now() > deadline || stopping) throw err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  const message = messageSource(schedule, count, PREBUILD_MAX);
  const t0 = Date.now() + 50;
  emit({ acked: 0, lagMs: 0, failedSends: 0, startsAt: t0 });
  let acked = 0;
  let failedSends = 0;
  let lagMs = 0;
  let maxLagMs = 0;
  let lastReport = 0;
  const attackSends: Array<[number, number]> = [];
  while (acked < count && !stopping) {
    const now = Date.now();
    if (now > deadline) break;
    const due = Math.min(count, Math.floor(((now - t0) * rate) / 1000));
    if (due <= acked) {
      await new Promise((r) => setTimeout(r, tick));
      continue;
    }
    const end = Math.min(due, acked + MAX_BATCH);
    const messages = [];
    for (let i = acked; i < end; i++) messages.push(message(i, new Date(t0 + (i * 1000) / rate).toISOString()));
    let sentAt = Date.now();
    for (;;) {
      try {
        sentAt = Date.now();
        await producer.send({ topic: cfg.topic, acks: -1, messages });
        break;
      } catch (err) {
        failedSends++;
        emit({ acked, lagMs, failedSends, error: (err as Error).message.slice(0, 200) });
        if (Date.now() > deadline || stopping) break;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    if (Date.now() > deadline || stopping) break;
    if (cfg.reportAttackSends) for (let i = acked; i < end; i++) if (schedule.isAttack(i)) attackSends.push([i, sentAt]);
    acked = end;
    lagMs = Date.now() - (t0 + ((end - 1) * 1000) / rate);
    maxLagMs = Math.max(maxLagMs, lagMs);
    if (Date.now() - lastReport >= 250 || acked === count) {
      lastReport = Date.now();
      emit({ acked, lagMs, failedSends });
    }
  }
  await producer.disconnect().catch(() => undefined);
  emit({
    acked,
    lagMs,
    failedSends,
    maxLagMs,
    done: true,
    seconds: (Date.now() - t0) / 1000,
    ...(cfg.reportAttackSends ? { attackSends } : {}),
  });
  return acked === count ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    emit({ acked: 0, lagMs: 0, failedSends: 0, done: true, error: err instanceof Error ? err.message : String(err) });
    process.exit(1);
  },
);
