import { randomUUID } from 'node:crypto';
import type { DlqErrorKind, DlqRecord, Issue } from '@vigil/contracts';
import type { ConsumedMessage } from './consumer';
import type { OutMessage } from './producer';

export interface DeadLetter {
  kind: DlqErrorKind;
  reason: string;
  issues?: Issue[];
  destination?: string;
  attempts?: number;
}

/** Builds the DLQ record for a message: original bytes, reason, and where it came from. */
export function dlqRecord(service: string, msg: ConsumedMessage, failure: DeadLetter, now: Date = new Date()): DlqRecord {
  return {
    schema_version: 1,
    dlq_id: randomUUID(),
    error_kind: failure.kind,
    reason: failure.reason.slice(0, 4096),
    issues: (failure.issues ?? []).slice(0, 100),
    service,
    ...(failure.destination !== undefined ? { destination: failure.destination } : {}),
    ...(failure.attempts !== undefined ? { attempts: failure.attempts } : {}),
    source: {
      topic: msg.topic,
      partition: msg.partition,
      offset: msg.offset,
      timestamp: msg.timestamp,
      key_base64: msg.key ? msg.key.toString('base64') : null,
    },
    original_base64: msg.value ? msg.value.toString('base64') : '',
    failed_at: now.toISOString(),
  };
}

/** The DLQ record as a message for `Producer.send`, keyed like the original so order is kept. */
export function dlqMessage(dlqTopic: string, service: string, msg: ConsumedMessage, failure: DeadLetter, now?: Date): OutMessage {
  return {
    topic: dlqTopic,
    key: msg.key,
    value: JSON.stringify(dlqRecord(service, msg, failure, now)),
    headers: { 'vigil-error-kind': failure.kind, 'vigil-service': service },
  };
}
