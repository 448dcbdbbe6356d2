import { Writable } from 'node:stream';
import { z } from 'zod';
import { ConfigError, envBool, envInt, envList, parseEnv } from './env';
import { createLogger } from './logger';
import { CircuitBreaker, backoffDelay, parseRetryAfter } from './retry';

describe('parseEnv', () => {
  const schema = z.object({
    PORT: envInt(8080, 1, 65535),
    DEBUG: envBool(false),
    BROKERS: envList('a:1'),
    MODE: z.enum(['x', 'y']).default('x'),
  });

  it('applies defaults and treats empty strings as unset', () => {
    expect(parseEnv(schema, { PORT: '', DEBUG: '' })).toEqual({ PORT: 8080, DEBUG: false, BROKERS: ['a:1'], MODE: 'x' });
  });

  it.each([
    [{ PORT: 'eighty' }, 'PORT', 'must be an integer'],
    [{ PORT: '70000' }, 'PORT', 'must be at most 65535'],
    [{ DEBUG: 'maybe' }, 'DEBUG', 'must be true or false'],
    [{ MODE: 'z' }, 'MODE', ''],
  ])('names the variable in one line for %p', (env, variable, problem) => {
    try {
      parseEnv(schema, env);
      throw new Error('expected a ConfigError');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).variable).toBe(variable);
      expect((err as Error).message).toMatch(new RegExp(`^invalid configuration: ${variable}: .*${problem}`));
      expect((err as Error).message).not.toContain('\n');
    }
  });
});

describe('createLogger', () => {
  it('redacts secrets at fixed paths, at the top level and one level down', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(chunk.toString());
        cb();
      },
    });
    const log = createLogger({ service: 'test', destination: sink });
    log.info({ password: 'hunter2', sasl: { password: 's3cret' }, headers: { authorization: 'Bearer abc' }, user: 'alice' }, 'hello');
    const out = lines.join('');
    expect(out).not.toMatch(/hunter2|s3cret|Bearer abc/);
    expect(out).toContain('[redacted]');
    expect(out).toContain('alice');
  });
});

describe('retry helpers', () => {
  it('backs off exponentially up to the cap, with jitter within [0, base]', () => {
    const policy = { initialMs: 100, maxMs: 1000, jitter: 0 };
    expect([1, 2, 3, 4, 5, 6].map((a) => backoffDelay(a, policy))).toEqual([100, 200, 400, 800, 1000, 1000]);
    const jittered = backoffDelay(3, { ...policy, jitter: 1 }, () => 0.5);
    expect(jittered).toBe(200);
  });

  it('reads Retry-After as seconds or an HTTP date, capped, and ignores junk', () => {
    const now = Date.parse('2026-11-29T10:00:00Z');
    expect(parseRetryAfter('7', now)).toBe(7000);
    expect(parseRetryAfter('Sun, 29 Nov 2026 10:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('999999999', now)).toBe(15 * 60_000);
    expect(parseRetryAfter('soon', now)).toBeNull();
    expect(parseRetryAfter(undefined, now)).toBeNull();
  });

  it('opens the circuit after consecutive failures, lets one trial through after the open period, closes on success', () => {
    const cb = new CircuitBreaker(3, 1000);
    cb.failure(0);
    cb.failure(0);
    expect(cb.allow(0)).toBe(true);
    cb.failure(0);
    expect(cb.state).toBe('open');
    expect(cb.allow(500)).toBe(false);
    expect(cb.waitMs(500)).toBe(500);
    expect(cb.allow(1000)).toBe(true);
    expect(cb.allow(1000)).toBe(false); // only one trial in flight
    cb.failure(1000);
    expect(cb.state).toBe('open');
    expect(cb.allow(2000)).toBe(true);
    cb.success();
    expect(cb.state).toBe('closed');
  });
});
