import type { NotificationRecord } from '@vigil/contracts';
import { dlqMessage, type ConsumedMessage, type OutMessage, type Producer } from '@vigil/kafka';
import { CIRCUIT_STATE_VALUE, CircuitBreaker, backoffDelay, type BackoffPolicy, type Logger } from '@vigil/runtime';
import type { SendResult } from '../channels/types';
import type { RouterMetrics } from '../metrics';
import type { RoutingHolder } from '../routing/holder';
import type { DeliveryJob, RouterStore } from '../state/store';

export const SERVICE = 'alert-router';

export interface DeliveryPolicy {
  maxAttempts: number;
  maxAgeMs: number;
  backoff: BackoffPolicy;
  circuitFailures: number;
  circuitOpenMs: number;
}

export interface DeliveryTopics {
  notifications: string;
  notificationsDlq: string;
}

/**
 * Delivers one notification to one receiver per call, as a pipeline of small stages: notification
 * log check (already settled? then only finish) → circuit breaker → send → classify → settle, or
 * reschedule with backoff (honouring Retry-After) until the attempt or age cap, then the DLQ.
 * Each receiver has its own job, so one receiver's failure never re-sends to another.
 */
export class Deliverer {
  private readonly breakers = new Map<string, CircuitBreaker>();

  constructor(
    private readonly store: RouterStore,
    private readonly routing: RoutingHolder,
    private readonly producer: Producer,
    private readonly topics: DeliveryTopics,
    private readonly policy: DeliveryPolicy,
    private readonly metrics: RouterMetrics,
    private readonly logger: Logger,
    private readonly clock: () => number = Date.now,
  ) {}

  private breaker(receiver: string): CircuitBreaker {
    let b = this.breakers.get(receiver);
    if (!b) {
      b = new CircuitBreaker(this.policy.circuitFailures, this.policy.circuitOpenMs);
      this.breakers.set(receiver, b);
      this.showCircuit(receiver, b);
    }
    return b;
  }

  /** The breaker's state in `vigil_alert_router_circuit_state` (0 closed, 1 open, 2 half-open), after every change. */
  private showCircuit(receiver: string, breaker: CircuitBreaker): void {
    this.metrics.circuitState.set({ receiver }, CIRCUIT_STATE_VALUE[breaker.state]);
  }

  /** Breaker state per receiver on this instance (for tests and the readiness detail). */
  circuitState(receiver: string): string {
    return this.breakers.get(receiver)?.state ?? 'closed';
  }

  /** Runs one claimed job. Throws only when Redis or Kafka fail; the job's lease then lets it be retried. */
  async deliver(id: string): Promise<void> {
    const { job, logged } = await this.store.readJob(id);
    if (!job) {
      await this.store.finishJob(id);
      return;
    }
    if (job.settled) return this.publish(job);
    if (logged) {
      // Settled by another instance whose record is already out: nothing to send, nothing to record.
      await this.store.finishJob(id);
      return;
    }
    const channel = this.routing.current.channels.get(job.receiver);
    if (!channel) {
      job.last_error = `receiver "${job.receiver}" is no longer in the routes file`;
      return this.settle(job, 'failed', 'sink_rejected');
    }
    const now = this.clock();
    const breaker = this.breaker(job.receiver);
    const allowed = breaker.allow(now); // may move an open breaker to half-open (this call is its trial)
    this.showCircuit(job.receiver, breaker);
    if (!allowed) {
      this.metrics.attempts.inc({ receiver: job.receiver, channel: channel.kind, outcome: 'circuit_open' });
      await this.store.rescheduleJob(job, now + Math.max(100, breaker.waitMs(now)));
      return;
    }
    job.attempts++;
    job.first_attempt_ms ??= now;
    let result: SendResult;
    try {
      result = await channel.send(job.notification, { nowMs: now, done: new Set(job.done) });
    } catch (err) {
      result = {
        ok: false,
        retriable: true,
        error: `channel error: ${err instanceof Error ? err.message : String(err)}`.slice(0, 500),
        done: [],
      };
    }
    job.done = [...new Set([...job.done, ...result.done])];
    if (result.status !== undefined) job.last_status = result.status;
    const labels = { receiver: job.receiver, channel: channel.kind };
    if (result.ok) {
      breaker.success();
      this.showCircuit(job.receiver, breaker);
      this.metrics.attempts.inc({ ...labels, outcome: 'success' });
      delete job.last_error;
      return this.settle(job, 'delivered', undefined, result.remoteId);
    }
    job.last_error = result.error;
    const after = this.clock();
    if (result.retriable) {
      breaker.failure(after);
    } else {
      breaker.success(); // the destination answered: it is up, the request was wrong
    }
    this.showCircuit(job.receiver, breaker);
    this.metrics.attempts.inc({ ...labels, outcome: result.retriable ? 'retriable' : 'final' });
    // A 429 (or any answer with Retry-After) says "later", not "failed": a burst bigger than the
    // channel's rate limit must not use up the attempts of the notifications that wait their turn.
    // Throttling is bounded by the age cap instead.
    if (result.retriable && (result.status === 429 || result.retryAfterMs !== undefined)) job.throttled = (job.throttled ?? 0) + 1;
    const exhausted = job.attempts - (job.throttled ?? 0) >= this.policy.maxAttempts || after - job.created_ms >= this.policy.maxAgeMs;
    if (!result.retriable || exhausted) {
      this.logger.warn(
        { receiver: job.receiver, notification: job.id, attempts: job.attempts, status: result.status, error: result.error },
        result.retriable ? 'notification given up after retries' : 'notification refused by the receiver',
      );
      return this.settle(job, 'failed', result.retriable ? 'delivery_exhausted' : 'sink_rejected');
    }
    const delay = Math.max(backoffDelay(job.attempts, this.policy.backoff), result.retryAfterMs ?? 0, breaker.waitMs(after));
    this.logger.info(
      { receiver: job.receiver, notification: job.id, attempt: job.attempts, retryInMs: delay, status: result.status, error: result.error },
      'delivery failed; will retry',
    );
    await this.store.rescheduleJob(job, after + delay);
  }

  private async settle(
    job: DeliveryJob,
    outcome: 'delivered' | 'failed',
    dlqKind?: 'delivery_exhausted' | 'sink_rejected',
    remoteId?: string,
  ): Promise<void> {
    job.settled = { outcome, at_ms: this.clock(), ...(remoteId ? { remote_id: remoteId } : {}), ...(dlqKind ? { dlq_kind: dlqKind } : {}) };
    // Recorded in Redis first: from here on no instance sends this notification again.
    await this.store.settleJob(job);
    await this.publish(job);
  }

  /** Produces the delivery record (and the DLQ record of a failure), then removes the job. */
  private async publish(job: DeliveryJob): Promise<void> {
    const s = job.settled!;
    const kind = job.channel;
    const n = job.notification;
    const record: NotificationRecord = {
      schema_version: 1,
      notification_id: n.notification_id,
      group_key: n.group_key,
      seq: n.seq,
      receiver: job.receiver,
      channel: kind,
      route: n.route,
      status: n.status,
      outcome: s.outcome,
      attempts: job.attempts,
      severity: n.severity,
      rule_ids: [...new Set(n.alerts.map((a) => a.rule_id))].slice(0, 50),
      alert_ids: n.alerts.map((a) => a.alert_id).slice(0, 50),
      alert_count: n.alert_count,
      group_labels: n.group_labels,
      ...(job.last_status !== undefined ? { last_status: job.last_status } : {}),
      ...(job.last_error && s.outcome === 'failed' ? { error: job.last_error.slice(0, 2048) } : {}),
      ...(s.remote_id ? { remote_id: s.remote_id } : {}),
      created_at: n.created_at,
      settled_at: new Date(s.at_ms).toISOString(),
    };
    const out: OutMessage[] = [
      { topic: this.topics.notifications, key: n.group_key, value: JSON.stringify(record), headers: { 'vigil-outcome': s.outcome } },
    ];
    if (s.outcome === 'failed') {
      const pseudo: ConsumedMessage = {
        topic: job.source.topic,
        partition: job.source.partition,
        offset: job.source.offset,
        key: Buffer.from(n.group_key),
        value: Buffer.from(JSON.stringify(n)),
        timestamp: String(job.created_ms),
        headers: {},
      };
      const dlqKind = s.dlq_kind ?? 'delivery_exhausted';
      out.push(
        dlqMessage(
          this.topics.notificationsDlq,
          SERVICE,
          pseudo,
          { kind: dlqKind, reason: job.last_error ?? 'delivery failed', destination: job.receiver, attempts: job.attempts },
          new Date(s.at_ms),
        ),
      );
    }
    await this.producer.send(out);
    await this.store.finishJob(job.id);
    this.metrics.notifications.inc({ receiver: job.receiver, channel: kind, outcome: s.outcome });
    if (s.outcome === 'failed') {
      const dlqKind = s.dlq_kind ?? 'delivery_exhausted';
      this.metrics.deadLettered.inc({ receiver: job.receiver, kind: dlqKind });
      this.metrics.shared.deadLettered.inc({ topic: this.topics.notificationsDlq, kind: dlqKind });
    } else {
      this.metrics.deliverySeconds.observe({ channel: kind }, Math.max(0, s.at_ms - Date.parse(n.created_at)) / 1000);
    }
  }
}
