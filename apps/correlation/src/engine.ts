import {
  AlertSchema,
  decodeSecurityEvent,
  describeIssues,
  toIssues,
  type Alert,
  type DecodeFailure,
  type DecodeLimits,
  type SecurityEvent,
  type TopicNames,
} from '@vigil/contracts';
import { dlqMessage, type ConsumedMessage, type OutMessage } from '@vigil/kafka';
import { TimeSlicer, type Logger } from '@vigil/runtime';
import { buildAlert } from './domain/alert';
import type { RuleSet } from './domain/compile';
import { groupCalls, planEvent, type BatchCall, type PlannedUpdate, type TimeSettings } from './domain/plan';
import { MemoryWindowStore, type EventStatus, type KeyCall, type KeyResult } from './domain/window';
import type { CorrelationMetrics } from './metrics';

export const SERVICE = 'correlation';

/**
 * Longest process() decodes and plans before it lets the event loop run: Redis answers for the
 * batches in flight before it (CORRELATION_PIPELINE_DEPTH) and the next fetch then wait no longer
 * than that behind a large batch (docs/performance.md).
 */
export const PLAN_SLICE_MS = 10;

/** Largest event JSON kept as an alert sample; bigger ones are kept with their details replaced. */
export const MAX_SAMPLE_BYTES = 16 * 1024;

/** A firing whose alert was published: the store stops re-delivering it. */
export interface PublishedRef {
  key: string;
  eventId: string;
}

/** Where window state lives: Redis in production, memory for the evaluator-alone benchmark. */
export interface WindowStore {
  apply(calls: readonly KeyCall[], nowMs: number): Promise<KeyResult[]>;
  markPublished(refs: readonly PublishedRef[], nowMs: number): Promise<void>;
  /** Round trips to the store so far (0 for memory). */
  readonly roundTrips: number;
}

/** The pure evaluator behind the WindowStore interface (no Redis). */
export class MemoryStore implements WindowStore {
  readonly roundTrips = 0;
  constructor(readonly memory: MemoryWindowStore = new MemoryWindowStore()) {}
  async apply(calls: readonly KeyCall[], nowMs: number): Promise<KeyResult[]> {
    return this.memory.apply(calls, nowMs);
  }
  async markPublished(refs: readonly PublishedRef[], nowMs: number): Promise<void> {
    this.memory.markPublished(refs, nowMs);
  }
}

export interface EngineSettings {
  readonly topics: TopicNames;
  readonly time: TimeSettings;
  readonly decode: DecodeLimits;
  /** How long process() plans before pausing for the event loop; default PLAN_SLICE_MS. */
  readonly planSliceMs?: number;
}

export interface BatchOutput {
  /** Alerts and DLQ records, to send in one acks=all request. */
  readonly messages: OutMessage[];
  /** Firings to mark published once `messages` are acknowledged. */
  readonly published: PublishedRef[];
  readonly alerts: Alert[];
  /** What `messages` carries, counted by `countSent` once the broker has acknowledged them. */
  readonly deadLetterKinds: readonly string[];
  readonly alertDeliveries: ReadonlyArray<{ rule: string; delivery: 'new' | 'republished' }>;
}

/** A batch parsed and planned, before its window updates reach the store. */
interface Planned {
  /** DLQ records so far; alerts are added once the store has answered. */
  readonly out: OutMessage[];
  /** The consumed message behind each event that updates a window (for DLQ evidence). */
  readonly source: Map<string, ConsumedMessage>;
  readonly deadLetterKinds: string[];
  readonly calls: BatchCall[];
}

type Parsed = { ok: true; event: SecurityEvent } | DecodeFailure;

/** Validated-topic bytes in; a SecurityEvent v1 or the reason it cannot be one. */
export function parseEvent(value: Buffer | null, limits: DecodeLimits): Parsed {
  const r = decodeSecurityEvent(value, 'correlation', limits);
  return r.ok ? { ok: true, event: r.value } : r;
}

function sampleOf(event: SecurityEvent, value: Buffer): Buffer {
  if (value.length <= MAX_SAMPLE_BYTES) return value;
  return Buffer.from(JSON.stringify({ ...event, details: { vigil_truncated: true } }), 'utf8');
}

/**
 * One consumed batch through correlation, minus the Kafka I/O: parse at the edge (DLQ what fails),
 * plan the window updates (pure), apply them to the store in one round trip, turn firings into
 * alerts. The caller sends `messages`, then marks `published`, then commits.
 */
export class CorrelationEngine {
  /** Settles once the batch before has handed its updates to the store (see process()). */
  private storeTurn: Promise<void> = Promise.resolve();

  constructor(
    private readonly rules: () => RuleSet,
    private readonly store: WindowStore,
    private readonly settings: EngineSettings,
    private readonly metrics: CorrelationMetrics,
    private readonly logger: Logger,
  ) {}

  async process(messages: readonly ConsumedMessage[], nowMs: number): Promise<BatchOutput> {
    const { topics } = this.settings;
    const ruleSet = this.rules(); // one snapshot per batch: a reload never splits a batch
    // Batches in flight together (the consumer's pipeline) plan side by side, since planning
    // pauses for the event loop, but reach the store in the order process() was called, as before.
    const turn = this.storeTurn;
    let handOver!: () => void;
    this.storeTurn = new Promise<void>((resolve) => (handOver = resolve));
    let planned: Planned;
    let results: KeyResult[];
    try {
      planned = await this.plan(messages, nowMs, ruleSet);
      await turn;
      const applied = this.store.apply(
        planned.calls.map((c) => c.call),
        nowMs,
      );
      handOver();
      results = await applied;
    } finally {
      handOver();
    }
    const { out, source, deadLetterKinds, calls } = planned;
    const alertDeliveries: Array<{ rule: string; delivery: 'new' | 'republished' }> = [];

    const alerts: Alert[] = [];
    const published: PublishedRef[] = [];
    const seen = new Set<string>();
    // Counted per batch, then added to the metric once per (rule, status): a labelled inc per
    // window update cost a few percent of the service's CPU.
    const counts = new Map<string, Map<EventStatus, number>>();
    results.forEach((res, i) => {
      const batchCall = calls[i]!;
      const ruleId = batchCall.updates[0]!.rule.id;
      let byStatus = counts.get(ruleId);
      if (!byStatus) counts.set(ruleId, (byStatus = new Map()));
      res.statuses.forEach((status, j) => {
        byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
        const fire = res.fires[j];
        if (!fire) return;
        const u = batchCall.updates[j]!;
        published.push({ key: u.key, eventId: fire.e });
        const alert = buildAlert(u.rule, u.group, u.dedupKey, fire);
        if (seen.has(alert.alert_id)) return; // the trigger and its duplicate in one batch
        seen.add(alert.alert_id);
        // buildAlert's samples are SecurityEventSchema output already (at most five): checking
        // them again would double the cost of an alert.
        const checked = AlertSchema.safeParse({ ...alert, sample_events: [] });
        if (!checked.success) {
          // A bug, not bad input: keep the evidence on the DLQ with the triggering event.
          const issues = toIssues(checked.error);
          const m = source.get(u.event.eventId);
          this.logger.error({ rule: u.rule.id, issues }, 'built alert fails the Alert schema; dead-lettering its trigger');
          if (m) {
            deadLetterKinds.push('schema_violation');
            out.push(
              dlqMessage(topics.alertsDlq, SERVICE, m, {
                kind: 'schema_violation',
                reason: `alert for rule ${u.rule.id}: ${describeIssues(issues)}`,
                issues,
              }),
            );
          }
          return;
        }
        alertDeliveries.push({ rule: u.rule.id, delivery: status === 'refire' ? 'republished' : 'new' });
        this.logger.info(
          {
            alert_id: alert.alert_id,
            rule: u.rule.id,
            dedup_key: alert.dedup_key,
            event_count: alert.event_count,
            republished: status === 'refire',
          },
          'alert',
        );
        alerts.push(alert);
        out.push({ topic: topics.alerts, key: alert.dedup_key, value: JSON.stringify(alert), headers: { 'vigil-rule': u.rule.id } });
      });
    });
    // Window updates happened in Redis whatever becomes of the batch: counted now.
    for (const [rule, byStatus] of counts) for (const [outcome, n] of byStatus) this.metrics.windowUpdates.inc({ rule, outcome }, n);
    return { messages: out, published, alerts, deadLetterKinds, alertDeliveries };
  }

  /** Parses the batch at the edge (DLQ records for what fails) and plans its window updates. */
  private async plan(messages: readonly ConsumedMessage[], nowMs: number, ruleSet: RuleSet): Promise<Planned> {
    const { topics, time } = this.settings;
    const out: OutMessage[] = [];
    const updates: PlannedUpdate[] = [];
    const source = new Map<string, ConsumedMessage>();
    const deadLetterKinds: string[] = [];
    const slicer = new TimeSlicer(this.settings.planSliceMs ?? PLAN_SLICE_MS);
    for (const m of messages) {
      if (slicer.due()) await slicer.pause();
      const p = parseEvent(m.value, this.settings.decode);
      if (!p.ok) {
        deadLetterKinds.push(p.kind);
        this.logger.warn(
          { topic: m.topic, partition: m.partition, offset: m.offset, kind: p.kind, reason: p.reason },
          'event dead-lettered',
        );
        out.push(dlqMessage(topics.alertsDlq, SERVICE, m, p));
        continue;
      }
      const plan = planEvent(ruleSet, p.event, sampleOf(p.event, m.value!), m.partition, nowMs, time);
      if (plan.future) {
        this.metrics.futureEvents.inc();
        this.logger.debug(
          { event_id: p.event.event_id, timestamp: p.event.timestamp },
          'event stamped beyond the future cap; not evaluated',
        );
        continue;
      }
      for (const r of plan.ungrouped) this.metrics.ungrouped.inc({ rule: r });
      if (plan.updates.length > 0 && !source.has(p.event.event_id)) source.set(p.event.event_id, m);
      updates.push(...plan.updates);
    }
    return { out, source, deadLetterKinds, calls: groupCalls(updates, time) };
  }

  /** Counts the batch's alerts and dead letters, once `messages` are on the broker (a failed send is retried, not counted twice). */
  countSent(out: BatchOutput): void {
    const dlq = this.settings.topics.alertsDlq;
    for (const kind of out.deadLetterKinds) this.metrics.shared.deadLettered.inc({ topic: dlq, kind });
    for (const a of out.alertDeliveries) this.metrics.alerts.inc(a);
  }
}
