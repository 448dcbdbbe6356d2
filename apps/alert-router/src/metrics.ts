import type { Counter, Gauge, Histogram, Metrics } from '@vigil/runtime';

/** The router's own metric families (vigil_alert_router_*), next to the shared ones in Metrics. */
export class RouterMetrics {
  readonly alerts: Counter<'result'>;
  readonly rejected: Counter<'kind'>;
  readonly flushes: Counter<'outcome'>;
  readonly muted: Counter<'reason'>;
  readonly evicted: Counter<string>;
  /** Unique notifications by how they settled: one per notification and receiver, however many attempts. */
  readonly notifications: Counter<'receiver' | 'channel' | 'outcome'>;
  /** Every send attempt, by result: attempts are not notifications. */
  readonly attempts: Counter<'receiver' | 'channel' | 'result'>;
  readonly deadLettered: Counter<'receiver' | 'kind'>;
  readonly circuitOpen: Gauge<'receiver'>;
  readonly deliverySeconds: Histogram<'channel'>;
  readonly reloads: Counter<'result'>;
  readonly pendingJobs: Gauge<string>;
  readonly groups: Gauge<string>;
  readonly apiRequests: Counter<'action' | 'status'>;

  constructor(readonly shared: Metrics) {
    const m = shared;
    this.alerts = m.counter('vigil_alert_router_alerts_total', 'Alerts read, by result (recorded, duplicate, stale)', ['result']);
    this.rejected = m.counter(
      'vigil_alert_router_alerts_rejected_total',
      'Alerts dead-lettered because they could not be read, by reason',
      ['kind'],
    );
    this.flushes = m.counter('vigil_alert_router_group_flushes_total', 'Group flushes, by outcome', ['outcome']);
    this.muted = m.counter('vigil_alert_router_alerts_muted_total', 'Alerts left out of a notification, by reason (silenced, inhibited)', [
      'reason',
    ]);
    this.evicted = m.counter('vigil_alert_router_group_alerts_evicted_total', 'Alerts evicted from a full group (max_alerts_per_group)');
    this.notifications = m.counter(
      'vigil_alert_router_notifications_total',
      'Unique notifications settled, by receiver and outcome (delivered, failed)',
      ['receiver', 'channel', 'outcome'],
    );
    this.attempts = m.counter(
      'vigil_alert_router_delivery_attempts_total',
      'Send attempts, by result (success, retriable, final, circuit_open)',
      ['receiver', 'channel', 'result'],
    );
    this.deadLettered = m.counter(
      'vigil_alert_router_notifications_dead_lettered_total',
      'Notifications given up on and sent to the notifications DLQ',
      ['receiver', 'kind'],
    );
    this.circuitOpen = m.gauge('vigil_alert_router_circuit_open', '1 while the receiver circuit breaker is open (this instance)', [
      'receiver',
    ]);
    this.deliverySeconds = m.histogram(
      'vigil_alert_router_delivery_seconds',
      'From notification formed to delivered',
      [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800],
      ['channel'],
    );
    this.reloads = m.counter('vigil_alert_router_config_reloads_total', 'Routes-file reloads, by result (applied, rejected)', ['result']);
    this.pendingJobs = m.gauge('vigil_alert_router_pending_deliveries', 'Notifications waiting for delivery or retry');
    this.groups = m.gauge('vigil_alert_router_groups', 'Aggregation groups in Redis');
    this.apiRequests = m.counter('vigil_alert_router_api_requests_total', 'Silences API requests, by action and status', [
      'action',
      'status',
    ]);
  }
}
