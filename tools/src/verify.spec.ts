import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ChainWriter, chainLine, type ChainRecord } from '@vigil/contracts';

const CLI = resolve(__dirname, '..', 'dist', 'cli.js');
const K1 = Buffer.alloc(32, 4);
const K2 = Buffer.alloc(32, 5);
const KEYS = new Map([
  ['k1', K1],
  ['k2', K2],
]);

function cli(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 30_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** Two day files of one stream, with a key rotation in the second, as the archive sink writes them. */
function archive(dir: string): string[] {
  const w = new ChainWriter('fwd-1/events', KEYS, null, 'k1');
  const day1 = w.batch(
    [1, 2, 3, 4].map((n) => ({ event_id: `e${n}`, n })),
    '2026-11-29T10:00:00.000Z',
  );
  w.commit(day1);
  const rot = w.rotation('k2', '2026-11-30T00:00:00.000Z');
  w.commit([rot]);
  const day2 = w.batch(
    [5, 6].map((n) => ({ event_id: `e${n}`, n })),
    '2026-11-30T00:00:01.000Z',
  );
  w.commit(day2);
  mkdirSync(dir, { recursive: true });
  const f1 = join(dir, '2026-11-29.jsonl');
  const f2 = join(dir, '2026-11-30.jsonl');
  writeFileSync(f1, day1.map((r) => `${chainLine(r)}\n`).join(''));
  writeFileSync(f2, [rot, ...day2].map((r) => `${chainLine(r)}\n`).join(''));
  return [f1, f2];
}

const lines = (f: string) => readFileSync(f, 'utf8').trimEnd().split('\n');
const write = (f: string, ls: string[]) => writeFileSync(f, `${ls.join('\n')}\n`);
const edit = (l: string, fn: (r: ChainRecord) => void) => {
  const r = JSON.parse(l) as ChainRecord;
  fn(r);
  return JSON.stringify(r);
};

describe('vigil-tools verify (the built CLI)', () => {
  let dir: string;
  let keyFile: string;
  let files: string[];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-verify-'));
    keyFile = join(dir, 'keys');
    writeFileSync(keyFile, `# archive keys\nk1=${K1.toString('base64')}\nk2=${K2.toString('base64')}\n`);
    files = archive(join(dir, 'events'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reports an intact archive (files or their directory) and its head, exit 0', () => {
    const r = cli(['verify', ...files, '--key-file', keyFile, '--require-genesis']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/fwd-1\/events: seq 1\.\.7, key k2, 1 rotation/);
    expect(r.out).toMatch(/OK: 7 record\(s\) in 2 file\(s\)/);
    expect(cli(['verify', join(dir, 'events')], { VIGIL_CHAIN_KEYS: `k1=${K1.toString('base64')},k2=${K2.toString('base64')}` }).code).toBe(
      0,
    );
  });

  it.each<[string, (f: string[]) => void, RegExp]>([
    [
      'a modified record',
      (f) =>
        write(
          f[0]!,
          lines(f[0]!).map((l, i) => (i === 1 ? l.replace('"e2"', '"e9"') : l)),
        ),
      /TAMPERED: modified at .*2026-11-29\.jsonl:2/,
    ],
    [
      'a deleted record',
      (f) =>
        write(
          f[0]!,
          lines(f[0]!).filter((_, i) => i !== 2),
        ),
      /TAMPERED: deleted at .*2026-11-29\.jsonl:3: record 3 is missing/,
    ],
    [
      'an inserted record',
      (f) =>
        write(f[0]!, [
          ...lines(f[0]!).slice(0, 2),
          edit(lines(f[0]!)[1]!, (r) => ((r.seq = 3), (r.data = { forged: 1 }))),
          ...lines(f[0]!).slice(2),
        ]),
      /TAMPERED: inserted at .*2026-11-29\.jsonl:3/,
    ],
    [
      'reordered records',
      (f) => write(f[0]!, [lines(f[0]!)[0]!, lines(f[0]!)[2]!, lines(f[0]!)[1]!, lines(f[0]!)[3]!]),
      /TAMPERED: reordered at .*2026-11-29\.jsonl:2/,
    ],
    ['a deleted first day file', (f) => rmSync(f[0]!), /TAMPERED: deleted at .*2026-11-30\.jsonl:1/],
    [
      'a record after the rotation signed with the old key',
      (f) =>
        write(
          f[1]!,
          lines(f[1]!).map((l, i) => (i === 1 ? edit(l, (r) => (r.key_id = 'k1')) : l)),
        ),
      /TAMPERED: modified at .*2026-11-30\.jsonl:2/,
    ],
  ])('finds %s, exit 1', (_n, tamper, expected) => {
    tamper(files);
    const r = cli([
      'verify',
      ...files.filter((f) => {
        try {
          readFileSync(f);
          return true;
        } catch {
          return false;
        }
      }),
      '--key-file',
      keyFile,
      '--require-genesis',
    ]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(expected);
  });

  it('without the new key it cannot vouch for records after the rotation, exit 1', () => {
    writeFileSync(keyFile, `k1=${K1.toString('base64')}\n`);
    const r = cli(['verify', ...files, '--key-file', keyFile]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/TAMPERED: unknown_key at .*2026-11-30\.jsonl:2/);
  });

  it('usage problems exit 2', () => {
    expect(cli(['verify', ...files]).code).toBe(2); // no keys
    expect(cli(['verify', '--key-file', keyFile]).code).toBe(2); // no files
    const dangling = cli(['verify', ...files, '--key-file']); // option without its value
    expect([dangling.code, dangling.err]).toEqual([2, expect.stringMatching(/--key-file/)]);
    expect(cli(['verify', ...files, '--keyfile', keyFile]).err).toMatch(/Unknown option '--keyfile'/);
    writeFileSync(keyFile, 'k1=c2hvcnQ=\n');
    expect(cli(['verify', ...files, '--key-file', keyFile]).err).toMatch(/32 bytes/);
  });
});
