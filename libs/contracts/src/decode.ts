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
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    return fail('invalid_json', `message is not JSON: ${(err as Error).message.slice(0, 200)}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    const got = parsed === null ? 'null' : Array.isArray(parsed) ? 'an array' : typeof parsed;
    return fail('not_an_object', `message must be a JSON object, got ${got}`);
  }
  const problem = inspect(parsed, limits.maxDepth);
  return problem ?? { ok: true, value: parsed as Record<string, unknown> };
}

/** Iterative walk (no recursion, so hostile nesting cannot overflow the stack). */
function inspect(root: object, maxDepth: number): DecodeFailure | null {
  const stack: Array<{ node: unknown; depth: number; path: string }> = [{ node: root, depth: 1, path: '' }];
  while (stack.length > 0) {
    const { node, depth, path } = stack.pop()!;
    if (typeof node === 'string') {
      if (node.includes('\u0000')) return fail('nul_byte', `NUL byte in string at "${path}"`, path);
      continue;
    }
    if (node === null || typeof node !== 'object') continue;
    if (depth > maxDepth) return fail('too_deep', `nesting deeper than ${maxDepth} levels at "${path}"`, path);
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) stack.push({ node: node[i], depth: depth + 1, path: `${path}[${i}]` });
      continue;
    }
    for (const key of Object.keys(node)) {
      const childPath = path ? `${path}.${key}` : key;
      if (FORBIDDEN_KEYS.has(key)) return fail('forbidden_key', `forbidden key "${key}" at "${childPath}"`, childPath);
      if (key.includes('\u0000')) return fail('nul_byte', `NUL byte in key at "${path}"`, path);
      stack.push({ node: (node as Record<string, unknown>)[key], depth: depth + 1, path: childPath });
    }
  }
  return null;
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
