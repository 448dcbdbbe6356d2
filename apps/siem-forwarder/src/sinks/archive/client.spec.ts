import { appendFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChainVerifier } from '@vigil/contracts';
import { parseEnv, silentLogger } from '@vigil/runtime';
import { ForwarderEnvSchema, forwarderConfig } from '../../config';
import { alertItem, eventItem } from '../../domain/fixtures';
import { ArchiveClient } from './client';
import { ArchiveRecoveryError } from './store';

const K1 = Buffer.alloc(32, 7).toString('base64');
const K2 = Buffer.alloc(32, 9).toString('base64');
const DAY1 = Date.parse('2026-11-29T23:59:59.000Z');
const DAY2 = Date.parse('2026-11-30T00:00:01.000Z');
const signal = () => new AbortController().signal;
const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

function settings(dir: string, env: Record<string, string> = {}) {
  const raw = { SIEM_SINKS: 'archive', ARCHIVE_DIR: dir, ARCHIVE_INSTANCE: 'fwd-1', ARCHIVE_KEYS: `k1=${K1}`, ...env };
  return forwarderConfig(parseEnv(ForwarderEnvSchema, raw), raw).archive!;
}

function keys(): Map<string, Buffer> {
  return new Map([
    ['k1', Buffer.from(K1, 'base64')],
    ['k2', Buffer.from(K2, 'base64')],
  ]);
}

function verifyDir(dir: string) {
  const v = new ChainVerifier(keys(), { requireGenesis: true });
  for (const name of readdirSync(dir).sort()) {
    readFileSync(join(dir, name), 'utf8')
      .split('\n')
      .forEach((text, i) => v.push({ file: name, line: i + 1, text }));
  }
  return v.end();
}

describe('archive sink', () => {
  let dir: string;
  let clock: number;
  let c: ArchiveClient | undefined;
  const open = (env: Record<string, string> = {}) =>
    new ArchiveClient(settings(dir, env), { maxEvents: 100 }, silentLogger(), undefined, () => clock);

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-archive-'));
    clock = DAY1;
  });
  afterEach(async () => {
    await c?.close();
    c = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes events and alerts to their own chained streams, one file per day, and the files verify', async () => {
    c = open();
    const events = [1, 2, 3].map((n) => c!.encode(eventItem({ event_id: id(n) })));
    expect(await c.send(events, signal())).toEqual({ kind: 'items', items: [{ status: 'ok' }, { status: 'ok' }, { status: 'ok' }] });
    expect((await c.send([c.encode(alertItem())], signal())).kind).toBe('items');
    clock = DAY2;
    await c.send([c.encode(eventItem({ event_id: id(4) }))], signal());
    const evDir = join(dir, 'fwd-1', 'events');
    expect(readdirSync(evDir).sort()).toEqual(['2026-11-29.jsonl', '2026-11-30.jsonl']);
    const r = verifyDir(evDir);
    expect(r).toMatchObject({ ok: true, records: 4, streams: { 'fwd-1/events': { firstSeq: 1, lastSeq: 4 } } });
    expect(verifyDir(join(dir, 'fwd-1', 'alerts')).ok).toBe(true);
    const first = JSON.parse(readFileSync(join(evDir, '2026-11-29.jsonl'), 'utf8').split('\n')[0]!);
    expect(first).toMatchObject({ stream: 'fwd-1/events', seq: 1, data: { event_id: id(1) } });
  });

  it('continues the chain after a restart, from the last line on disk', async () => {
    c = open();
    await c.send([c.encode(eventItem({ event_id: id(1) })), c.encode(eventItem({ event_id: id(2) }))], signal());
    await c.close();
    c = open();
    await c.send([c.encode(eventItem({ event_id: id(3) }))], signal());
    expect(verifyDir(join(dir, 'fwd-1', 'events'))).toMatchObject({ ok: true, streams: { 'fwd-1/events': { lastSeq: 3 } } });
  });

  it('cuts a torn last line left by a crash mid-write, and the chain stays whole', async () => {
    c = open();
    await c.send([c.encode(eventItem({ event_id: id(1) }))], signal());
    await c.close();
    const file = join(dir, 'fwd-1', 'events', '2026-11-29.jsonl');
    appendFileSync(file, '{"v":1,"stream":"fwd-1/events","seq":2,"at":"2026-11-29T23:59:59.000Z","key');
    c = open();
    await c.send([c.encode(eventItem({ event_id: id(2) }))], signal());
    expect(verifyDir(join(dir, 'fwd-1', 'events'))).toMatchObject({ ok: true, records: 2 });
  });

  it('refuses to continue an archive whose last record was changed', async () => {
    c = open();
    await c.send([c.encode(eventItem({ event_id: id(1) }))], signal());
    await c.close();
    c = undefined;
    const file = join(dir, 'fwd-1', 'events', '2026-11-29.jsonl');
    writeFileSync(file, readFileSync(file, 'utf8').replace(id(1), id(9)));
    expect(() => open()).toThrow(ArchiveRecoveryError);
  });

  it('rotates keys in-band: a rotation record signed with the old key, then records under the new one', async () => {
    c = open();
    await c.send([c.encode(eventItem({ event_id: id(1) }))], signal());
    await c.close();
    c = open({ ARCHIVE_KEYS: `k1=${K1},k2=${K2}`, ARCHIVE_KEY_ID: 'k2' });
    await c.send([c.encode(eventItem({ event_id: id(2) }))], signal());
    const lines = readFileSync(join(dir, 'fwd-1', 'events', '2026-11-29.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.seq, l.kind, l.key_id])).toEqual([
      [1, 'record', 'k1'],
      [2, 'rotate', 'k1'],
      [3, 'record', 'k2'],
    ]);
    expect(verifyDir(join(dir, 'fwd-1', 'events'))).toMatchObject({ ok: true, streams: { 'fwd-1/events': { keyId: 'k2', rotations: 1 } } });
  });

  it('will not start when the chain is on a key that is no longer configured', async () => {
    c = open();
    await c.send([c.encode(eventItem({ event_id: id(1) }))], signal());
    await c.close();
    c = undefined;
    expect(() => open({ ARCHIVE_KEYS: `k2=${K2}` })).toThrow(/k1/);
  });

  it('will not share an instance directory with another live process', () => {
    const base = join(dir, 'fwd-1');
    c = open();
    void c;
    // Another live process (our parent) holds the lock:
    writeFileSync(join(base, '.lock'), String(process.ppid));
    expect(() => open()).toThrow(/written by process/);
  });

  it('reports a failed write as unavailable (retried), never as stored', async () => {
    c = open();
    rmSync(join(dir, 'fwd-1'), { recursive: true, force: true });
    writeFileSync(join(dir, 'fwd-1'), 'not a directory');
    expect((await c.send([c.encode(eventItem())], signal())).kind).toBe('unavailable');
  });
});
