import { createHash, randomUUID } from 'node:crypto';
import { MAX_DLQ_ORIGINAL_BYTES, type DlqErrorKind, type DlqRecord, type Issue } from '@vigil/contracts';
import type { ConsumedMessage } from './consumer';
import type { OutMessage } from './producer';

export interface DeadLetter {
  kind: DlqErrorKind;
  reason: string;
  issues?: Issue[];
  destination?: string;
  attempts?: number;
}

function original(value: Buffer | null): Pick<DlqRecord, 'original_base64' | 'original_size' | 'original_truncated' | 'original_sha256'> {
  if (!value) return { original_base64: '', original_size: 0 };
  if (value.length <= MAX_DLQ_ORIGINAL_BYTES) return { original_base64: value.toString('base64'), original_size: value.length };
  return {
    original_base64: value.subarray(0, MAX_DLQ_ORIGINAL_BYTES).toString('base64'),
    original_size: value.length,
    original_truncated: true,
    original_sha256: createHash('sha256').update(value).digest('hex'),
  };
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
    ...original(msg.value),
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
