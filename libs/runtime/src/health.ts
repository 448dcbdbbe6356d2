/** A readiness check: resolves true when the dependency it watches is usable. */
export type ReadinessCheck = () => boolean | Promise<boolean>;

/**
 * Liveness says "the process is not wedged"; readiness says "send me work". A service is
 * ready when every registered check passes and it is not shutting down.
 */
export class Health {
  private readonly checks = new Map<string, ReadinessCheck>();
  private shuttingDown = false;

  register(name: string, check: ReadinessCheck): void {
    this.checks.set(name, check);
  }

  markShuttingDown(): void {
    this.shuttingDown = true;
  }

  async readiness(): Promise<{ ready: boolean; checks: Record<string, boolean> }> {
    const checks: Record<string, boolean> = {};
    for (const [name, check] of this.checks) {
      try {
        checks[name] = await check();
      } catch {
        checks[name] = false;
      }
    }
    const ready = !this.shuttingDown && Object.values(checks).every(Boolean);
    return { ready, checks };
  }
}
