import type { Logger } from '@vigil/runtime';
import type { Deliverer } from './delivery/deliverer';
import { flushGroup, groupAlertLabels, type GroupAlert, type GroupState, type MuteCheck } from './domain/grouping';
import { inhibitedBy } from './domain/inhibit';
import { buildNotification } from './domain/notification';
import { allRoutes, type Route } from './domain/routes';
import { activeSilences, silencedBy } from './domain/silences';
import type { RouterMetrics } from './metrics';
import type { RoutingHolder } from './routing/holder';
import type { DeliveryJob, RouterStore } from './state/store';

export interface SchedulerOptions {
  pollMs: number;
  claimBatch: number;
  leaseMs: number;
  concurrency: number;
}

const MAX_FLUSH_ROUNDS = 5;
/** Least time between the starts of two ticks that wake() brought forward. */
export const WAKE_MIN_GAP_MS = 20;

/**
 * Fires group timers and deliveries from Redis state. Every instance polls; the atomic claim
 * (a Lua script that moves due members past a lease) hands each due group and each due delivery
 * to one instance at a time, and the flush commits with compare-and-set, so a group's
 * notification is created once however many routers run.
 */
export class Scheduler {
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private ticking: Promise<void> | null = null;
  private readonly inFlight = new Set<Promise<void>>();
  private routeIndex: { version: string; byId: Map<string, Route> } | null = null;
  private loop: (() => void) | null = null;
  private woken = false;
  private lastStart = 0;

  constructor(
    private readonly store: RouterStore,
    private readonly routing: RoutingHolder,
    private readonly deliverer: Deliverer,
    private readonly metrics: RouterMetrics,
    private readonly logger: Logger,
    private readonly opts: SchedulerOptions,
    private readonly clock: () => number = Date.now,
  ) {}

  start(): void {
    this.running = true;
    const loop = () => {
      this.timer = null;
      if (!this.running) return;
      this.woken = false;
      this.lastStart = Date.now();
      this.ticking = this.tick()
        .catch((err: unknown) =>
          this.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'scheduler tick failed; retrying next tick'),
        )
        .finally(() => {
          this.ticking = null;
          if (this.running) this.timer = setTimeout(loop, this.woken ? this.wakeDelay() : this.opts.pollMs);
        });
    };
    this.loop = loop;
    loop();
  }

  /**
   * Brings the next tick forward: called once new alerts are recorded, so a group whose
   * group_wait is 0 (or already over) is flushed now rather than at the next poll. A tick in
   * progress is followed by another; ticks brought forward start WAKE_MIN_GAP_MS apart at least,
   * so a burst of alerts costs a tick every 20 ms, not one per batch.
   */
  wake(): void {
    if (!this.running || !this.loop) return;
    if (this.ticking) {
      this.woken = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(this.loop, this.wakeDelay());
  }

  private wakeDelay(): number {
    return Math.max(0, this.lastStart + WAKE_MIN_GAP_MS - Date.now());
  }

  /** Stops polling and waits for the tick and deliveries in progress (their jobs stay leased otherwise). */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    await this.ticking;
    await Promise.allSettled([...this.inFlight]);
  }

  /** One poll: flush the due groups, then start due deliveries up to the concurrency limit. */
  async tick(): Promise<void> {
    await this.flushDue(this.clock());
    const free = this.opts.concurrency - this.inFlight.size;
    if (free <= 0) return;
    const ids = await this.store.claimDueJobs(this.clock(), this.opts.leaseMs, Math.min(free, this.opts.claimBatch));
    for (const id of ids) {
      const p: Promise<void> = this.deliverer
        .deliver(id)
        .catch((err: unknown) =>
          this.logger.warn(
            { notification: id, err: err instanceof Error ? err.message : String(err) },
            'delivery step failed; the job is retried when its lease ends',
          ),
        )
        .finally(() => this.inFlight.delete(p));
      this.inFlight.add(p);
    }
  }

  /** Waits until every delivery started so far has finished (tests, shutdown). */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
  }

  async flushDue(now: number): Promise<number> {
    const keys = await this.store.claimDueGroups(now, this.opts.leaseMs, this.opts.claimBatch);
    if (keys.length === 0) return 0;
    const { config } = this.routing.current;
    const silences = activeSilences(await this.store.listSilences(), now);
    const sources = config.inhibitRules.length > 0 ? await this.store.inhibitSources(now) : [];
    const mute: MuteCheck = (a: GroupAlert) => {
      const labels = groupAlertLabels(a);
      const silenced = silencedBy(labels, silences);
      if (silenced.length > 0) return { reason: 'silenced', by: silenced[0]! };
      const inh = inhibitedBy(config.inhibitRules, { dedupKey: a.dedup_key, labels }, sources);
      return inh ? { reason: 'inhibited', by: inh.source } : null;
    };
    for (const key of keys) {
      try {
        await this.flushOne(key, now, mute);
      } catch (err) {
        // The group stays claimed until its lease ends, then any instance flushes it again.
        this.logger.warn(
          { group: key, err: err instanceof Error ? err.message : String(err) },
          'group flush failed; retried after the lease',
        );
      }
    }
    return keys.length;
  }

  private routeById(id: string): Route | undefined {
    const { config } = this.routing.current;
    if (this.routeIndex?.version !== config.version) {
      this.routeIndex = { version: config.version, byId: new Map(allRoutes(config.route).map((r) => [r.id, r])) };
    }
    return this.routeIndex.byId.get(id);
  }

  /** Receivers for a flush: the route's current ones (a reload applies), else those still defined. */
  private receiversFor(state: GroupState): string[] {
    const { config } = this.routing.current;
    const route = this.routeById(state.route_id);
    const names = route ? route.receivers : state.receivers.filter((r) => config.receivers.has(r));
    return names.length > 0 ? [...names] : [...config.route.receivers];
  }

  private async flushOne(key: string, now: number, mute: MuteCheck): Promise<void> {
    for (let round = 1; round <= MAX_FLUSH_ROUNDS; round++) {
      const stored = (await this.store.readGroups([key])).get(key)!;
      const state = stored.state;
      if (!state) {
        await this.store.removeDue(key);
        return;
      }
      const out = flushGroup(state, now, mute);
      const jobs: DeliveryJob[] = [];
      if (out.action === 'notify') {
        const { config } = this.routing.current;
        const group = out.state ?? state;
        const newest = out.alerts.reduce((a, b) => (b.last_seen_ms > a.last_seen_ms ? b : a), out.alerts[0]!);
        for (const receiver of this.receiversFor(state)) {
          const r = config.receivers.get(receiver)!;
          if (out.status === 'resolved' && !r.sendResolved) continue;
          const notification = buildNotification(group, out, receiver, now);
          jobs.push({
            id: notification.notification_id,
            receiver,
            channel: r.kind,
            notification,
            source: newest.source,
            created_ms: now,
            attempts: 0,
            first_attempt_ms: null,
            done: [],
          });
        }
      }
      const created = await this.store.commitFlush(stored.version, key, out.state, jobs, now);
      if (created === null) continue; // an alert arrived meanwhile: decide again on the new state
      this.metrics.flushes.inc({ outcome: out.action === 'notify' ? `notify_${out.status}` : out.reason });
      for (const m of out.muted) this.metrics.muted.inc({ reason: m.reason.reason });
      if (out.action === 'notify') {
        this.logger.info(
          {
            group: key,
            route: state.route_id,
            status: out.status,
            alerts: out.alerts.length,
            muted: out.muted.length,
            notifications: created,
          },
          'group flushed',
        );
      }
      return;
    }
    this.logger.warn({ group: key }, 'group flush kept conflicting; it stays due and is retried');
  }

  /** Updates the gauges (pending deliveries, groups); cheap enough to call each few seconds. */
  async observe(): Promise<void> {
    this.metrics.pendingJobs.set(await this.store.pendingJobs());
    this.metrics.groups.set(await this.store.groupCount());
  }
}
