import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { toIssues } from '@vigil/contracts';
import type { Problem, SecretReader } from '../channels/config-common';
import { ReceiverSpecSchema, resolveReceiver, type Receiver } from '../channels/registry';
import { parseDuration } from '../domain/duration';
import { buildInhibitRules, type InhibitRule } from '../domain/inhibit';
import { InhibitRuleSpecSchema, RouteSpecSchema, buildRouteTree, type Route } from '../domain/routes';

export const MAX_ROUTES_FILE_BYTES = 1024 * 1024;

const DurationText = z.string().refine((v) => parseDuration(v) !== null, { message: 'must be a duration such as 30s, 5m, 4h' });

/** The routes file. */
export const RoutesFileSchema = z.strictObject({
  global: z
    .strictObject({
      /** An alert counts as firing this long after it was created, unless it fires again. */
      resolve_timeout: DurationText.default('5m'),
      /** Most alerts (dedup keys) kept per group. */
      max_alerts_per_group: z.number().int().min(1).max(10_000).default(1_000),
    })
    .default({ resolve_timeout: '5m', max_alerts_per_group: 1_000 }),
  route: RouteSpecSchema,
  receivers: z.array(ReceiverSpecSchema).min(1).max(100),
  inhibit_rules: z.array(InhibitRuleSpecSchema).max(100).default([]),
});

/** A loaded, validated routing configuration. */
export interface RoutingConfig {
  readonly file: string;
  /** sha256 of the file bytes, first 12 hex digits: which version is running (logs, metrics). */
  readonly version: string;
  readonly route: Route;
  readonly receivers: ReadonlyMap<string, Receiver>;
  readonly inhibitRules: readonly InhibitRule[];
  readonly resolveTimeoutMs: number;
  readonly maxAlertsPerGroup: number;
}

/** A routes file that cannot be used: every problem names the file and the path inside it. */
export class RoutesFileError extends Error {
  constructor(
    readonly file: string,
    readonly problems: Problem[],
  ) {
    super(
      `${basename(file)}: ${problems.length === 1 ? '' : `${problems.length} problems: `}${problems.map((p) => (p.path ? `${p.path}: ${p.message}` : p.message)).join('; ')}`,
    );
    this.name = 'RoutesFileError';
  }
}

/** Parses and validates routes-file text. `read` resolves ${NAME} secrets (env or NAME_FILE). */
export function parseRoutesText(file: string, text: string, read: SecretReader): RoutingConfig {
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true, strict: true });
  if (doc.errors.length > 0) {
    throw new RoutesFileError(
      file,
      doc.errors.slice(0, 5).map((e) => ({
        path: e.linePos ? `line ${e.linePos[0].line}, column ${e.linePos[0].col}` : '',
        message: e.message.split('\n')[0]!,
      })),
    );
  }
  const raw: unknown = doc.toJS({ maxAliasCount: 100 });
  const parsed = RoutesFileSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = toIssues(parsed.error);
    throw new RoutesFileError(
      file,
      issues.slice(0, 10).map((i) => ({ path: i.path, message: i.message })),
    );
  }
  const spec = parsed.data;
  const problems: Problem[] = [];
  const receivers = new Map<string, Receiver>();
  spec.receivers.forEach((r, i) => {
    if (receivers.has(r.name)) problems.push({ path: `receivers[${i}].name`, message: `receiver "${r.name}" is defined twice` });
    receivers.set(r.name, resolveReceiver(r, `receivers[${i}]`, read, problems));
  });
  const tree = buildRouteTree(spec.route, new Set(receivers.keys()));
  if (!tree.ok) problems.push(...tree.problems);
  if (problems.length > 0 || !tree.ok) throw new RoutesFileError(file, problems);
  return {
    file,
    version: createHash('sha256').update(text).digest('hex').slice(0, 12),
    route: tree.route,
    receivers,
    inhibitRules: buildInhibitRules(spec.inhibit_rules),
    resolveTimeoutMs: parseDuration(spec.global.resolve_timeout)!,
    maxAlertsPerGroup: spec.global.max_alerts_per_group,
  };
}

/** Reads and validates the routes file. Throws RoutesFileError naming the file and the path. */
export function loadRoutesFile(file: string, read: SecretReader): RoutingConfig {
  let text: string;
  try {
    const size = statSync(file).size;
    if (size > MAX_ROUTES_FILE_BYTES)
      throw new RoutesFileError(file, [{ path: '', message: `file is ${size} bytes, over the ${MAX_ROUTES_FILE_BYTES}-byte limit` }]);
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof RoutesFileError) throw err;
    throw new RoutesFileError(file, [{ path: '', message: `cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}` }]);
  }
  return parseRoutesText(file, text, read);
}
