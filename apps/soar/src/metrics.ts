import type { Counter, Histogram, Metrics } from '@vigil/runtime';

/** soar's own metric families (docs/soar.md, docs/observability.md). */
export class SoarMetrics {
  readonly alerts: Counter<'outcome'>;
  readonly rejected: Counter<'kind'>;
  readonly runsStarted: Counter<string>;
  readonly runsFinished: Counter<'outcome'>;
  readonly actions: Counter<'action' | 'connector' | 'outcome'>;
  readonly actionSeconds: Histogram<'connector'>;
  readonly undos: Counter<'outcome'>;
  readonly approvals: Counter<'outcome'>;
  readonly authFailures: Counter<'reason'>;
  readonly runnerErrors: Counter<string>;

  constructor(m: Metrics) {
    this.alerts = m.counter(
      'vigil_soar_alerts_total',
      "Alerts read and not dead-lettered, by outcome: matched (a playbook matched), unmatched, own_notification (soar's own notify alert, ignored)",
      ['outcome'],
    );
    this.rejected = m.counter(
      'vigil_soar_alerts_rejected_total',
      'Alerts dead-lettered because they could not be read, by kind (a DLQ_ERROR_KINDS value)',
      ['kind'],
    );
    this.runsStarted = m.counter('vigil_soar_runs_started_total', 'Playbook runs started (one per alert and matching playbook)');
    this.runsFinished = m.counter(
      'vigil_soar_runs_finished_total',
      'Playbook runs finished, by outcome (succeeded, failed, rejected, expired)',
      ['outcome'],
    );
    this.actions = m.counter(
      'vigil_soar_actions_total',
      'Step executions, by action, connector and outcome (succeeded, failed, retry_scheduled, refused, skipped, dry_run)',
      ['action', 'connector', 'outcome'],
    );
    this.actionSeconds = m.histogram(
      'vigil_soar_action_duration_seconds',
      'Connector call time',
      [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      ['connector'],
    );
    this.undos = m.counter('vigil_soar_undos_total', 'Automatic undos, by outcome (succeeded, failed, retry, dry_run)', ['outcome']);
    this.approvals = m.counter('vigil_soar_approvals_total', 'Approval decisions, by outcome (approved, rejected, expired)', ['outcome']);
    this.authFailures = m.counter('vigil_soar_api_auth_failures_total', 'API requests refused, by reason (missing, invalid, forbidden)', [
      'reason',
    ]);
    this.runnerErrors = m.counter(
      'vigil_soar_runner_errors_total',
      'Work items that threw (Redis or Kafka unavailable) and were rescheduled',
    );
  }
}
