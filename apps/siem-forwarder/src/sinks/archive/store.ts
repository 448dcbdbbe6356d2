import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  readdirSync,
  fstatSync,
  ftruncateSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { ChainWriter, chainLine, chainMac, type ChainHead, type ChainRecord } from '@vigil/contracts';

const FILE_RE = /^\d{4}-\d{2}-\d{2}\.jsonl$/;
/** Largest tail read back to find the last record at start-up (a record is at most this long). */
export const MAX_RECORD_BYTES = 32 * 1024 * 1024;

/** Why an archive cannot be continued safely; stops start-up with the file named. */
export class ArchiveRecoveryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ArchiveRecoveryError';
  }
}

export interface Recovered {
  head: ChainHead | null;
  /** Bytes of a torn last line that were cut off (a write that never completed). */
  truncatedBytes: number;
  file: string | null;
}

function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads the last complete line of the newest day file of a stream directory and checks it. A torn
 * last line (no newline: the process died mid-write, before the fsync that would have let offsets
 * be committed) is cut off; its items come again from Kafka. Anything else unreadable stops
 * start-up: continuing after it would hide tampering.
 */
export function recoverStream(dir: string, stream: string, keys: ReadonlyMap<string, Buffer>): Recovered {
  mkdirSync(dir, { recursive: true });
  const files = readdirSync(dir)
    .filter((n) => FILE_RE.test(n))
    .sort();
  for (let i = files.length - 1; i >= 0; i--) {
    const file = join(dir, files[i]!);
    const fd = openSync(file, 'r+');
    try {
      const size = fstatSync(fd).size;
      if (size === 0) continue;
      const want = Math.min(size, MAX_RECORD_BYTES);
      const buf = Buffer.alloc(want);
      readSync(fd, buf, 0, want, size - want);
      let end = buf.length;
      let truncatedBytes = 0;
      if (buf[end - 1] !== 0x0a) {
        const lastNl = buf.lastIndexOf(0x0a);
        if (lastNl < 0 && want < size) throw new ArchiveRecoveryError(`${file}: last line is longer than ${MAX_RECORD_BYTES} bytes`);
        truncatedBytes = end - (lastNl + 1);
        ftruncateSync(fd, size - truncatedBytes);
        fsyncSync(fd);
        end = lastNl + 1;
        if (end === 0) {
          if (want === size) continue; // the file held only a torn line
        }
      }
      const body = buf.subarray(0, end - 1); // without the final newline
      const start = body.lastIndexOf(0x0a) + 1;
      if (start === 0 && want < size) throw new ArchiveRecoveryError(`${file}: last line is longer than ${MAX_RECORD_BYTES} bytes`);
      const text = body.subarray(start).toString('utf8');
      let rec: ChainRecord;
      try {
        rec = JSON.parse(text) as ChainRecord;
      } catch {
        throw new ArchiveRecoveryError(`${file}: last line is not a chain record; verify the archive before writing more`);
      }
      if (rec.stream !== stream) throw new ArchiveRecoveryError(`${file}: last record belongs to stream "${rec.stream}", not "${stream}"`);
      const key = keys.get(rec.key_id);
      if (!key)
        throw new ArchiveRecoveryError(
          `${file}: last record is signed with key "${rec.key_id}", which is not in ARCHIVE_KEYS (keep old keys until a rotation record is written)`,
        );
      if (chainMac(rec, key) !== rec.mac)
        throw new ArchiveRecoveryError(`${file}: last record's MAC does not match: the archive was changed; verify it before writing more`);
      const keyId = rec.kind === 'rotate' ? (rec.data as { next_key_id: string }).next_key_id : rec.key_id;
      return { head: { seq: rec.seq, mac: rec.mac, keyId }, truncatedBytes, file };
    } finally {
      closeSync(fd);
    }
  }
  return { head: null, truncatedBytes: 0, file: null };
}

/** Takes the instance directory for this process, or says which process holds it. */
export function lockInstance(dir: string): () => void {
  mkdirSync(dir, { recursive: true });
  const lock = join(dir, '.lock');
  try {
    const fd = openSync(lock, 'wx');
    writeSync(fd, String(process.pid));
    closeSync(fd);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const pid = Number(readFileSync(lock, 'utf8').trim());
    let alive = false;
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid) {
      try {
        process.kill(pid, 0);
        alive = true;
      } catch (e) {
        alive = (e as NodeJS.ErrnoException).code === 'EPERM';
      }
    }
    if (alive) throw new ArchiveRecoveryError(`${dir} is written by process ${pid}: give each forwarder its own ARCHIVE_INSTANCE`);
    writeFileSync(lock, String(process.pid));
  }
  return () => {
    try {
      unlinkSync(lock);
    } catch {
      /* already gone */
    }
  };
}

/** Day file name for a write time (UTC). */
export function dayFile(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 10)}.jsonl`;
}

/**
 * One stream's chain on disk: appends a batch as one write, fsyncs, and only then moves the chain
 * head. A failed write is cut back to where the file ended, so the file never holds half a batch.
 */
export class StreamArchive {
  private fh: FileHandle | null = null;
  private fileName: string | null = null;
  private size = 0;
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    readonly dir: string,
    readonly writer: ChainWriter,
  ) {}

  /** Serialised: concurrent calls append one after another, never interleaved. */
  append(docs: readonly unknown[], nowMs: number): Promise<ChainRecord[]> {
    const run = this.tail.then(() => this.write(docs, nowMs));
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** A rotation record (at start-up, when the configured key differs from the chain's). */
  appendRotation(nextKeyId: string, nowMs: number): Promise<ChainRecord[]> {
    const run = this.tail.then(() => this.writeRecords([this.writer.rotation(nextKeyId, new Date(nowMs).toISOString())], nowMs));
    this.tail = run.catch(() => undefined);
    return run;
  }

  private async write(docs: readonly unknown[], nowMs: number): Promise<ChainRecord[]> {
    return this.writeRecords(this.writer.batch(docs, new Date(nowMs).toISOString()), nowMs);
  }

  private async writeRecords(records: ChainRecord[], nowMs: number): Promise<ChainRecord[]> {
    await this.openFor(nowMs);
    const fh = this.fh!;
    const bytes = Buffer.from(records.map((r) => `${chainLine(r)}\n`).join(''), 'utf8');
    const before = this.size;
    try {
      let off = 0;
      while (off < bytes.length) {
        const { bytesWritten } = await fh.write(bytes, off, bytes.length - off, before + off);
        off += bytesWritten;
      }
      await fh.datasync();
    } catch (err) {
      // Cut the file back so the next attempt appends to a clean tail; if even that fails, reopen
      // (and re-read the size) before the next write.
      try {
        await fh.truncate(before);
      } catch {
        await this.close();
      }
      throw err;
    }
    this.size = before + bytes.length;
    this.writer.commit(records);
    return records;
  }

  private async openFor(nowMs: number): Promise<void> {
    const name = dayFile(nowMs);
    if (this.fh && this.fileName === name) return;
    await this.close();
    const path = join(this.dir, name);
    const fh = await open(path, 'a+');
    this.size = (await fh.stat()).size;
    this.fh = fh;
    this.fileName = name;
    fsyncDir(this.dir); // the new file's directory entry is durable too
  }

  async close(): Promise<void> {
    const fh = this.fh;
    this.fh = null;
    this.fileName = null;
    if (fh) await fh.close();
  }
}
