import { RESPONSE_SCHEMA_VERSION, uuidV5, type ResponderRole, type ResponseEvent, type ResponseRecord } from '@vigil/contracts';
import type { Producer } from '@vigil/kafka';
import type { Run, StepState, UndoTask } from './domain/run';

export const SYSTEM_ACTOR = { type: 'system' as const, name: 'vigil-soar' };

export type Actor = ResponseRecord['actor'];

export function userActor(name: string, role: ResponderRole): Actor {
  return { type: 'user', name, role };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * An audit record about a run (and a step). The id is derived from run, event, step and attempt:
 * a record republished after a crash has the same id, so readers can drop the duplicate.
 */
export function runRecord(
  run: Run,
  event: ResponseEvent,
  at: number,
  opts: { step?: StepState; actor?: Actor; extra?: Partial<ResponseRecord> } = {},
): ResponseRecord {
  const s = opts.step;
  const attempt = s?.attempts ?? 0;
  const rec: ResponseRecord = {
    schema_version: RESPONSE_SCHEMA_VERSION,
    record_id: uuidV5(`soar-record|${run.run_id}|${event}|${s ? s.index : '-'}|${attempt}`),
    event,
    run_id: run.run_id,
    alert_id: run.alert_id,
    playbook_id: run.playbook_id,
    dry_run: run.dry_run,
    actor: opts.actor ?? SYSTEM_ACTOR,
    at: iso(at),
    ...(s
      ? {
          step_index: s.index,
          action: s.action,
          connector: s.connector,
          ...(s.target ? { target: s.target } : {}),
          status: s.status,
          attempt,
        }
      : { status: run.status }),
    ...opts.extra,
  };
  return rec;
}

export function undoRecord(task: UndoTask, event: ResponseEvent, at: number, extra: Partial<ResponseRecord> = {}): ResponseRecord {
  return {
    schema_version: RESPONSE_SCHEMA_VERSION,
    record_id: uuidV5(`soar-undo|${task.key}|${task.due_at}|${event}|${task.attempts}`),
    event,
    run_id: task.run_id,
    alert_id: task.alert_id,
    playbook_id: task.playbook_id,
    step_index: task.step_index,
    action: task.action,
    connector: task.connector,
    target: task.target,
    dry_run: task.dry_run,
    actor: SYSTEM_ACTOR,
    attempt: task.attempts,
    at: iso(at),
    ...extra,
  };
}

export { iso };

/**
 * Publishes audit records to the responses topic (acks=all), keyed by run so a run's records stay in
 * order. Calls made while a send is in flight are coalesced into the next send: the producer keeps
 * one request in flight, so batching is where concurrent runs get their throughput.
 */
export class AuditPublisher {
  private queue: Array<{ records: readonly ResponseRecord[]; done: (err?: unknown) => void }> = [];
  private sending = false;

  constructor(
    private readonly producer: Producer,
    private readonly topic: string,
    private readonly maxBatch = 1000,
  ) {}

  /** Resolves once these records are acknowledged by the broker; rejects if their send failed. */
  publish(records: readonly ResponseRecord[]): Promise<void> {
    if (records.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ records, done: (err) => (err === undefined ? resolve() : reject(err)) });
      if (!this.sending) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.sending = true;
    while (this.queue.length > 0) {
      const batch: typeof this.queue = [];
      let n = 0;
      while (this.queue.length > 0 && (batch.length === 0 || n + this.queue[0]!.records.length <= this.maxBatch)) {
        const next = this.queue.shift()!;
        n += next.records.length;
        batch.push(next);
      }
      const messages = batch.flatMap((b) =>
        b.records.map((r) => ({ topic: this.topic, key: r.run_id, value: JSON.stringify(r), headers: { 'vigil-event': r.event } })),
      );
      try {
        await this.producer.send(messages);
        for (const b of batch) b.done();
      } catch (err) {
        for (const b of batch) b.done(err ?? new Error('send failed'));
      }
    }
    this.sending = false;
  }
}
