import { createReadStream, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { ChainVerifier, parseChainKeys, type ChainVerifyResult } from '@vigil/contracts';
import { HELP_OPTION, commandArgs } from './args';

const USAGE = `usage: vigil-tools verify <file|dir>... (--key-file <file> | env VIGIL_CHAIN_KEYS) [--require-genesis]

Checks archived JSON-lines streams written by the siem-forwarder archive sink (hash chain: seq, prev,
HMAC-SHA256) and reports the first modified, deleted, inserted or reordered record.
A directory stands for its *.jsonl files in name order (day files of one stream). Files are read
in the order given, so give a stream's files oldest first.
Key file: key_id=base64secret, one per line or comma-separated (every key the chain used).
Exit codes: 0 intact, 1 tampering or unreadable records found, 2 usage or key problem.
`;

/** The files to read, in order: files as given, directories expanded to their .jsonl files by name. */
export function expandInputs(paths: readonly string[]): string[] {
  const out: string[] = [];
  for (const p of paths) {
    if (statSync(p).isDirectory()) {
      for (const n of readdirSync(p)
        .filter((x) => x.endsWith('.jsonl'))
        .sort())
        out.push(join(p, n));
    } else out.push(p);
  }
  return out;
}

/** Verifies files in order; never throws for bad content (that is the report), only for I/O. */
export async function verifyFiles(
  files: readonly string[],
  keys: ReadonlyMap<string, Buffer>,
  requireGenesis: boolean,
): Promise<ChainVerifyResult> {
  const v = new ChainVerifier(keys, { requireGenesis });
  for (const file of files) {
    const rl = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
    let line = 0;
    let going = true;
    for await (const text of rl) {
      line++;
      if (going) going = v.push({ file, line, text });
    }
    if (!going) break;
  }
  return v.end();
}

export async function verifyMain(args: string[], env: Record<string, string | undefined> = process.env): Promise<number> {
  const parsed = commandArgs(USAGE, () =>
    parseArgs({
      args,
      allowPositionals: true,
      options: { 'key-file': { type: 'string' }, 'require-genesis': { type: 'boolean' }, help: HELP_OPTION },
    }),
  );
  if (typeof parsed === 'number') return parsed;
  const paths = parsed.positionals;
  const keyFile = parsed.values['key-file'];
  const requireGenesis = parsed.values['require-genesis'] ?? false;
  let keyText: string | undefined;
  try {
    keyText = keyFile
      ? readFileSync(keyFile, 'utf8')
      : env.VIGIL_CHAIN_KEYS_FILE
        ? readFileSync(env.VIGIL_CHAIN_KEYS_FILE, 'utf8')
        : env.VIGIL_CHAIN_KEYS;
  } catch (err) {
    process.stderr.write(`cannot read the key file: ${(err as NodeJS.ErrnoException).code ?? String(err)}\n`);
    return 2;
  }
  if (!keyText) {
    process.stderr.write(`no keys: pass --key-file or set VIGIL_CHAIN_KEYS\n${USAGE}`);
    return 2;
  }
  let keys: Map<string, Buffer>;
  try {
    keys = parseChainKeys(keyText);
  } catch (err) {
    process.stderr.write(`invalid keys: ${(err as Error).message}\n`);
    return 2;
  }
  let files: string[];
  try {
    files = expandInputs(paths);
  } catch (err) {
    process.stderr.write(
      `cannot read ${(err as NodeJS.ErrnoException).path ?? ''}: ${(err as NodeJS.ErrnoException).code ?? String(err)}\n`,
    );
    return 2;
  }
  const r = await verifyFiles(files, keys, requireGenesis);
  for (const [stream, s] of Object.entries(r.streams)) {
    process.stdout.write(`${stream}: seq ${s.firstSeq}..${s.lastSeq}, key ${s.keyId}, ${s.rotations} rotation(s), head ${s.lastMac}\n`);
  }
  for (const stream of r.anchoredStarts) {
    process.stdout.write(
      `note: ${stream} does not start at seq 1 here; records before it were not checked (use --require-genesis to insist)\n`,
    );
  }
  if (!r.ok) {
    const p = r.problem!;
    process.stdout.write(`TAMPERED: ${p.kind} at ${p.file}:${p.line}: ${p.message}\n`);
    return 1;
  }
  process.stdout.write(`OK: ${r.records} record(s) in ${files.length} file(s) verified\n`);
  return 0;
}
