import { isUtf8 } from 'node:buffer';
import type { z } from 'zod';
import type { DlqErrorKind, Issue } from './dlq';

/** Limits every consumer applies before a message reaches a schema. */
export interface DecodeLimits {
  /** Largest accepted message, in bytes. */
  readonly maxBytes: number;
  /** Deepest accepted nesting of objects and arrays (the top-level object is depth 1). */
  readonly maxDepth: number;
}

export const DEFAULT_DECODE_LIMITS: DecodeLimits = {
  maxBytes: 1024 * 1024, // 1 MiB
  maxDepth: 32,
};

/** Keys that could reach Object.prototype through a careless merge further down. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

export type DecodeFailure = { ok: false; kind: DlqErrorKind; reason: string; issues: Issue[] };
export type DecodeResult = { ok: true; value: Record<string, unknown> } | DecodeFailure;

function fail(kind: DlqErrorKind, reason: string, path = ''): DecodeFailure {
  return { ok: false, kind, reason, issues: [{ path, message: reason }] };
}

/**
 * Turns untrusted bytes into a plain JSON object, or says precisely why not.
 * Never throws: every input ends in a value or a classified failure.
 */
export function decodeJsonObject(bytes: Buffer | null, limits: DecodeLimits = DEFAULT_DECODE_LIMITS): DecodeResult {
  if (bytes === null || bytes.length === 0) return fail('invalid_json', 'message is empty');
  if (bytes.length > limits.maxBytes) {
    return fail('too_large', `message is ${bytes.length} bytes, over the ${limits.maxBytes}-byte limit`);
  }
  if (!isUtf8(bytes)) return fail('invalid_utf8', 'message is not valid UTF-8');
  const text = bytes.toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    return fail('invalid_json', `message is not JSON: ${(err as Error).message.slice(0, 200)}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    const got = parsed === null ? 'null' : Array.isArray(parsed) ? 'an array' : typeof parsed;
    return fail('not_an_object', `message must be a JSON object, got ${got}`);
  }
  // A NUL, or a key spelled with \u escapes, can only come from a \u escape in the text, and a
  // forbidden key only from its name in the text: most events skip those checks entirely.
  const escapes = text.includes('\\u');
  const checks: Checks = {
    maxDepth: limits.maxDepth,
    nul: escapes,
    keys: escapes || text.includes('__proto__') || text.includes('constructor') || text.includes('prototype'),
  };
  // Nesting deeper than maxDepth needs more than maxDepth opening brackets in the text (brackets
  // inside strings only add to the count), so with no escapes or key names to look for, a text
  // with few brackets skips the walk.
  if (!checks.nul && !checks.keys && openings(text, limits.maxDepth) <= limits.maxDepth)
    return { ok: true, value: parsed as Record<string, unknown> };
  const problem = inspect(parsed, checks);
  return problem ?? { ok: true, value: parsed as Record<string, unknown> };
}

/** How many `{` and `[` the text holds, counting no further than one past `max`. */
function openings(text: string, max: number): number {
  let n = 0;
  for (const bracket of ['{', '[']) {
    let i = text.indexOf(bracket);
    while (i !== -1 && n <= max) {
      n++;
      i = text.indexOf(bracket, i + 1);
    }
  }
  return n;
}

interface Checks {
  maxDepth: number;
  nul: boolean;
  keys: boolean;
}

/**
 * Iterative walk (no recursion, so hostile nesting cannot overflow the stack) that builds no path
 * strings: on the hot path events pass, and only a failure pays for locating itself.
 */
function inspect(root: object, checks: Checks): DecodeFailure | null {
  const nodes: unknown[] = [root];
  const depths: number[] = [1];
  while (nodes.length > 0) {
    const node = nodes.pop();
    const depth = depths.pop()!;
    if (typeof node === 'string') {
      if (node.includes('\u0000')) return locate(root, checks, 'nul_byte');
      continue;
    }
    if (node === null || typeof node !== 'object') continue;
    if (depth > checks.maxDepth) return locate(root, checks, 'too_deep');
    if (Array.isArray(node)) {
      for (const child of node) {
        if (typeof child === 'object' ? child !== null : checks.nul && typeof child === 'string') {
          nodes.push(child);
          depths.push(depth + 1);
        }
      }
      continue;
    }
    for (const key of Object.keys(node)) {
      if (checks.keys && (FORBIDDEN_KEYS.has(key) || key.includes('\u0000')))
        return locate(root, checks, FORBIDDEN_KEYS.has(key) ? 'forbidden_key' : 'nul_byte');
      const child = (node as Record<string, unknown>)[key];
      if (typeof child === 'object' ? child !== null : checks.nul && typeof child === 'string') {
        nodes.push(child);
        depths.push(depth + 1);
      }
    }
  }
  return null;
}

/** Finds the first offending node's path (depth-first, bounded by maxDepth + 1 levels). */
function locate(root: object, checks: Checks, kind: 'nul_byte' | 'too_deep' | 'forbidden_key'): DecodeFailure {
  const search = (node: unknown, depth: number, path: string): DecodeFailure | null => {
    if (typeof node === 'string')
      return kind === 'nul_byte' && node.includes('\u0000') ? fail(kind, `NUL byte in string at "${path}"`, path) : null;
    if (node === null || typeof node !== 'object') return null;
    if (depth > checks.maxDepth)
      return kind === 'too_deep' ? fail(kind, `nesting deeper than ${checks.maxDepth} levels at "${path}"`, path) : null;
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) {
        const r = search(node[i], depth + 1, `${path}[${i}]`);
        if (r) return r;
      }
      return null;
    }
    for (const key of Object.keys(node)) {
      const childPath = path ? `${path}.${key}` : key;
      if (kind === 'forbidden_key' && FORBIDDEN_KEYS.has(key)) return fail(kind, `forbidden key "${key}" at "${childPath}"`, childPath);
      if (kind === 'nul_byte' && key.includes('\u0000')) return fail(kind, `NUL byte in key at "${path}"`, path);
      const r = search((node as Record<string, unknown>)[key], depth + 1, childPath);
      if (r) return r;
    }
    return null;
  };
  return search(root, 1, '') ?? fail(kind, 'message failed a structural check');
}

/** zod issues as dotted paths and messages, for DLQ records and API answers. */
export function toIssues(error: z.ZodError): Issue[] {
  return error.issues.slice(0, 100).map((i) => ({
    path: i.path
      .map((p) => (typeof p === 'number' ? `[${p}]` : String(p)))
      .join('.')
      .replace(/\.\[/g, '['),
    message: i.message,
  }));
}

/** One readable line: "source.ip: must be an IPv4 or IPv6 address; severity: ...". */
export function describeIssues(issues: readonly Issue[], max = 5): string {
  const shown = issues.slice(0, max).map((i) => (i.path ? `${i.path}: ${i.message}` : i.message));
  const more = issues.length > max ? `; and ${issues.length - max} more` : '';
  return shown.join('; ') + more;
}

/**
 * A versioned contract read from untrusted bytes: decodeJsonObject, then `schema_version` must be
 * the one this reader knows (anything else is `unsupported_schema_version`, never a guess), then
 * the schema. `reader` names who reads, for the reason ("this router reads alert version 1").
 * `isCanonical`, when given, may answer yes for a value the schema would accept unchanged, which
 * then skips the schema (see isCanonicalSecurityEvent); its no always falls through to the schema.
 * Never throws.
 */
export function decodeVersioned<T>(
  bytes: Buffer | null,
  schema: z.ZodType<T>,
  version: number,
  reader: string,
  limits: DecodeLimits = DEFAULT_DECODE_LIMITS,
  isCanonical?: (value: Record<string, unknown>) => boolean,
): { ok: true; value: T } | DecodeFailure {
  const decoded = decodeJsonObject(bytes, limits);
  if (!decoded.ok) return decoded;
  const found = decoded.value.schema_version;
  if (found !== version) {
    const reason = `schema_version ${JSON.stringify(found ?? null).slice(0, 40)} is not supported (${reader} reads version ${version})`;
    return fail('unsupported_schema_version', reason, 'schema_version');
  }
  if (isCanonical?.(decoded.value)) return { ok: true, value: decoded.value as T };
  const parsed = schema.safeParse(decoded.value);
  if (!parsed.success) {
    const issues = toIssues(parsed.error);
    return { ok: false, kind: 'schema_violation', reason: describeIssues(issues), issues };
  }
  return { ok: true, value: parsed.data };
}
