import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { compileRuleSet } from '@vigil/correlation/dist/domain/compile';
import {
  DEFAULT_SIGMA_MAPPING,
  MAX_SIGMA_FILE_BYTES,
  SigmaMappingSchema,
  mergeMappings,
  parseSigmaFile,
  translateSigma,
  type SigmaDocument,
  type SigmaImport,
  type SigmaMapping,
} from '@vigil/correlation/dist/sigma';
import { parse as parseYaml } from 'yaml';
import { HELP_OPTION, commandArgs } from './args';

const USAGE = `usage: vigil-tools sigma import <folder|file>... [--out <dir>] [--mapping <file>]

Translates Sigma detection and correlation rules (*.yml, *.yaml; folders are read recursively) into
Vigil correlation rules. Rules that Vigil cannot evaluate exactly as Sigma defines them are refused
with the reason and the line. Accepted rules are written to --out (one <rule id>.yaml each), ready
for CORRELATION_RULES_DIR. --mapping adds field, keyword and logsource mappings to the default
(docs/sigma.md). Exit codes: 0 all accepted, 1 some refused, 2 usage or unreadable input.
`;

const MAX_FILES = 5000;

function collect(path: string, out: string[]): void {
  const st = statSync(path);
  if (st.isDirectory()) {
    for (const name of readdirSync(path).sort()) {
      if (name.startsWith('.')) continue;
      collect(join(path, name), out);
      if (out.length > MAX_FILES) throw new Error(`more than ${MAX_FILES} rule files`);
    }
  } else if (/\.ya?ml$/i.test(path)) out.push(path);
}

export function loadMapping(file: string | undefined): SigmaMapping {
  if (!file) return DEFAULT_SIGMA_MAPPING;
  const doc: unknown = parseYaml(readFileSync(file, 'utf8'), { maxAliasCount: 100, uniqueKeys: true });
  const r = SigmaMappingSchema.safeParse(doc ?? {});
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new Error(`${file}: ${i.path.join('.') || '(mapping)'}: ${i.message}`);
  }
  return mergeMappings(DEFAULT_SIGMA_MAPPING, r.data);
}

/** Reads the files and translates them all together (correlations may refer to rules in other files). */
export function importSigma(paths: readonly string[], mapping: SigmaMapping): { result: SigmaImport; files: number } {
  const files: string[] = [];
  for (const p of paths) collect(p, files);
  const docs: SigmaDocument[] = [];
  const tooBig: SigmaImport['refused'] = [];
  for (const f of files) {
    const size = statSync(f).size;
    if (size > MAX_SIGMA_FILE_BYTES) {
      tooBig.push({ file: f, line: 1, title: '(file)', reason: `file is ${size} bytes, over the ${MAX_SIGMA_FILE_BYTES}-byte limit` });
      continue;
    }
    docs.push(...parseSigmaFile(f, readFileSync(f, 'utf8')));
  }
  const result = translateSigma(docs, mapping);
  return { result: { accepted: result.accepted, refused: [...tooBig, ...result.refused] }, files: files.length };
}

export async function sigmaMain(args: string[]): Promise<number> {
  const [cmd, ...rest] = args;
  if (cmd !== 'import') {
    process.stderr.write(USAGE);
    return 2;
  }
  const parsed = commandArgs(USAGE, () =>
    parseArgs({ args: rest, allowPositionals: true, options: { out: { type: 'string' }, mapping: { type: 'string' }, help: HELP_OPTION } }),
  );
  if (typeof parsed === 'number') return parsed;
  const inputs = parsed.positionals;
  const { out, mapping: mappingFile } = parsed.values;
  let mapping: SigmaMapping;
  let imported: ReturnType<typeof importSigma>;
  try {
    mapping = loadMapping(mappingFile);
    imported = importSigma(inputs, mapping);
  } catch (err) {
    process.stderr.write(`error: ${(err as Error).message}\n`);
    return 2;
  }
  const { result, files } = imported;
  // The accepted set must load together (ids unique, every rule valid), as the engine will load it.
  const check = compileRuleSet(result.accepted.map((a) => ({ file: a.file, document: a.rule })));
  if (!check.ok) {
    process.stderr.write(`error: the imported rules do not load together: ${check.errors.map((e) => e.message).join('; ')}\n`);
    return 2;
  }
  if (out) mkdirSync(out, { recursive: true });
  for (const a of result.accepted) {
    const where = `${a.file}:${a.line}`;
    let dest = '';
    if (out) {
      dest = join(out, `${a.rule.id}.yaml`);
      const header = `# Imported from Sigma: ${a.title}${a.sigmaId ? ` (${a.sigmaId})` : ''}\n# Source: ${relative(out, a.file)}:${a.line}\n`;
      writeFileSync(dest, header + stringify(a.rule, { lineWidth: 0 }));
    }
    process.stdout.write(`accepted  ${where}  ${a.title}  -> ${dest || a.rule.id}\n`);
  }
  for (const r of result.refused) process.stdout.write(`refused   ${r.file}:${r.line}  ${r.title}: ${r.reason}\n`);
  process.stdout.write(`${files} file(s): ${result.accepted.length} rule(s) accepted, ${result.refused.length} refused\n`);
  return result.refused.length > 0 ? 1 : 0;
}
