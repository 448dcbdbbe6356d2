import type { Counter, Gauge, Histogram, Metrics } from '@vigil/runtime';

/** The router's own metric families (vigil_alert_router_*), next to the shared ones in Metrics. */
export class RouterMetrics {
  readonly alerts: Counter<'outcome'>;
  readonly rejected: Counter<'kind'>;
  readonly flushes: Counter<'outcome'>;
  readonly muted: Counter<'reason'>;
  readonly evicted: Counter<string>;
  /** Unique notifications by how they settled: one per notification and receiver, however many attempts. */
  readonly notifications: Counter<'receiver' | 'channel' | 'outcome'>;
  /** Every send attempt, by outcome: attempts are not notifications. */
  readonly attempts: Counter<'receiver' | 'channel' | 'outcome'>;
  readonly deadLettered: Counter<'receiver' | 'kind'>;
  readonly circuitState: Gauge<'receiver'>;
  readonly deliverySeconds: Histogram<'channel'>;
  readonly reloads: Counter<'outcome'>;
  readonly pendingJobs: Gauge<string>;
  readonly groups: Gauge<string>;
  readonly apiRequests: Counter<'action' | 'code'>;

  constructor(readonly shared: Metrics) {
    const m = shared;
    this.alerts = m.counter(
      'vigil_alert_router_alerts_total',
      'Alerts read and not dead-lettered, by outcome: routed (added to at least one group), duplicate (every group had its alert_id already), stale (older than resolve_timeout, not routed)',
      ['outcome'],
    );
    this.rejected = m.counter(
      'vigil_alert_router_alerts_rejected_total',
      'Alerts dead-lettered because they could not be read, by kind (a DLQ_ERROR_KINDS value)',
      ['kind'],
    );
    this.flushes = m.counter(
      'vigil_alert_router_group_flushes_total',
      'Group flushes, by outcome (notify_firing, notify_resolved, all_muted, unchanged, resolved_unnotified)',
      ['outcome'],
    );
    this.muted = m.counter('vigil_alert_router_alerts_muted_total', 'Alerts left out of a notification, by reason (silenced, inhibited)', [
      'reason',
    ]);
    this.evicted = m.counter('vigil_alert_router_group_alerts_evicted_total', 'Alerts evicted from a full group (max_alerts_per_group)');
    this.notifications = m.counter(
      'vigil_alert_router_notifications_total',
      'Unique notifications settled, by receiver, channel and outcome (delivered, failed): one per notification and receiver, however many attempts',
      ['receiver', 'channel', 'outcome'],
    );
    this.attempts = m.counter(
      'vigil_alert_router_delivery_attempts_total',
      'Send attempts, by outcome: success, retriable (failed; retried unless out of attempts), final (refused by the receiver), circuit_open (not sent: the circuit is open)',
      ['receiver', 'channel', 'outcome'],
    );
    this.deadLettered = m.counter(
      'vigil_alert_router_notifications_dead_lettered_total',
      'Notifications written to the notifications DLQ, by receiver and kind (delivery_exhausted, sink_rejected)',
      ['receiver', 'kind'],
    );
    this.circuitState = m.gauge(
      'vigil_alert_router_circuit_state',
      'Circuit breaker per receiver on this instance: 0 closed, 1 open, 2 half-open',
      ['receiver'],
    );
    this.deliverySeconds = m.histogram(
      'vigil_alert_router_delivery_duration_seconds',
      'Time from a notification being formed to its delivery',
      [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800],
      ['channel'],
    );
    this.reloads = m.counter('vigil_alert_router_config_reloads_total', 'Routes-file reloads, by outcome (applied, rejected)', ['outcome']);
    this.pendingJobs = m.gauge(
      'vigil_alert_router_pending_deliveries',
      'Deliveries (one per notification and receiver) waiting to be sent or retried, in Redis',
    );
    this.groups = m.gauge('vigil_alert_router_groups', 'Aggregation groups in Redis');
    this.apiRequests = m.counter('vigil_alert_router_api_requests_total', 'Silences API requests, by action and HTTP status code', [
      'action',
      'code',
    ]);
  }
}
