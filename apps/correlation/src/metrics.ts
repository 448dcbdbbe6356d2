import type { Counter, Gauge, Histogram, Metrics } from '@vigil/runtime';

/** Correlation's own metric families (docs/correlation.md lists them). */
export class CorrelationMetrics {
  readonly windowUpdates: Counter<'rule' | 'outcome'>;
  readonly futureEvents: Counter<string>;
  readonly ungrouped: Counter<'rule'>;
  readonly alerts: Counter<'rule' | 'delivery'>;
  readonly redisRoundTrips: Counter<string>;
  readonly redisRoundTripsPerBatch: Histogram<string>;
  readonly rulesLoaded: Gauge<string>;
  readonly ruleReloads: Counter<'outcome'>;

  constructor(readonly shared: Metrics) {
    this.windowUpdates = shared.counter(
      'vigil_correlation_window_updates_total',
      'Rule window updates, by rule and outcome: accepted, duplicate (event id already counted), late (behind the allowed lateness, not counted), refire (a counted trigger seen again: its alert republished)',
      ['rule', 'outcome'],
    );
    this.futureEvents = shared.counter(
      'vigil_correlation_future_events_total',
      'Events stamped further ahead of processing time than CORRELATION_MAX_FUTURE_SECONDS, not evaluated',
    );
    this.ungrouped = shared.counter(
      'vigil_correlation_ungrouped_events_total',
      'Events that matched a rule but lack one of its group_by fields, not evaluated by that rule',
      ['rule'],
    );
    this.alerts = shared.counter('vigil_correlation_alerts_total', 'Alerts published, new or republished after a redelivered trigger', [
      'rule',
      'delivery',
    ]);
    this.redisRoundTrips = shared.counter(
      'vigil_correlation_redis_round_trips_total',
      'Redis round trips (pipelines) for window updates and published marks',
    );
    this.redisRoundTripsPerBatch = shared.histogram(
      'vigil_correlation_redis_round_trips_per_batch',
      'Redis round trips per consumed batch',
      [0, 1, 2, 3, 4, 6, 10],
    );
    this.rulesLoaded = shared.gauge('vigil_correlation_rules_loaded', 'Enabled rules being evaluated');
    this.ruleReloads = shared.counter(
      'vigil_correlation_rule_reloads_total',
      'Rule reloads, by outcome: applied, rejected (a rule file failed validation: the rules in force are kept)',
      ['outcome'],
    );
  }
}
