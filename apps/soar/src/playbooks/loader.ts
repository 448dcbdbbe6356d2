import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { describeIssues, toIssues, type ResponseAction } from '@vigil/contracts';
import { ACTION_SPECS, PlaybookSchema, type ConnectorName, type Playbook } from '../domain/playbook';

/** A playbook file that cannot be used: the message names the file and the path inside it. */
export class PlaybookError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PlaybookError';
  }
}

const MAX_FILE_BYTES = 256 * 1024;
const MAX_FILES = 500;

/** Parses and validates one playbook document; `file` only labels errors. */
export function parsePlaybook(
  text: string,
  file: string,
  connectors: { available: ReadonlySet<ConnectorName>; defaults: Readonly<Record<ResponseAction, ConnectorName>> },
): Playbook {
  const lines = new LineCounter();
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false, lineCounter: lines });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const at = lines.linePos(e.pos[0]);
    const line = ` (line ${at.line}, column ${at.col})`;
    throw new PlaybookError(`${file}: YAML${line}: ${e.message.split('\n')[0]}`);
  }
  const result = PlaybookSchema.safeParse(doc.toJS({ maxAliasCount: 50 }));
  if (!result.success) throw new PlaybookError(`${file}: ${describeIssues(toIssues(result.error), 3)}`);
  const pb = result.data;
  pb.steps.forEach((s, i) => {
    const connector = s.connector ?? connectors.defaults[s.action];
    if (!connectors.available.has(connector)) {
      throw new PlaybookError(
        `${file}: steps[${i}].connector: ${s.action} would run on ${connector}, which is not configured (${ACTION_SPECS[s.action].connectors.join(', ')})`,
      );
    }
  });
  return pb;
}

/**
 * Loads every *.yaml / *.yml file in the folder, in name order. Any bad file stops start-up with a
 * message naming it; two playbooks with one id are refused.
 */
export function loadPlaybooks(
  dir: string,
  connectors: { available: ReadonlySet<ConnectorName>; defaults: Readonly<Record<ResponseAction, ConnectorName>> },
): Playbook[] {
  let names: string[];
  try {
    names = readdirSync(dir)
      .filter((n) => /\.ya?ml$/i.test(n))
      .sort();
  } catch (err) {
    throw new PlaybookError(`${dir}: cannot read the playbook folder (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  if (names.length > MAX_FILES) throw new PlaybookError(`${dir}: ${names.length} playbook files, more than ${MAX_FILES}`);
  const seen = new Map<string, string>();
  const out: Playbook[] = [];
  for (const name of names) {
    const file = join(dir, name);
    const size = statSync(file).size;
    if (size > MAX_FILE_BYTES) throw new PlaybookError(`${file}: ${size} bytes, over the ${MAX_FILE_BYTES}-byte limit`);
    const pb = parsePlaybook(readFileSync(file, 'utf8'), file, connectors);
    const other = seen.get(pb.id);
    if (other) throw new PlaybookError(`${file}: id: "${pb.id}" is already used by ${other}`);
    seen.set(pb.id, file);
    out.push(pb);
  }
  return out;
}
