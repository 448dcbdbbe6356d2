/**
 * The benches' baseline is a pass-through on kafkajs 2.2.4 as published. Vigil installs kafkajs
 * with its own patch (patches/kafkajs@2.2.4.patch: faster record encoding and decoding, and two
 * upstream bugs fixed), and a baseline on the patched copy would move every time Vigil improves
 * its client. This makes the published copy once: the installed package copied to a folder of the
 * system's temporary directory (outside any git checkout) and the patch reversed there with
 * `git apply -R` (git is there wherever the repository was cloned; no shell, fixed arguments).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { ROOT, startNode } from './lib';

const PATCH = join(ROOT, 'patches', 'kafkajs@2.2.4.patch');

/** Files under `dir` whose text carries the patch's marker comment. */
function patchedFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...patchedFiles(p));
    else if (p.endsWith('.js') && readFileSync(p, 'utf8').includes('Vigil patch')) out.push(p);
  }
  return out;
}

/** The directory of an unpatched kafkajs 2.2.4 (made on first use), for `require(dir)`. */
export function publishedKafkajs(): string {
  const patch = readFileSync(PATCH);
  const tag = createHash('sha256').update(patch).digest('hex').slice(0, 12);
  const dir = join(tmpdir(), `vigil-kafkajs-2.2.4-published-${tag}`);
  const done = join(dir, '.vigil-published');
  if (existsSync(done)) return dir;
  const installed = dirname(require.resolve('kafkajs/package.json'));
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dirname(dir), { recursive: true });
  cpSync(installed, dir, { recursive: true, dereference: true });
  const r = spawnSync('git', ['apply', '--reverse', PATCH], { cwd: dir, encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    throw new Error(`could not reverse ${PATCH} in ${dir} with git apply: ${r.error?.message ?? r.stderr ?? r.stdout}`);
  }
  const left = patchedFiles(join(dir, 'src'));
  if (left.length > 0) throw new Error(`reversing the patch left Vigil's changes in ${left.join(', ')}`);
  writeFileSync(done, `kafkajs 2.2.4 without ${PATCH} (${tag})\n`);
  return dir;
}

/**
 * The pass-throughs the benches run, in order: the baseline on kafkajs as published, then the same
 * on the copy Vigil installs (patched), for comparison.
 */
export function passthroughs(): Array<{ stage: string; kafkajsDir: string | undefined }> {
  return [
    { stage: 'kafkajs 2.2.4 pass-through, as published (baseline)', kafkajsDir: publishedKafkajs() },
    { stage: "kafkajs pass-through, with Vigil's patch", kafkajsDir: undefined },
  ];
}

/** Starts bench/dist/passthrough-worker.js: `from` → `to` in consumer group `group`. */
export function startPassthrough(from: string, to: string, group: string, kafkajsDir: string | undefined): ChildProcess {
  return startNode(`${ROOT}/bench/dist/passthrough-worker.js`, {
    FROM: from,
    TO: to,
    GROUP: group,
    ...(kafkajsDir ? { KAFKAJS_DIR: kafkajsDir } : {}),
  });
}
