import { join } from 'node:path';
import { ChainWriter } from '@vigil/contracts';
import type { Gauge, Logger } from '@vigil/runtime';
import { alertDocument, eventDocument } from '@vigil/schema-mapping';
import type { BatchLimits } from '../../domain/batching';
import type { Forwardable, ForwardableKind } from '../../domain/forwardable';
import type { SendOutcome } from '../../domain/outcome';
import { allOk } from '../../domain/outcome';
import type { EncodedRecord, SinkClient } from '../../delivery/sink';
import type { ArchiveSettings } from './config';
import { StreamArchive, lockInstance, recoverStream } from './store';

export interface ArchiveRecord extends EncodedRecord {
  readonly doc: unknown;
  /** events or alerts: one chain (and one request) per stream. */
  readonly route: ForwardableKind;
}

const STREAM_DIRS: Record<ForwardableKind, string> = { event: 'events', alert: 'alerts' };

/**
 * The archive sink: JSON-lines files per stream and day under ARCHIVE_DIR/<instance>/<stream>/,
 * each record hash-chained (seq, prev, HMAC) so that `vigil verify` can prove the files were not
 * changed. A batch is appended and fsynced before it is reported stored, so offsets are committed
 * only for records on disk. Start-up recovers each chain from its last line.
 */
export class ArchiveClient implements SinkClient<ArchiveRecord> {
  readonly name = 'archive' as const;
  readonly limits: BatchLimits;
  private readonly streams: Record<ForwardableKind, StreamArchive>;
  private readonly unlock: () => void;
  private rotations: Array<Promise<unknown>> = [];

  constructor(
    private readonly s: ArchiveSettings,
    opts: { maxEvents: number },
    private readonly logger: Logger,
    private readonly headSeq?: Gauge<'stream'>,
    private readonly now: () => number = Date.now,
  ) {
    this.limits = { maxEvents: opts.maxEvents, maxBytes: s.maxBytes, frameBytes: 0, separatorBytes: 0 };
    const base = join(s.dir, s.instance);
    this.unlock = lockInstance(base);
    const make = (kind: ForwardableKind): StreamArchive => {
      const stream = `${s.instance}/${STREAM_DIRS[kind]}`;
      const dir = join(base, STREAM_DIRS[kind]);
      const r = recoverStream(dir, stream, s.keys);
      if (r.truncatedBytes > 0)
        logger.warn(
          { file: r.file, bytes: r.truncatedBytes },
          'archive: cut a torn last line (a write that never completed; its items are redelivered)',
        );
      const writer = new ChainWriter(stream, s.keys, r.head, s.keyId);
      const archive = new StreamArchive(dir, writer);
      if (r.head && r.head.keyId !== s.keyId) {
        // The chain is on another key: hand it over in-band, signed with the old key.
        logger.info({ stream, from: r.head.keyId, to: s.keyId }, 'archive: writing a key rotation record');
        this.rotations.push(archive.appendRotation(s.keyId, this.now()));
      }
      logger.info({ stream, seq: r.head?.seq ?? 0 }, 'archive chain recovered');
      return archive;
    };
    this.streams = { event: make('event'), alert: make('alert') };
  }

  /** Resolves once start-up rotation records are on disk (rejects if writing them failed). */
  async ready(): Promise<void> {
    await Promise.all(this.rotations);
    this.rotations = [];
  }

  encode(item: Forwardable): ArchiveRecord {
    const doc = item.kind === 'event' ? eventDocument(item.event, this.s.format) : alertDocument(item.alert, this.s.format);
    // Size of the line it becomes, roughly (the chain fields add ~300 bytes).
    const bytes = Buffer.byteLength(JSON.stringify(doc)) + 320;
    return { id: item.id, kind: item.kind, bytes, route: item.kind, doc };
  }

  async send(records: readonly ArchiveRecord[], _signal: AbortSignal): Promise<SendOutcome> {
    if (records.length === 0) return allOk(0);
    try {
      await this.ready();
      const kind = records[0]!.route;
      const archive = this.streams[kind];
      const written = await archive.append(
        records.map((r) => r.doc),
        this.now(),
      );
      this.headSeq?.set({ stream: archive.writer.stream }, written[written.length - 1]!.seq);
      return allOk(records.length);
    } catch (err) {
      // Disk full, I/O error, permissions: the records are not stored; retry later.
      return {
        kind: 'unavailable',
        reason: `archive write failed: ${(err as NodeJS.ErrnoException).code ?? ''} ${(err as Error).message}`.trim(),
      };
    }
  }

  describe(): Record<string, unknown> {
    return { dir: this.s.dir, instance: this.s.instance, keyId: this.s.keyId, format: this.s.format };
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.streams.event.close(), this.streams.alert.close()]);
    this.unlock();
  }
}
