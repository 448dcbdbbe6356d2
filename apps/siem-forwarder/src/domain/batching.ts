/**
 * Batch arithmetic: how many records fit one request, and when a pending batch should go.
 * Pure: sizes and times in, decisions out.
 */
export interface BatchLimits {
  /** Most records in one request. */
  readonly maxEvents: number;
  /** Most bytes in one request body (before compression). */
  readonly maxBytes: number;
  /** Bytes a request adds once, e.g. `[` and `]` around a JSON array. */
  readonly frameBytes: number;
  /** Bytes between two records, e.g. the comma of a JSON array. */
  readonly separatorBytes: number;
}

/** Body size of a request carrying records of these sizes. */
export function requestBytes(sizes: readonly number[], limits: BatchLimits): number {
  if (sizes.length === 0) return 0;
  let total = limits.frameBytes + limits.separatorBytes * (sizes.length - 1);
  for (const s of sizes) total += s;
  return total;
}

/** Whether a record can ever be sent: alone in a request it stays within the byte limit. */
export function fitsAlone(size: number, limits: BatchLimits): boolean {
  return limits.frameBytes + size <= limits.maxBytes;
}

/**
 * How many leading records fit one request under both limits. At least 1 when the first record
 * fits alone (records that do not are refused before they are queued), 0 for an empty list.
 */
export function fitCount(sizes: readonly number[], limits: BatchLimits): number {
  let n = 0;
  let bytes = limits.frameBytes;
  for (const s of sizes) {
    if (n >= limits.maxEvents) break;
    const next = bytes + s + (n > 0 ? limits.separatorBytes : 0);
    if (next > limits.maxBytes && n > 0) break;
    bytes = next;
    n++;
  }
  return n;
}

export type FlushReason = 'count' | 'bytes' | 'timer' | 'backlog';

export interface FlushInput {
  /** Records waiting for their first send. */
  readonly count: number;
  /** Request bytes those records would make together. */
  readonly bytes: number;
  /** When the oldest of them was queued, epoch ms. */
  readonly oldestAtMs: number;
  readonly nowMs: number;
  /** How long a partial batch may wait for company (the flush interval). */
  readonly lingerMs: number;
  /**
   * A batch the records came with had more messages behind it on its partition. Those cannot arrive
   * until this batch is delivered, so waiting for them only adds latency.
   */
  readonly backlog: boolean;
  readonly limits: BatchLimits;
}

export type FlushDecision = { flush: true; reason: FlushReason } | { flush: false; waitMs: number };

/**
 * A batch goes when it is full by count or bytes, when a backlog is waiting behind it, or when the
 * oldest record has waited the flush interval. Otherwise: how long until the interval runs out.
 */
export function flushDecision(input: FlushInput): FlushDecision {
  if (input.count === 0) return { flush: false, waitMs: Number.POSITIVE_INFINITY };
  if (input.count >= input.limits.maxEvents) return { flush: true, reason: 'count' };
  if (input.bytes >= input.limits.maxBytes) return { flush: true, reason: 'bytes' };
  if (input.backlog) return { flush: true, reason: 'backlog' };
  const waited = input.nowMs - input.oldestAtMs;
  if (waited >= input.lingerMs) return { flush: true, reason: 'timer' };
  return { flush: false, waitMs: input.lingerMs - waited };
}
