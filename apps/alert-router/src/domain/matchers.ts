import { TAG_LABEL, labelValue, type AlertLabels } from './labels';

export const MATCH_OPS = ['=', '!=', '=~', '!~'] as const;
export type MatchOp = (typeof MATCH_OPS)[number];

/** One condition on a label: equality, inequality, regex match or regex non-match (anchored). */
export interface Matcher {
  readonly name: string;
  readonly op: MatchOp;
  readonly value: string;
  /** Compiled, anchored pattern for =~ and !~. */
  readonly re?: RegExp;
}

export const MAX_MATCHER_TEXT = 512;
export const MAX_REGEX_LENGTH = 256;

const LABEL_NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,255}$/;
const MATCHER_RE = /^\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$/s;

export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: string };

/**
 * Refuses patterns whose matching time can explode on hostile input: back-references, and a
 * quantified group that itself contains a quantifier (`(a+)+`, `(x*y)*`, `(a|aa){2,}`).
 * Label values are also bounded (≤ 1024 characters), which bounds the rest.
 */
export function unsafeRegexReason(pattern: string): string | null {
  if (pattern.length > MAX_REGEX_LENGTH) return `regex is longer than ${MAX_REGEX_LENGTH} characters`;
  if (/\\[1-9]|\\k</.test(pattern)) return 'back-references are not allowed';
  // Stack of "does this open group contain a quantifier or alternation".
  const stack: boolean[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\') {
      i++;
      continue;
    }
    if (c === '[') {
      // Skip a character class: quantifier characters inside it are literals.
      i++;
      if (pattern[i] === '^') i++;
      if (pattern[i] === ']') i++;
      while (i < pattern.length && pattern[i] !== ']') {
        if (pattern[i] === '\\') i++;
        i++;
      }
      continue;
    }
    if (c === '(') stack.push(false);
    else if (c === ')') {
      const inner = stack.pop() ?? false;
      const next = pattern[i + 1];
      const quantified = next === '*' || next === '+' || next === '{';
      if (inner && quantified) return 'nested quantifiers (e.g. "(a+)+") are not allowed';
      if (stack.length > 0 && (inner || quantified)) stack[stack.length - 1] = true;
    } else if ((c === '*' || c === '+' || c === '{' || c === '|') && stack.length > 0) stack[stack.length - 1] = true;
  }
  return null;
}

/** Compiles a regex value into an anchored pattern, or says why it cannot be used. */
export function compileRegex(pattern: string): ParseResult<RegExp> {
  const unsafe = unsafeRegexReason(pattern);
  if (unsafe) return { ok: false, error: unsafe };
  try {
    return { ok: true, value: new RegExp(`^(?:${pattern})$`, 'u') };
  } catch (err) {
    return { ok: false, error: `invalid regex: ${(err as Error).message}` };
  }
}

function unquote(raw: string): ParseResult<string> {
  if (!raw.startsWith('"')) {
    if (/[\s"]/.test(raw)) return { ok: false, error: 'an unquoted value may not contain spaces or quotes' };
    return { ok: true, value: raw };
  }
  if (raw.length < 2 || !raw.endsWith('"')) return { ok: false, error: 'unterminated quoted value' };
  let out = '';
  const body = raw.slice(1, -1);
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c === '\\') {
      const n = body[++i];
      if (n === undefined) return { ok: false, error: 'dangling backslash in quoted value' };
      out += n === 'n' ? '\n' : n;
    } else if (c === '"') return { ok: false, error: 'unescaped quote inside quoted value' };
    else out += c;
  }
  return { ok: true, value: out };
}

/** Builds a matcher from its parts, compiling regexes. */
export function makeMatcher(name: string, op: MatchOp, value: string): ParseResult<Matcher> {
  if (!LABEL_NAME.test(name)) return { ok: false, error: `"${name.slice(0, 64)}" is not a label name` };
  if (value.length > 1024) return { ok: false, error: 'value is longer than 1024 characters' };
  if (op === '=~' || op === '!~') {
    const re = compileRegex(value);
    if (!re.ok) return re;
    return { ok: true, value: { name, op, value, re: re.value } };
  }
  return { ok: true, value: { name, op, value } };
}

/**
 * Parses Alertmanager's matcher syntax: `severity="critical"`, `rule=~"ssh_.*"`,
 * `group.source.ip!="10.0.0.1"`, `tag=brute-force` (quotes optional when the value has no spaces).
 */
export function parseMatcher(text: string): ParseResult<Matcher> {
  if (text.length > MAX_MATCHER_TEXT) return { ok: false, error: `matcher is longer than ${MAX_MATCHER_TEXT} characters` };
  const m = MATCHER_RE.exec(text);
  if (!m)
    return {
      ok: false,
      error: `"${text.slice(0, 80)}" is not a matcher (expected name="value", name!="value", name=~"regex" or name!~"regex")`,
    };
  const value = unquote(m[3]!);
  if (!value.ok) return value;
  return makeMatcher(m[1]!, m[2] as MatchOp, value.value);
}

function test(m: Matcher, value: string): boolean {
  switch (m.op) {
    case '=':
    case '!=':
      return value === m.value;
    case '=~':
    case '!~':
      return m.re!.test(value);
  }
}

/**
 * Whether one matcher holds for the labels. For the multi-valued `tag` label, `=` and `=~` hold
 * when any tag matches, `!=` and `!~` when no tag does (an alert without tags reads as one empty tag).
 */
export function matcherHolds(m: Matcher, labels: AlertLabels): boolean {
  const positive = m.op === '=' || m.op === '=~';
  if (m.name === TAG_LABEL) {
    const tags = labels.tags.length > 0 ? labels.tags : [''];
    const any = tags.some((t) => test(m, t));
    return positive ? any : !any;
  }
  const hit = test(m, labelValue(labels, m.name));
  return positive ? hit : !hit;
}

/** All matchers hold (an empty list matches everything). */
export function matchesAll(matchers: readonly Matcher[], labels: AlertLabels): boolean {
  return matchers.every((m) => matcherHolds(m, labels));
}

/** The canonical text of a matcher, as the API and logs show it. */
export function formatMatcher(m: Matcher): string {
  return `${m.name}${m.op}${JSON.stringify(m.value)}`;
}
