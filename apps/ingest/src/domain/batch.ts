import { uuidV5, type DecodeLimits, type EventFlag, type Issue, type DlqErrorKind } from '@vigil/contracts';
import { validateRawEvent, type IntegrityMode, type ValidateOptions } from './validate';

/** A raw message as the validation step needs it: bytes plus its raw-topic position. */
export interface RawItem {
  topic: string;
  partition: number;
  offset: string;
  value: Uint8Array | null;
}

/**
 * Per-message outcome: the serialised SecurityEvent (a string; UTF-8 bytes when it came back from a
 * worker thread) and its key, or why it was refused.
 */
export type ItemResult<V extends string | Buffer = string> =
  { ok: true; key: string; value: V; flags?: EventFlag[] } | { ok: false; kind: DlqErrorKind; reason: string; issues: Issue[] };

/** Everything validation needs that does not change between batches. */
export interface ValidationSettings {
  limits: DecodeLimits;
  futureToleranceMs: number;
  integrity: IntegrityMode;
  keys: ReadonlyMap<string, Buffer>;
}

/**
 * Validates, normalises and serialises one batch. Pure (time is `nowMs`), so it runs the same on
 * the consumer's thread or in a worker thread.
 */
export function validateBatch(items: readonly RawItem[], nowMs: number, s: ValidationSettings): ItemResult[] {
  let current: RawItem | undefined;
  const opts: ValidateOptions = {
    limits: s.limits,
    nowMs,
    receivedAt: new Date(nowMs).toISOString(),
    futureToleranceMs: s.futureToleranceMs,
    // Same raw position, same id: a redelivered event without event_id is still one event.
    fallbackEventId: () => uuidV5(`raw:${current!.topic}/${current!.partition}/${current!.offset}`),
    integrity: s.integrity,
    keys: s.keys,
  };
  const out: ItemResult[] = new Array(items.length);
  for (let i = 0; i < items.length; i++) {
    current = items[i]!;
    const v = current.value;
    const r = validateRawEvent(v === null ? null : Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength), opts);
    out[i] = r.ok
      ? { ok: true, key: r.key, value: JSON.stringify(r.event), ...(r.event.flags ? { flags: r.event.flags } : {}) }
      : { ok: false, kind: r.kind, reason: r.reason, issues: r.issues };
  }
  return out;
}
