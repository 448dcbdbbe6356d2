import {
  ALERT_SCHEMA_VERSION,
  AlertSchema,
  decodeVersioned,
  type Alert,
  type DecodeLimits,
  type DlqErrorKind,
  type Issue,
} from '@vigil/contracts';
import { dlqMessage, type ConsumedMessage, type OutMessage, type Producer } from '@vigil/kafka';
import type { Logger } from '@vigil/runtime';
import { SERVICE } from './delivery/deliverer';
import { activeUntil, addAlert, type GroupArrival, type GroupState } from './domain/grouping';
import { isInhibitSource } from './domain/inhibit';
import { alertLabels, type AlertLabels } from './domain/labels';
import { groupKey } from './domain/notification';
import { groupLabels, matchRoutes } from './domain/routes';
import type { RouterMetrics } from './metrics';
import type { RoutingHolder } from './routing/holder';
import type { RouterStore } from './state/store';

export type ReadAlert = { ok: true; alert: Alert } | { ok: false; kind: DlqErrorKind; reason: string; issues: Issue[] };

/** Bytes from the alerts topic in; an Alert or a classified reason to dead-letter it out. */
export function readAlert(bytes: Buffer | null, limits: DecodeLimits): ReadAlert {
  const r = decodeVersioned(bytes, AlertSchema, ALERT_SCHEMA_VERSION, 'this router', limits);
  return r.ok ? { ok: true, alert: r.value } : r;
}

const MAX_CAS_ROUNDS = 10;

/**
 * The batch handler for the alerts topic: every alert is routed (pure tree match) and recorded in
 * its groups in Redis with compare-and-set; unreadable alerts go to the alerts DLQ. It resolves
 * once every alert is durably in Redis (or dead-lettered): the consumer commits then. Notifying is
 * the scheduler's job, driven by the group state written here.
 */
export class AlertIntake {
  constructor(
    private readonly store: RouterStore,
    private readonly routing: RoutingHolder,
    private readonly producer: Producer,
    private readonly alertsDlq: string,
    private readonly limits: DecodeLimits,
    private readonly metrics: RouterMetrics,
    private readonly logger: Logger,
    private readonly clock: () => number = Date.now,
  ) {}

  async handle(messages: readonly ConsumedMessage[]): Promise<void> {
    const now = this.clock();
    const { config } = this.routing.current;
    const dlq: OutMessage[] = [];
    const byGroup = new Map<string, GroupArrival[]>();
    const sources: { dedupKey: string; labels: AlertLabels; untilMs: number }[] = [];
    // Every alert read and not stale has at least one arrival: the root route matches every alert.
    const recorded: Alert[] = [];
    const rejected: DlqErrorKind[] = [];
    let stale = 0;

    for (const m of messages) {
      const r = readAlert(m.value, this.limits);
      if (!r.ok) {
        rejected.push(r.kind);
        this.logger.warn(
          { topic: m.topic, partition: m.partition, offset: m.offset, kind: r.kind, reason: r.reason },
          'alert rejected to DLQ',
        );
        dlq.push(dlqMessage(this.alertsDlq, SERVICE, m, r));
        continue;
      }
      const alert = r.alert;
      const until = activeUntil(alert, config.resolveTimeoutMs);
      if (until <= now) {
        // Older than the resolve timeout: it has already stopped firing; notifying now would mislead.
        stale++;
        this.logger.info(
          { alert_id: alert.alert_id, created_at: alert.created_at, offset: m.offset },
          'stale alert not routed (older than resolve_timeout)',
        );
        continue;
      }
      const labels = alertLabels(alert);
      if (isInhibitSource(config.inhibitRules, labels)) sources.push({ dedupKey: alert.dedup_key, labels, untilMs: until });
      for (const route of matchRoutes(config.route, labels)) {
        const gl = groupLabels(route, labels);
        const key = groupKey(route.id, gl);
        const arrivals = byGroup.get(key) ?? [];
        arrivals.push({
          key,
          routeId: route.id,
          receivers: route.receivers,
          labels: gl,
          timing: { groupWaitMs: route.groupWaitMs, groupIntervalMs: route.groupIntervalMs, repeatIntervalMs: route.repeatIntervalMs },
          alert,
          source: { topic: m.topic, partition: m.partition, offset: m.offset },
          resolveTimeoutMs: config.resolveTimeoutMs,
          maxAlerts: config.maxAlertsPerGroup,
        });
        byGroup.set(key, arrivals);
      }
      recorded.push(alert);
    }

    // Inhibition sources first: a target flushed right after this batch must already see them.
    await this.store.recordInhibitSources(sources);
    const added = await this.recordGroups(byGroup, now);
    if (dlq.length > 0) await this.producer.send(dlq);
    // Counted once the batch is durable, so a batch retried after a failure is counted once.
    for (const kind of rejected) {
      this.metrics.rejected.inc({ kind });
      this.metrics.shared.deadLettered.inc({ topic: this.alertsDlq, kind });
    }
    if (stale > 0) this.metrics.alerts.inc({ outcome: 'stale' }, stale);
    for (const alert of recorded) this.metrics.alerts.inc({ outcome: added.has(alert) ? 'routed' : 'duplicate' });
  }

  /**
   * Applies arrivals group by group with compare-and-set, re-reading the groups another writer moved.
   * Returns the alerts that changed at least one group (the others were all there already).
   */
  private async recordGroups(byGroup: Map<string, GroupArrival[]>, now: number): Promise<Set<Alert>> {
    const added = new Set<Alert>();
    let pending = [...byGroup.keys()];
    for (let round = 1; pending.length > 0; round++) {
      if (round > MAX_CAS_ROUNDS) throw new Error(`group updates kept conflicting for ${pending.length} groups`);
      const stored = await this.store.readGroups(pending);
      const writes: { version: number; state: GroupState }[] = [];
      const stats = new Map<string, { added: Alert[]; evicted: number }>();
      for (const key of pending) {
        const s = stored.get(key)!;
        let state = s.state;
        let changed = false;
        const st = { added: [] as Alert[], evicted: 0 };
        for (const a of byGroup.get(key)!) {
          const r = addAlert(state, a, now);
          state = r.state;
          changed ||= r.changed;
          if (r.changed) st.added.push(a.alert);
          if (r.evicted) st.evicted++;
        }
        stats.set(key, st);
        if (changed && state) writes.push({ version: s.version, state });
      }
      const conflicts = await this.store.casGroups(writes, now);
      for (const [key, st] of stats) {
        if (conflicts.has(key)) continue;
        for (const alert of st.added) added.add(alert);
        if (st.evicted) this.metrics.evicted.inc(st.evicted);
      }
      pending = [...conflicts];
    }
    return added;
  }
}
