/**
 * Step parameters taken from the alert: `{{ group["source.ip"] }}`, `{{ rule.name }}`,
 * `{{ sample_events[0].actor.user_id }}`. A path lookup and nothing else: no expressions, no
 * function calls, no eval; only own properties of plain objects and arrays are read.
 */
export type PathSegment = string | number;

export interface TemplatePart {
  /** Literal text, or a path into the alert. */
  text?: string;
  path?: PathSegment[];
}

export interface Template {
  source: string;
  parts: TemplatePart[];
  /** The whole value is one `{{ path }}`: the resolved value keeps its type (a number stays a number). */
  whole: boolean;
}

export const MAX_TEMPLATE_LENGTH = 1024;
const MAX_SEGMENTS = 16;
const MAX_EXPRESSIONS = 16;
const IDENT = /^[A-Za-z_][A-Za-z0-9_]{0,63}/;
const FORBIDDEN = new Set(['__proto__', 'prototype', 'constructor']);

export type TemplateResult<T> = { ok: true; value: T } | { ok: false; reason: string };

function parsePath(expr: string): TemplateResult<PathSegment[]> {
  let rest = expr.trim();
  const segments: PathSegment[] = [];
  const root = IDENT.exec(rest);
  if (!root) return { ok: false, reason: `"${expr.trim()}" must start with a field name` };
  segments.push(root[0]);
  rest = rest.slice(root[0].length);
  while (rest.length > 0) {
    if (segments.length >= MAX_SEGMENTS) return { ok: false, reason: `path is deeper than ${MAX_SEGMENTS} segments` };
    let m: RegExpExecArray | null;
    if ((m = /^\.([A-Za-z_][A-Za-z0-9_]{0,63})/.exec(rest))) segments.push(m[1]!);
    else if ((m = /^\[\s*"([^"\\]{1,256})"\s*\]/.exec(rest)) || (m = /^\[\s*'([^'\\]{1,256})'\s*\]/.exec(rest))) segments.push(m[1]!);
    else if ((m = /^\[\s*(\d{1,4})\s*\]/.exec(rest))) segments.push(Number(m[1]));
    else return { ok: false, reason: `cannot read "${rest.slice(0, 40)}" in "${expr.trim()}" (use .name, ["key"] or [index])` };
    rest = rest.slice(m[0].length);
  }
  const bad = segments.find((s) => typeof s === 'string' && FORBIDDEN.has(s));
  if (bad !== undefined) return { ok: false, reason: `"${String(bad)}" may not be read` };
  return { ok: true, value: segments };
}

/** Parses a template once, at playbook load; a syntax error comes back as a reason. */
export function parseTemplate(source: string): TemplateResult<Template> {
  if (source.length > MAX_TEMPLATE_LENGTH) return { ok: false, reason: `template is longer than ${MAX_TEMPLATE_LENGTH} characters` };
  const parts: TemplatePart[] = [];
  let i = 0;
  let expressions = 0;
  while (i < source.length) {
    const open = source.indexOf('{{', i);
    if (open < 0) {
      parts.push({ text: source.slice(i) });
      break;
    }
    if (open > i) parts.push({ text: source.slice(i, open) });
    const close = source.indexOf('}}', open + 2);
    if (close < 0) return { ok: false, reason: `"{{" at ${open} is never closed` };
    if (++expressions > MAX_EXPRESSIONS) return { ok: false, reason: `more than ${MAX_EXPRESSIONS} {{ }} expressions` };
    const path = parsePath(source.slice(open + 2, close));
    if (!path.ok) return path;
    parts.push({ path: path.value });
    i = close + 2;
  }
  if (parts.some((p) => p.text?.includes('}}'))) return { ok: false, reason: '"}}" without a matching "{{"' };
  const exprParts = parts.filter((p) => p.path);
  const whole = exprParts.length === 1 && parts.every((p) => p.path || p.text?.trim() === '');
  return { ok: true, value: { source, parts: whole ? exprParts : parts, whole } };
}

function lookup(root: unknown, path: readonly PathSegment[]): unknown {
  let cur: unknown = root;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    if (Array.isArray(cur)) {
      if (typeof seg !== 'number') return undefined;
      cur = cur[seg];
      continue;
    }
    if (typeof seg !== 'string' || !Object.prototype.hasOwnProperty.call(cur, seg)) return undefined;
    cur = (cur as Record<string, unknown>)[seg];
  }
  return cur;
}

function pathText(path: readonly PathSegment[]): string {
  return path.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : /^[A-Za-z_]\w*$/.test(s) ? `.${s}` : `["${s}"]`)).join('');
}

/**
 * Fills a template from the alert. A whole-value template returns the value as found (any type:
 * the target check then refuses a number or an object with a clear reason); a mixed template
 * accepts only strings, numbers and booleans. A missing field is a reason, never "undefined".
 */
export function renderTemplate(t: Template, context: Record<string, unknown>): TemplateResult<unknown> {
  if (t.whole) {
    const path = t.parts[0]!.path!;
    const v = lookup(context, path);
    if (v === undefined || v === null) return { ok: false, reason: `${pathText(path)} is not in the alert` };
    return { ok: true, value: v };
  }
  let out = '';
  for (const p of t.parts) {
    if (p.text !== undefined) {
      out += p.text;
      continue;
    }
    const v = lookup(context, p.path!);
    if (v === undefined || v === null) return { ok: false, reason: `${pathText(p.path!)} is not in the alert` };
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
      return { ok: false, reason: `${pathText(p.path!)} is ${Array.isArray(v) ? 'an array' : typeof v}, not text` };
    }
    out += String(v);
  }
  return { ok: true, value: out };
}
