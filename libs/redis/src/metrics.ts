import { ReplyError, type Command, type Redis } from 'ioredis';
import type { Counter, Metrics } from '@vigil/runtime';

/** How a command ended: Redis answered it (`ok`), Redis answered an error, or no answer came. */
export type RedisCommandOutcome = 'ok' | 'error' | 'unavailable';

const families = new WeakMap<Metrics, RedisMetrics>();

/**
 * The Redis families every Redis-using service shares (docs/observability.md), registered once
 * per registry however many clients a service instruments.
 */
export class RedisMetrics {
  readonly commands: Counter<'command' | 'outcome'>;
  readonly roundTrips: Counter<string>;

  private constructor(m: Metrics) {
    this.commands = m.counter(
      'vigil_redis_commands_total',
      'Redis commands, each counted once when it settles, by command and outcome: ok (answered), error (Redis answered an error, e.g. NOSCRIPT), unavailable (no answer: connection lost or closed, retries exhausted, timed out)',
      ['command', 'outcome'],
    );
    this.roundTrips = m.counter(
      'vigil_redis_round_trips_total',
      'Requests Redis answered: a pipeline or MULTI/EXEC block counts once however many commands it carries, a command sent on its own counts once',
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
}

/** ioredis hands a pipeline's commands to sendCommand with the pipeline's write buffer as `stream`. */
function pipelineOf(stream: unknown): object | undefined {
  return typeof stream === 'object' && stream !== null && (stream as { isPipeline?: unknown }).isPipeline === true ? stream : undefined;
}

/**
 * Counts every command `client` sends and every round trip Redis answers, in the shared families.
 * It wraps the client's `sendCommand`, through which ioredis sends everything: single commands,
 * pipeline and MULTI members, Lua scripts (EVALSHA, and the EVAL that follows a NOSCRIPT), the
 * connection's own handshake (CLIENT SETNAME, INFO, SELECT) and commands resent after a reconnect.
 * A command is counted once, when its promise settles, whatever the resends; a pipeline's round
 * trip is counted when the first answer to any of its commands arrives.
 */
export function instrumentRedis(client: Redis, metrics: Metrics): void {
  const m = RedisMetrics.for(metrics);
  const seen = new WeakSet<Command>();
  const answered = new WeakSet<object>();
  const send = client.sendCommand.bind(client) as (...args: unknown[]) => unknown;
  const observe = (command: Command, stream: unknown): void => {
    if (seen.has(command)) return; // resent after a reconnect: already being watched
    seen.add(command);
    const trip = pipelineOf(stream) ?? command;
    let settled = false;
    const settle = (outcome: RedisCommandOutcome): void => {
      if (settled) return;
      settled = true;
      // Read at settle time: a script command turns from EVALSHA into EVAL when written.
      m.commands.inc({ command: command.name.toLowerCase(), outcome });
      if (outcome !== 'unavailable' && !answered.has(trip)) {
        answered.add(trip);
        m.roundTrips.inc();
      }
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
