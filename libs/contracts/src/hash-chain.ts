import { createHmac, timingSafeEqual } from 'node:crypto';
import { canonicalJson } from './integrity';

/**
 * Tamper evidence for stored streams: every record carries `seq` (1, 2, 3, … per stream), `prev`
 * (the previous record's MAC; 64 zeros before the first) and `mac` = HMAC-SHA256 under the key
 * named by `key_id` over the canonical JSON of everything else in the record. Changing, removing,
 * adding or moving a record breaks either its own MAC or the link the next record holds, and
 * nobody without the key can mend it. Keys rotate in-band: a `rotate` record, signed with the old
 * key, names the next key id; records after it are signed with the new key. docs/tamper-evidence.md.
 */
export const CHAIN_FORMAT_VERSION = 1 as const;
export const CHAIN_GENESIS = '0'.repeat(64);
export const CHAIN_KEY_ID_RE = /^[A-Za-z0-9._-]{1,64}$/;
export const CHAIN_STREAM_RE = /^[A-Za-z0-9._/-]{1,200}$/;

export type ChainRecordKind = 'record' | 'rotate';

export interface ChainRecord {
  v: typeof CHAIN_FORMAT_VERSION;
  stream: string;
  seq: number;
  /** Write time (UTC ISO); covered by the MAC like everything else. */
  at: string;
  key_id: string;
  kind: ChainRecordKind;
  prev: string;
  /** The archived document (kind record) or `{ next_key_id }` (kind rotate). */
  data: unknown;
  mac: string;
}

export type UnsignedChainRecord = Omit<ChainRecord, 'mac'>;

/** HMAC-SHA256 (hex) over the canonical JSON of a record without its `mac`. */
export function chainMac(record: UnsignedChainRecord, key: Buffer): string {
  const { v, stream, seq, at, key_id, kind, prev, data } = record;
  return createHmac('sha256', key).update(canonicalJson({ v, stream, seq, at, key_id, kind, prev, data }), 'utf8').digest('hex');
}

/** One JSON line, fields in a fixed order so files read well; the MAC does not depend on the order. */
export function chainLine(r: ChainRecord): string {
  return JSON.stringify({
    v: r.v,
    stream: r.stream,
    seq: r.seq,
    at: r.at,
    key_id: r.key_id,
    kind: r.kind,
    prev: r.prev,
    data: r.data,
    mac: r.mac,
  });
}

/** Where a stream's chain stands: what the next record must link to. */
export interface ChainHead {
  seq: number;
  mac: string;
  keyId: string;
}

/**
 * Comma- or newline-separated `key_id=base64secret` entries (at least 32 bytes each), the format of
 * ARCHIVE_KEYS and of `vigil verify --key-file`. Throws with a readable message.
 */
export function parseChainKeys(text: string): Map<string, Buffer> {
  const keys = new Map<string, Buffer>();
  for (const part of text
    .split(/[,\n]/)
    .map((s) => s.trim())
    .filter((s) => s && !s.startsWith('#'))) {
    const eq = part.indexOf('=');
    const id = eq > 0 ? part.slice(0, eq).trim() : '';
    if (!CHAIN_KEY_ID_RE.test(id)) throw new Error('each key must be key_id=base64secret (key ids: 1-64 of A-Z a-z 0-9 . _ -)');
    const secret = Buffer.from(part.slice(eq + 1).trim(), 'base64');
    if (secret.length < 32) throw new Error(`key "${id}" must decode to at least 32 bytes`);
    keys.set(id, secret);
  }
  return keys;
}

/**
 * Appends to one stream's chain (pure: the caller writes the lines and passes the time). Starts at
 * the genesis or at a head recovered from the last stored record.
 */
export class ChainWriter {
  private head: ChainHead;

  constructor(
    readonly stream: string,
    private readonly keys: ReadonlyMap<string, Buffer>,
    head: ChainHead | null,
    initialKeyId: string,
  ) {
    if (!CHAIN_STREAM_RE.test(stream)) throw new Error(`stream name "${stream}" must match ${CHAIN_STREAM_RE.source}`);
    this.head = head ?? { seq: 0, mac: CHAIN_GENESIS, keyId: initialKeyId };
    if (!keys.has(this.head.keyId))
      throw new Error(`the chain of ${stream} is signed with key "${this.head.keyId}", which is not configured`);
  }

  get current(): ChainHead {
    return { ...this.head };
  }

  /** The next record for `data`; the head only moves when `commit` is called with it. */
  next(data: unknown, at: string, kind: ChainRecordKind = 'record', headOverride?: ChainHead): ChainRecord {
    const h = headOverride ?? this.head;
    const unsigned: UnsignedChainRecord = {
      v: CHAIN_FORMAT_VERSION,
      stream: this.stream,
      seq: h.seq + 1,
      at,
      key_id: h.keyId,
      kind,
      prev: h.mac,
      data,
    };
    return { ...unsigned, mac: chainMac(unsigned, this.keys.get(h.keyId)!) };
  }

  /**
   * Records for a batch, chained to each other, without moving the head: the caller makes them
   * durable first and then calls `commit` (a failed write leaves the head where the file ends).
   */
  batch(items: readonly unknown[], at: string): ChainRecord[] {
    const out: ChainRecord[] = [];
    let h = this.head;
    for (const data of items) {
      const r = this.next(data, at, 'record', h);
      out.push(r);
      h = { seq: r.seq, mac: r.mac, keyId: h.keyId };
    }
    return out;
  }

  /** A rotation record signed with the current key, naming the key every later record uses. */
  rotation(nextKeyId: string, at: string): ChainRecord {
    if (!this.keys.has(nextKeyId)) throw new Error(`key "${nextKeyId}" is not configured`);
    return this.next({ next_key_id: nextKeyId }, at, 'rotate');
  }

  /** Moves the head past records that are now durable (in order). */
  commit(records: readonly ChainRecord[]): void {
    for (const r of records) {
      if (r.seq !== this.head.seq + 1 || r.prev !== this.head.mac)
        throw new Error(`record ${r.seq} does not follow the head ${this.head.seq}`);
      const nextKey = r.kind === 'rotate' ? (r.data as { next_key_id: string }).next_key_id : r.key_id;
      this.head = { seq: r.seq, mac: r.mac, keyId: nextKey };
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Verification
// ---------------------------------------------------------------------------------------------

/** What can be wrong with a stored stream, first problem only. */
export type ChainProblemKind =
  'malformed' | 'modified' | 'deleted' | 'inserted' | 'reordered' | 'unknown_key' | 'key_change_without_rotation' | 'broken_link';

export interface ChainProblem {
  kind: ChainProblemKind;
  /** Where the problem shows: the file and 1-based line given with the input. */
  file: string;
  line: number;
  /** The seq the record claims, when it has one. */
  seq?: number;
  message: string;
}

export interface ChainInputLine {
  file: string;
  line: number;
  text: string;
}

export interface ChainVerifyResult {
  ok: boolean;
  problem?: ChainProblem;
  records: number;
  /** Per stream: first and last seq seen and the last MAC (compare with an anchor kept elsewhere). */
  streams: Record<string, { firstSeq: number; lastSeq: number; lastMac: string; keyId: string; rotations: number }>;
  /** Streams whose first record here is not the genesis: earlier records were not checked. */
  anchoredStarts: string[];
}

type Parsed = { ok: true; rec: ChainRecord; macOk: boolean | 'unknown_key' } | { ok: false; reason: string };

const HEX64 = /^[0-9a-f]{64}$/;

function parse(text: string, keys: ReadonlyMap<string, Buffer>): Parsed {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
  const r = v as Partial<ChainRecord> | null;
  if (r === null || typeof r !== 'object' || Array.isArray(r)) return { ok: false, reason: 'not a JSON object' };
  if (r.v !== CHAIN_FORMAT_VERSION) return { ok: false, reason: `format version ${JSON.stringify(r.v)} is not ${CHAIN_FORMAT_VERSION}` };
  if (typeof r.stream !== 'string' || !CHAIN_STREAM_RE.test(r.stream)) return { ok: false, reason: 'stream is missing or invalid' };
  if (typeof r.seq !== 'number' || !Number.isSafeInteger(r.seq) || r.seq < 1)
    return { ok: false, reason: 'seq must be a positive integer' };
  if (typeof r.at !== 'string') return { ok: false, reason: 'at is missing' };
  if (typeof r.key_id !== 'string' || !CHAIN_KEY_ID_RE.test(r.key_id)) return { ok: false, reason: 'key_id is missing or invalid' };
  if (r.kind !== 'record' && r.kind !== 'rotate') return { ok: false, reason: 'kind must be record or rotate' };
  if (typeof r.prev !== 'string' || !HEX64.test(r.prev)) return { ok: false, reason: 'prev must be 64 lowercase hex digits' };
  if (typeof r.mac !== 'string' || !HEX64.test(r.mac)) return { ok: false, reason: 'mac must be 64 lowercase hex digits' };
  if (!('data' in r)) return { ok: false, reason: 'data is missing' };
  if (r.kind === 'rotate') {
    const next = (r.data as { next_key_id?: unknown } | null)?.next_key_id;
    if (typeof next !== 'string' || !CHAIN_KEY_ID_RE.test(next)) return { ok: false, reason: 'a rotate record needs data.next_key_id' };
  }
  const rec = r as ChainRecord;
  const key = keys.get(rec.key_id);
  if (!key) return { ok: true, rec, macOk: 'unknown_key' };
  const expected = Buffer.from(chainMac(rec, key), 'hex');
  return { ok: true, rec, macOk: timingSafeEqual(expected, Buffer.from(rec.mac, 'hex')) };
}

interface StreamState {
  seq: number;
  mac: string;
  keyId: string;
  firstSeq: number;
  rotations: number;
  /** MAC of each seq seen (to tell a replayed record from a reordered one), bounded. */
  seen: Map<number, string>;
}

/** How far ahead the verifier looks to tell a move from a removal or an insertion. */
export const CHAIN_LOOKAHEAD = 10_000;
const SEEN_LIMIT = 100_000;

/**
 * Checks a stored stream (one or several streams interleaved, files in order) and reports the
 * first modified, deleted, inserted or reordered record. Streaming: `push` lines, then `end`.
 * Memory is bounded by the look-ahead window.
 */
export class ChainVerifier {
  private readonly queue: Array<{ at: ChainInputLine; parsed: Parsed }> = [];
  private readonly streams = new Map<string, StreamState>();
  private readonly anchored: string[] = [];
  private problem: ChainProblem | undefined;
  private count = 0;

  constructor(
    private readonly keys: ReadonlyMap<string, Buffer>,
    private readonly opts: { requireGenesis?: boolean } = {},
  ) {}

  /** False once a problem was found (further lines are ignored). */
  push(line: ChainInputLine): boolean {
    if (this.problem) return false;
    if (line.text.trim() === '') return true;
    this.queue.push({ at: line, parsed: parse(line.text, this.keys) });
    while (!this.problem && this.queue.length > CHAIN_LOOKAHEAD) this.step();
    return !this.problem;
  }

  end(): ChainVerifyResult {
    while (!this.problem && this.queue.length > 0) this.step();
    const streams: ChainVerifyResult['streams'] = {};
    for (const [name, s] of this.streams)
      streams[name] = { firstSeq: s.firstSeq, lastSeq: s.seq, lastMac: s.mac, keyId: s.keyId, rotations: s.rotations };
    return {
      ok: !this.problem,
      ...(this.problem ? { problem: this.problem } : {}),
      records: this.count,
      streams,
      anchoredStarts: this.anchored,
    };
  }

  private fail(kind: ChainProblemKind, at: ChainInputLine, message: string, seq?: number): void {
    this.problem = { kind, file: at.file, line: at.line, ...(seq !== undefined ? { seq } : {}), message };
  }

  /** The next queued record of `stream` that is authentic, with its queue index. */
  private findAhead(pred: (r: ChainRecord) => boolean): { index: number; rec: ChainRecord } | null {
    for (let i = 0; i < this.queue.length; i++) {
      const p = this.queue[i]!.parsed;
      if (p.ok && p.macOk === true && pred(p.rec)) return { index: i, rec: p.rec };
    }
    return null;
  }

  private step(): void {
    const { at, parsed } = this.queue.shift()!;
    if (!parsed.ok) return this.fail('malformed', at, `line is not a chain record: ${parsed.reason}`);
    const r = parsed.rec;
    const s = this.streams.get(r.stream);
    if (parsed.macOk === 'unknown_key')
      return this.fail(
        'unknown_key',
        at,
        `record ${r.seq} of ${r.stream} is signed with key "${r.key_id}", which is not in the key file`,
        r.seq,
      );
    if (parsed.macOk === false) {
      // A record whose MAC fails: if the chain carries on over it, it was put in; otherwise it was changed.
      const expectSeq = s ? s.seq + 1 : r.seq;
      const expectPrev = s ? s.mac : undefined;
      const after = this.queue[0]?.parsed;
      const skippedOver =
        after?.ok &&
        after.macOk === true &&
        after.rec.stream === r.stream &&
        after.rec.seq === expectSeq &&
        (expectPrev === undefined || after.rec.prev === expectPrev);
      if (skippedOver)
        return this.fail(
          'inserted',
          at,
          `record claiming seq ${r.seq} of ${r.stream} has an invalid MAC and the chain continues past it: it was inserted`,
          r.seq,
        );
      return this.fail(
        'modified',
        at,
        `record ${r.seq} of ${r.stream}: MAC does not match its content (modified, or signed with another key)`,
        r.seq,
      );
    }
    this.count++;
    if (!s) {
      if (r.seq === 1 && r.prev !== CHAIN_GENESIS)
        return this.fail('broken_link', at, `record 1 of ${r.stream} does not start from the genesis`, 1);
      if (r.seq !== 1) {
        if (this.opts.requireGenesis)
          return this.fail('deleted', at, `${r.stream} starts at seq ${r.seq}: records 1-${r.seq - 1} are missing`, r.seq);
        this.anchored.push(r.stream);
      }
      this.streams.set(r.stream, {
        seq: r.seq,
        mac: r.mac,
        keyId: r.kind === 'rotate' ? (r.data as { next_key_id: string }).next_key_id : r.key_id,
        firstSeq: r.seq,
        rotations: r.kind === 'rotate' ? 1 : 0,
        seen: new Map([[r.seq, r.mac]]),
      });
      return;
    }
    const expected = s.seq + 1;
    if (r.seq < expected) {
      const earlier = s.seen.get(r.seq);
      if (earlier === r.mac)
        return this.fail('inserted', at, `record ${r.seq} of ${r.stream} appears again after ${s.seq}: a copy was inserted`, r.seq);
      return this.fail('reordered', at, `record ${r.seq} of ${r.stream} comes after ${s.seq}: records are out of order`, r.seq);
    }
    if (r.seq > expected) {
      const missing = this.findAhead((x) => x.stream === r.stream && x.seq === expected);
      if (missing) {
        return this.fail(
          'reordered',
          at,
          `record ${r.seq} of ${r.stream} comes before record ${expected} (line ${this.queue[missing.index]!.at.line}): records are out of order`,
          r.seq,
        );
      }
      const gap = r.seq - expected === 1 ? `record ${expected} is` : `records ${expected}-${r.seq - 1} are`;
      return this.fail('deleted', at, `${gap} missing from ${r.stream} before record ${r.seq}`, r.seq);
    }
    if (r.prev !== s.mac)
      return this.fail(
        'broken_link',
        at,
        `record ${r.seq} of ${r.stream} does not link to record ${s.seq} (prev differs): the stream was spliced`,
        r.seq,
      );
    if (r.key_id !== s.keyId)
      return this.fail(
        'key_change_without_rotation',
        at,
        `record ${r.seq} of ${r.stream} uses key "${r.key_id}" but the chain is on "${s.keyId}" and no rotate record came between`,
        r.seq,
      );
    s.seq = r.seq;
    s.mac = r.mac;
    if (r.kind === 'rotate') {
      s.keyId = (r.data as { next_key_id: string }).next_key_id;
      s.rotations++;
    }
    s.seen.set(r.seq, r.mac);
    if (s.seen.size > SEEN_LIMIT) s.seen.delete(s.seen.keys().next().value!);
  }
}
