import { CHAIN_GENESIS, ChainVerifier, ChainWriter, chainLine, parseChainKeys, type ChainRecord } from './hash-chain';

const K1 = Buffer.alloc(32, 1);
const K2 = Buffer.alloc(32, 2);
const KEYS = new Map([
  ['k1', K1],
  ['k2', K2],
]);
const AT = '2026-11-29T10:00:00.000Z';

function stream(n: number, name = 'events'): string[] {
  const w = new ChainWriter(name, KEYS, null, 'k1');
  const recs = w.batch(
    Array.from({ length: n }, (_, i) => ({ event_id: `e${i + 1}`, n: i + 1 })),
    AT,
  );
  w.commit(recs);
  return recs.map(chainLine);
}

function verify(lines: string[], opts: { requireGenesis?: boolean } = {}, keys = KEYS) {
  const v = new ChainVerifier(keys, opts);
  lines.forEach((text, i) => v.push({ file: 'f.jsonl', line: i + 1, text }));
  return v.end();
}

const edit = (line: string, f: (r: ChainRecord) => void): string => {
  const r = JSON.parse(line) as ChainRecord;
  f(r);
  return JSON.stringify(r);
};

describe('hash chain', () => {
  it('an untouched stream verifies, starting from the genesis, and reports its head', () => {
    const lines = stream(5);
    expect(JSON.parse(lines[0]!).prev).toBe(CHAIN_GENESIS);
    const r = verify(lines, { requireGenesis: true });
    expect(r.ok).toBe(true);
    expect(r.records).toBe(5);
    expect(r.streams.events).toMatchObject({ firstSeq: 1, lastSeq: 5, lastMac: JSON.parse(lines[4]!).mac });
  });

  it.each<[string, (l: string[]) => string[], string, number]>([
    ['a changed field', (l) => l.map((x, i) => (i === 2 ? edit(x, (r) => ((r.data as { n: number }).n = 99)) : x)), 'modified', 3],
    ['a changed seq', (l) => l.map((x, i) => (i === 2 ? edit(x, (r) => (r.seq = 7)) : x)), 'modified', 3],
    ['a removed record', (l) => l.filter((_, i) => i !== 2), 'deleted', 3],
    ['several removed records', (l) => [l[0]!, l[4]!], 'deleted', 2],
    [
      'a forged record put in',
      (l) => [...l.slice(0, 2), edit(l[1]!, (r) => ((r.seq = 3), (r.data = { forged: true }))), ...l.slice(2)],
      'inserted',
      3,
    ],
    ['an authentic record copied in again', (l) => [...l.slice(0, 4), l[1]!, l[4]!], 'inserted', 5],
    ['two records swapped', (l) => [l[0]!, l[2]!, l[1]!, l[3]!, l[4]!], 'reordered', 2],
    ['a record moved to the end', (l) => [l[0]!, l[2]!, l[3]!, l[4]!, l[1]!], 'reordered', 2],
    ['a line that is not JSON', (l) => [...l.slice(0, 3), '{"v":1,"stream"', ...l.slice(3)], 'malformed', 4],
  ])('%s is reported', (_name, tamper, kind, line) => {
    const r = verify(tamper(stream(5)));
    expect(r.ok).toBe(false);
    expect(r.problem).toMatchObject({ kind, line, file: 'f.jsonl' });
    expect(r.problem!.message.length).toBeGreaterThan(10);
  });

  it('a record spliced in from another stream with the same key breaks the link', () => {
    const a = stream(3, 'events');
    const b = stream(3, 'alerts').map((l) => edit(l, (r) => (r.stream = 'events')));
    // b's records now claim stream "events" but their MAC covered "alerts": modified.
    expect(verify([a[0]!, b[1]!, a[2]!]).problem?.kind).toBe('modified');
  });

  it('a stream that does not start at seq 1 is anchored unless the genesis is required', () => {
    const lines = stream(5).slice(2);
    const r = verify(lines);
    expect(r.ok).toBe(true);
    expect(r.anchoredStarts).toEqual(['events']);
    expect(verify(lines, { requireGenesis: true }).problem).toMatchObject({ kind: 'deleted', line: 1 });
  });

  it('interleaved streams are checked each on its own', () => {
    const a = stream(3, 'events');
    const b = stream(3, 'alerts');
    expect(verify([a[0]!, b[0]!, a[1]!, b[1]!, b[2]!, a[2]!]).ok).toBe(true);
  });

  describe('key rotation', () => {
    function rotated(): string[] {
      const w = new ChainWriter('events', KEYS, null, 'k1');
      const lines: string[] = [];
      const first = w.batch([{ n: 1 }, { n: 2 }], AT);
      w.commit(first);
      const rot = w.rotation('k2', AT);
      w.commit([rot]);
      const after = w.batch([{ n: 3 }], AT);
      w.commit(after);
      for (const r of [...first, rot, ...after]) lines.push(chainLine(r));
      return lines;
    }

    it('a rotate record signed with the old key hands the chain to the new key', () => {
      const lines = rotated();
      expect(JSON.parse(lines[2]!)).toMatchObject({ kind: 'rotate', key_id: 'k1', data: { next_key_id: 'k2' } });
      expect(JSON.parse(lines[3]!).key_id).toBe('k2');
      const r = verify(lines);
      expect(r.ok).toBe(true);
      expect(r.streams.events).toMatchObject({ keyId: 'k2', rotations: 1 });
    });

    it('needs both keys to verify across the rotation', () => {
      expect(verify(rotated(), {}, new Map([['k1', K1]])).problem?.kind).toBe('unknown_key');
    });

    it('a key change without a rotate record is reported', () => {
      const w1 = new ChainWriter('events', KEYS, null, 'k1');
      const a = w1.next({ n: 1 }, AT);
      const w2 = new ChainWriter('events', KEYS, { seq: 1, mac: a.mac, keyId: 'k2' }, 'k2');
      const b = w2.next({ n: 2 }, AT);
      expect(verify([chainLine(a), chainLine(b)]).problem).toMatchObject({ kind: 'key_change_without_rotation', line: 2 });
    });
  });

  it('the writer refuses a head whose key is not configured, and commits only records that follow the head', () => {
    expect(() => new ChainWriter('events', KEYS, { seq: 3, mac: CHAIN_GENESIS, keyId: 'gone' }, 'k1')).toThrow(/gone/);
    const w = new ChainWriter('events', KEYS, null, 'k1');
    const [r1, r2] = w.batch([{}, {}], AT);
    expect(() => w.commit([r2!])).toThrow(/does not follow/);
    w.commit([r1!, r2!]);
    expect(w.current.seq).toBe(2);
  });

  it('parses key files and refuses short or unnamed keys', () => {
    expect([...parseChainKeys(`# comment\nk1=${K1.toString('base64')}\nk2=${K2.toString('base64')}`).keys()]).toEqual(['k1', 'k2']);
    expect(() => parseChainKeys(`k1=${Buffer.alloc(8).toString('base64')}`)).toThrow(/32 bytes/);
    expect(() => parseChainKeys(`=${K1.toString('base64')}`)).toThrow(/key_id=base64secret/);
  });
});
