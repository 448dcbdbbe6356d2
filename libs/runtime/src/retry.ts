/**
 * Retry policy pieces shared by every delivery path (SIEM sinks, notification channels, SOAR
 * connectors): exponential backoff with full jitter, Retry-After parsing, and a circuit breaker.
 */
export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
  /** 0 = no jitter, 1 = full jitter. */
  jitter: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 250, maxMs: 30_000, jitter: 1 };

/** Delay before attempt `attempt` (1-based retry count); `random` injectable for tests. */
export function backoffDelay(attempt: number, policy: BackoffPolicy = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  const base = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(base * (1 - policy.jitter) + base * policy.jitter * random());
}

/**
 * Retry-After as milliseconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3). Null when absent
 * or unreadable. Capped so a hostile or broken server cannot park a sender for days.
 */
export function parseRetryAfter(value: string | null | undefined, nowMs: number, capMs = 15 * 60_000): number | null {
  if (value === null || value === undefined) return null;
  const v = value.trim();
  if (/^\d{1,10}$/.test(v)) return Math.min(Number(v) * 1000, capMs);
  if (v.length > 64) return null;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return null;
  return Math.min(Math.max(0, at - nowMs), capMs);
}

export type CircuitState = 'closed' | 'open' | 'half_open';

/**
 * A breaker state as the value of a `vigil_<service>_circuit_state` gauge: 0 closed, 1 open,
 * 2 half-open (one trial call allowed). The same numbers in every service (docs/observability.md).
 */
export const CIRCUIT_STATE_VALUE: Readonly<Record<CircuitState, number>> = { closed: 0, open: 1, half_open: 2 };

/**
 * Opens after `failureThreshold` consecutive failures; while open, callers wait instead of
 * hammering a dead endpoint; after `openMs` one trial call is let through (half-open).
 * Time is passed in so the breaker is testable without a clock.
 */
export class CircuitBreaker {
  private failures = 0;
  private openedAt = 0;
  private trialInFlight = false;
  state: CircuitState = 'closed';

  constructor(
    readonly failureThreshold = 5,
    readonly openMs = 30_000,
  ) {}

  /** Whether a call may go out now. */
  allow(nowMs: number): boolean {
    if (this.state === 'closed') return true;
    if (this.state === 'open' && nowMs - this.openedAt >= this.openMs) {
      this.state = 'half_open';
      this.trialInFlight = false;
    }
    if (this.state === 'half_open' && !this.trialInFlight) {
      this.trialInFlight = true;
      return true;
    }
    return false;
  }

  /** Milliseconds until the breaker lets a trial call through (0 when it would now). */
  waitMs(nowMs: number): number {
    return this.state === 'open' ? Math.max(0, this.openMs - (nowMs - this.openedAt)) : 0;
  }

  success(): void {
    this.failures = 0;
    this.trialInFlight = false;
    this.state = 'closed';
  }

  failure(nowMs: number): void {
    this.failures++;
    this.trialInFlight = false;
    if (this.state === 'half_open' || this.failures >= this.failureThreshold) {
      this.state = 'open';
      this.openedAt = nowMs;
    }
  }
}
