import { ALERT_SCHEMA_VERSION, AlertSchema, SOAR_NOTIFY_TAG, decodeVersioned, uuidV5, type Alert, type TopicNames } from '@vigil/contracts';
import { dlqMessage, type ConsumedMessage, type OutMessage, type Producer } from '@vigil/kafka';
import type { Logger, Metrics } from '@vigil/runtime';
import { runRecord } from './audit';
import type { SoarConfig } from './config';
import { matchPlaybooks, type Playbook } from './domain/playbook';
import { planRun } from './domain/run';
import type { SoarMetrics } from './metrics';
import type { Runner } from './runner';
import type { SoarStore } from './store/store';

export const SERVICE = 'soar';

/** The run id for (alert, playbook): a redelivered alert maps to the run it already started. */
export function runIdFor(alertId: string, playbookId: string): string {
  return uuidV5(`soar-run|${alertId}|${playbookId}`);
}

type Decoded = { ok: true; alert: Alert } | { ok: false; out: OutMessage; kind: string };

/**
 * The Kafka edge of soar: alerts in; for each matching playbook a run created in Redis (once per
 * alert and playbook) and queued for the runner; undecodable alerts to the alerts DLQ. The batch
 * resolves when every run is stored and every DLQ record acknowledged, so the commit never runs
 * ahead of durable state. The runner does the actions, outside the consumer's batch.
 */
export class AlertIntake {
  constructor(
    private readonly config: SoarConfig,
    private readonly topics: TopicNames,
    private readonly playbooks: readonly Playbook[],
    private readonly store: SoarStore,
    private readonly producer: Producer,
    private readonly runner: Runner,
    private readonly metrics: Metrics,
    private readonly soarMetrics: SoarMetrics,
    private readonly logger: Logger,
    private readonly clock: () => number = Date.now,
  ) {}

  decode(m: ConsumedMessage): Decoded {
    const r = decodeVersioned(m.value, AlertSchema, ALERT_SCHEMA_VERSION, 'soar');
    if (!r.ok) return { ok: false, kind: r.kind, out: dlqMessage(this.topics.alertsDlq, SERVICE, m, r) };
    return { ok: true, alert: r.value };
  }

  async handle(messages: readonly ConsumedMessage[]): Promise<void> {
    const dlq: OutMessage[] = [];
    const rejected: string[] = [];
    const read: Array<'matched' | 'unmatched' | 'own_notification'> = [];
    let created = 0;
    for (const m of messages) {
      const d = this.decode(m);
      if (!d.ok) {
        dlq.push(d.out);
        rejected.push(d.kind);
        this.logger.warn({ topic: m.topic, partition: m.partition, offset: m.offset, kind: d.kind }, 'alert dead-lettered');
        continue;
      }
      const alert = d.alert;
      if (alert.tags.includes(SOAR_NOTIFY_TAG)) {
        read.push('own_notification');
        continue;
      }
      const matched = matchPlaybooks(this.playbooks, alert);
      read.push(matched.length > 0 ? 'matched' : 'unmatched');
      const now = this.clock();
      await this.store.pushRecent('alerts', {
        alert_id: alert.alert_id,
        rule_id: alert.rule.id,
        rule_name: alert.rule.name,
        severity: alert.severity,
        group: alert.group,
        action: alert.action ?? null,
        created_at: alert.created_at,
        received_at: new Date(now).toISOString(),
        playbooks: matched.map((p) => p.id),
      });
      for (const pb of matched) {
        const run = planRun({
          runId: runIdFor(alert.alert_id, pb.id),
          playbook: pb,
          alert,
          now,
          dryRun: this.config.env.SOAR_DRY_RUN,
          defaultApprovalTtlMs: this.config.env.SOAR_APPROVAL_TTL_SECONDS * 1000,
          defaultConnectors: this.config.defaultConnectors,
          policy: this.config.policy,
        });
        if (
          await this.store.createRun(run, [
            runRecord(run, 'run_started', now, { extra: { reason: `alert ${alert.rule.id} matched playbook ${pb.id}` } }),
          ])
        ) {
          created++;
          this.soarMetrics.runsStarted.inc();
          this.logger.info({ runId: run.run_id, alertId: alert.alert_id, playbook: pb.id, dryRun: run.dry_run }, 'run started');
        }
      }
    }
    await this.producer.send(dlq);
    // Counted once the batch is durable (runs stored, DLQ written), so a retried batch counts once.
    for (const outcome of read) this.soarMetrics.alerts.inc({ outcome });
    for (const kind of rejected) {
      this.soarMetrics.rejected.inc({ kind });
      this.metrics.deadLettered.inc({ topic: this.topics.alertsDlq, kind });
    }
    if (created > 0) this.runner.kick();
  }
}
