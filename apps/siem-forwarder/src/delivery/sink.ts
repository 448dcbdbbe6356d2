import type { BatchLimits } from '../domain/batching';
import type { Forwardable, ForwardableKind } from '../domain/forwardable';
import type { SendOutcome } from '../domain/outcome';

export const SINK_NAMES = ['splunk', 'elasticsearch', 'sentinel', 'archive'] as const;
export type SinkName = (typeof SINK_NAMES)[number];

/** An item already in a sink's wire form. */
export interface EncodedRecord {
  readonly id: string;
  readonly kind: ForwardableKind;
  /** Bytes this record adds to a request body (before compression). */
  readonly bytes: number;
  /** Records with different routes never share a request (e.g. Sentinel streams). */
  readonly route?: string;
}

/**
 * One SIEM: turns items into its wire form and sends a batch of them. `send` never throws: every
 * way a request can end is a SendOutcome, so the delivery engine owns all retry decisions.
 */
export interface SinkClient<R extends EncodedRecord = EncodedRecord> {
  readonly name: SinkName;
  readonly limits: BatchLimits;
  encode(item: Forwardable): R;
  send(records: readonly R[], signal: AbortSignal): Promise<SendOutcome>;
  /** Where it sends, for the start-up log line (no secrets). */
  describe(): Record<string, unknown>;
  close(): Promise<void>;
}
