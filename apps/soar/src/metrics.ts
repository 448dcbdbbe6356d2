import type { Counter, Histogram, Metrics } from '@vigil/runtime';

/** soar's own metric families (docs/soar.md lists them). */
export class SoarMetrics {
  readonly alerts: Counter<'result'>;
  readonly runs: Counter<'status'>;
  readonly actions: Counter<'action' | 'connector' | 'outcome'>;
  readonly actionSeconds: Histogram<'connector'>;
  readonly undos: Counter<'outcome'>;
  readonly approvals: Counter<'decision'>;
  readonly authFailures: Counter<'reason'>;
  readonly runnerErrors: Counter<string>;

  constructor(m: Metrics) {
    this.alerts = m.counter('vigil_soar_alerts_total', 'Alerts read, by result (matched, unmatched, own_notification, dead_lettered)', [
      'result',
    ]);
    this.runs = m.counter('vigil_soar_runs_total', 'Runs started and finished, by status', ['status']);
    this.actions = m.counter('vigil_soar_actions_total', 'Step executions, by action, connector and outcome', [
      'action',
      'connector',
      'outcome',
    ]);
    this.actionSeconds = m.histogram(
      'vigil_soar_action_duration_seconds',
      'Connector call time',
      [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      ['connector'],
    );
    this.undos = m.counter('vigil_soar_undos_total', 'Automatic undos, by outcome', ['outcome']);
    this.approvals = m.counter('vigil_soar_approvals_total', 'Approval decisions, by decision (approved, rejected, expired)', ['decision']);
    this.authFailures = m.counter('vigil_soar_api_auth_failures_total', 'API requests refused, by reason (missing, invalid, forbidden)', [
      'reason',
    ]);
    this.runnerErrors = m.counter(
      'vigil_soar_runner_errors_total',
      'Work items that threw (Redis or Kafka unavailable) and were rescheduled',
    );
  }
}
