import type { DlqErrorKind, EventFlag, Issue } from '@vigil/contracts';
import type { ItemResult, RawItem } from '../domain/batch';

/**
 * How a batch crosses to a validation worker and back. Structured clone of a Kafka message value
 * (a view into the whole fetch response) copies the response's entire buffer, and a result's JSON
 * string is copied once by the clone and encoded again by the producer. So both directions carry
 * every payload packed into one ArrayBuffer that is transferred (moved, not copied), with an array
 * of end offsets; the other side reads views into it.
 */
export interface ItemsMessage {
  topics: string[];
  /** Per item, an index into `topics` (a batch is usually one topic). */
  topicIds: Int32Array;
  partitions: Int32Array;
  offsets: string[];
  bytes: ArrayBuffer;
  /** End of item i's value in `bytes`; -1 marks a null value (a tombstone). */
  ends: Int32Array;
}

export interface ResultsMessage {
  /** Accepted items' serialised events, back to back. */
  bytes: ArrayBuffer;
  /** End of item i's value in `bytes` (a refused item has an empty range). */
  ends: Int32Array;
  /** Partition key per item; null where refused. */
  keys: Array<string | null>;
  refused: Array<{ i: number; kind: DlqErrorKind; reason: string; issues: Issue[] }>;
  flags: Array<[number, EventFlag[]]>;
}

export interface Packed<T> {
  message: T;
  transfer: ArrayBuffer[];
}

export function packItems(items: readonly RawItem[]): Packed<ItemsMessage> {
  const n = items.length;
  let total = 0;
  for (const it of items) if (it.value) total += it.value.byteLength;
  const bytes = new ArrayBuffer(total);
  const view = new Uint8Array(bytes);
  const ends = new Int32Array(n);
  const topicIds = new Int32Array(n);
  const partitions = new Int32Array(n);
  const offsets: string[] = new Array(n);
  const topics: string[] = [];
  let pos = 0;
  for (let i = 0; i < n; i++) {
    const it = items[i]!;
    let t = topics.indexOf(it.topic);
    if (t < 0) t = topics.push(it.topic) - 1;
    topicIds[i] = t;
    partitions[i] = it.partition;
    offsets[i] = it.offset;
    if (it.value === null) {
      ends[i] = -1;
      continue;
    }
    view.set(it.value, pos);
    pos += it.value.byteLength;
    ends[i] = pos;
  }
  return { message: { topics, topicIds, partitions, offsets, bytes, ends }, transfer: [bytes] };
}

export function unpackItems(m: ItemsMessage): RawItem[] {
  const out: RawItem[] = new Array(m.ends.length);
  let start = 0;
  for (let i = 0; i < m.ends.length; i++) {
    const end = m.ends[i]!;
    const value = end < 0 ? null : Buffer.from(m.bytes, start, end - start);
    if (end >= 0) start = end;
    out[i] = { topic: m.topics[m.topicIds[i]!]!, partition: m.partitions[i]!, offset: m.offsets[i]!, value };
  }
  return out;
}

export function packResults(results: readonly ItemResult<string | Buffer>[]): Packed<ResultsMessage> {
  const n = results.length;
  // UTF-8 needs at most 3 bytes per UTF-16 unit; events are mostly ASCII, so start from the
  // string lengths and grow when a value might not fit.
  let cap = 64;
  for (const r of results) if (r.ok) cap += typeof r.value === 'string' ? r.value.length : r.value.byteLength;
  let buf = Buffer.from(new ArrayBuffer(cap));
  const ends = new Int32Array(n);
  const keys: Array<string | null> = new Array(n);
  const refused: ResultsMessage['refused'] = [];
  const flags: ResultsMessage['flags'] = [];
  let pos = 0;
  for (let i = 0; i < n; i++) {
    const r = results[i]!;
    if (!r.ok) {
      keys[i] = null;
      ends[i] = pos;
      refused.push({ i, kind: r.kind, reason: r.reason, issues: r.issues });
      continue;
    }
    let need = typeof r.value === 'string' ? r.value.length * 3 : r.value.byteLength;
    if (pos + need > buf.length && typeof r.value === 'string') need = Buffer.byteLength(r.value, 'utf8');
    if (pos + need > buf.length) {
      const grown = Buffer.from(new ArrayBuffer(Math.max(buf.length * 2, pos + need)));
      buf.copy(grown, 0, 0, pos);
      buf = grown;
    }
    pos += typeof r.value === 'string' ? buf.write(r.value, pos, 'utf8') : r.value.copy(buf, pos);
    ends[i] = pos;
    keys[i] = r.key;
    if (r.flags) flags.push([i, r.flags]);
  }
  const bytes = buf.buffer as ArrayBuffer;
  return { message: { bytes, ends, keys, refused, flags }, transfer: [bytes] };
}

/** Accepted values come back as Buffers viewing the transferred block (no copy, no re-encoding). */
export function unpackResults(m: ResultsMessage): ItemResult<Buffer>[] {
  const n = m.ends.length;
  const out: ItemResult<Buffer>[] = new Array(n);
  let start = 0;
  for (let i = 0; i < n; i++) {
    const end = m.ends[i]!;
    out[i] = { ok: true, key: m.keys[i]!, value: Buffer.from(m.bytes, start, end - start) };
    start = end;
  }
  for (const f of m.refused) out[f.i] = { ok: false, kind: f.kind, reason: f.reason, issues: f.issues };
  for (const [i, flags] of m.flags) {
    const r = out[i]!;
    if (r.ok) r.flags = flags;
  }
  return out;
}
