import { ReplyError, type Command, type Redis } from 'ioredis';
import type { Counter, Metrics } from '@vigil/runtime';

/** How a command ended: Redis answered it (`ok`), Redis answered an error, or no answer came. */
export type RedisCommandOutcome = 'ok' | 'error' | 'unavailable';

const families = new WeakMap<Metrics, RedisMetrics>();

/**
 * The Redis families every Redis-using service shares (docs/observability.md), registered once
 * per registry however many clients a service instruments. Counts are kept in plain numbers on the
 * hot path and folded into the families when they are read (a scrape), because a labelled
 * prom-client increment per command would cost more than the command's own bookkeeping.
 */
export class RedisMetrics {
  readonly commands: Counter<'command' | 'outcome'>;
  readonly roundTrips: Counter<string>;
  private readonly pendingCommands = new Map<string, { command: string; outcome: RedisCommandOutcome; n: number }>();
  private pendingTrips = 0;

  private constructor(m: Metrics) {
    this.commands = m.counter(
      'vigil_redis_commands_total',
      'Redis commands, each counted once when it settles, by command and outcome: ok (answered), error (Redis answered an error, e.g. NOSCRIPT), unavailable (no answer: connection lost or closed, retries exhausted, timed out)',
      ['command', 'outcome'],
      () => this.flush(),
    );
    this.roundTrips = m.counter(
      'vigil_redis_round_trips_total',
      'Requests Redis answered: a pipeline or MULTI/EXEC block counts once however many commands it carries, a command sent on its own counts once',
      [],
      () => this.flush(),
    );
  }

  static for(metrics: Metrics): RedisMetrics {
    let f = families.get(metrics);
    if (!f) {
      f = new RedisMetrics(metrics);
      families.set(metrics, f);
    }
    return f;
  }

  /** Records one settled command, and a round trip when it was the first answer of its request. */
  count(command: string, outcome: RedisCommandOutcome, roundTrip: boolean): void {
    const key = `${command}\u0000${outcome}`;
    const p = this.pendingCommands.get(key);
    if (p) p.n++;
    else this.pendingCommands.set(key, { command, outcome, n: 1 });
    if (roundTrip) this.pendingTrips++;
  }

  private flush(): void {
    for (const p of this.pendingCommands.values()) {
      if (p.n === 0) continue;
      this.commands.inc({ command: p.command, outcome: p.outcome }, p.n);
      p.n = 0;
    }
    if (this.pendingTrips > 0) {
      this.roundTrips.inc(this.pendingTrips);
      this.pendingTrips = 0;
    }
  }
}

/** Marks on ioredis objects: a command already watched, a pipeline whose round trip is counted. */
const WATCHED = Symbol('vigil.redis.watched');
const ANSWERED = Symbol('vigil.redis.answered');
type Marked = { [WATCHED]?: true; [ANSWERED]?: true };

/** ioredis hands a pipeline's commands to sendCommand with the pipeline's write buffer as `stream`. */
function pipelineOf(stream: unknown): Marked | undefined {
  return typeof stream === 'object' && stream !== null && (stream as { isPipeline?: unknown }).isPipeline === true
    ? (stream as Marked)
    : undefined;
}

/**
 * Counts every command `client` sends and every round trip Redis answers, in the shared families.
 * It wraps the client's `sendCommand`, through which ioredis sends everything: single commands,
 * pipeline and MULTI members, Lua scripts (EVALSHA, and the EVAL that follows a NOSCRIPT), the
 * connection's own handshake (CLIENT SETNAME, INFO, SELECT) and commands resent after a reconnect.
 * A command is counted once, when it settles, whatever the resends; a pipeline's round trip is
 * counted when the first answer to any of its commands arrives.
 */
export function instrumentRedis(client: Redis, metrics: Metrics): void {
  const m = RedisMetrics.for(metrics);
  const send = client.sendCommand.bind(client) as (...args: unknown[]) => unknown;
  const observe = (command: Command & Marked, stream: unknown): void => {
    if (command[WATCHED]) return; // resent after a reconnect: already being watched
    command[WATCHED] = true;
    const trip: Marked = pipelineOf(stream) ?? command;
    let settled = false;
    const settle = (outcome: RedisCommandOutcome): void => {
      if (settled) return;
      settled = true;
      const first = outcome !== 'unavailable' && !trip[ANSWERED];
      if (first) trip[ANSWERED] = true;
      // Read at settle time: a script command turns from EVALSHA into EVAL when written.
      m.count(command.name.toLowerCase(), outcome, first);
    };
    // ioredis settles a command only through these two (replies, errors, timeouts, flushed queues).
    const { resolve, reject } = command;
    command.resolve = (value: unknown) => {
      settle('ok');
      return resolve.call(command, value);
    };
    command.reject = (err: Error) => {
      settle(err instanceof ReplyError ? 'error' : 'unavailable');
      return reject.call(command, err);
    };
  };
  client.sendCommand = ((command: Command, stream?: unknown, ...rest: unknown[]) => {
    observe(command, stream);
    return send(command, stream, ...rest);
  }) as Redis['sendCommand'];
}
