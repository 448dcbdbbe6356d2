/**
 * Load-time safety check for rule regexes. V8's backtracking engine can take exponential (or high
 * polynomial) time on some patterns; a rule author's typo must not stall the service. Instead of a
 * native RE2 binding (a native build on every install and CI run), a pattern is accepted only
 * when it stays inside a subset whose backtracking is bounded, and inputs are length-capped.
 *
 * Cost model, for a value of n ≤ REGEX_MAX_INPUT characters: an unanchored search tries n start
 * positions; each wide quantifier (*, +, {n,}, or {n,m} with m > REGEX_NARROW_REPEAT) can multiply
 * the work by n; narrow repeats multiply it by their counts. Accepted: degree (wide quantifiers, +1
 * when not anchored with a leading ^) at most 2, with narrow repeats multiplying to at most
 * REGEX_MAX_NARROW_PRODUCT_AT_DEGREE_2 at degree 2 and REGEX_MAX_NARROW_PRODUCT otherwise. So the
 * worst accepted case is about 10·n² steps (a few milliseconds at n = 1024); `[a-z]+[a-z]+b`
 * (unanchored, degree 3) takes over half a second at n = 1024 and is refused.
 *
 * Also refused: patterns over REGEX_MAX_PATTERN_LENGTH; backreferences (\1, \k<name>);
 * lookaround; a quantifier applied to a group that itself contains a quantifier or an alternation
 * ((a+)+, (a|aa)*: exponential); repeats above REGEX_MAX_REPEAT. Values longer than
 * REGEX_MAX_INPUT never match (they are not truncated, so an anchored pattern cannot match a
 * prefix by accident).
 */
export const REGEX_MAX_PATTERN_LENGTH = 256;
export const REGEX_MAX_INPUT = 1024;
export const REGEX_MAX_DEGREE = 2;
export const REGEX_MAX_REPEAT = 100;
export const REGEX_NARROW_REPEAT = 10;
export const REGEX_MAX_NARROW_PRODUCT = 1000;
export const REGEX_MAX_NARROW_PRODUCT_AT_DEGREE_2 = 10;

export type RegexCheck = { ok: true; regex: RegExp } | { ok: false; reason: string };

interface GroupFrame {
  hasQuantifier: boolean;
  hasAlternation: boolean;
}

/** Checks a pattern against the safe subset and compiles it (flag `u`, plus `i` when asked). */
export function compileSafeRegex(pattern: string, ignoreCase = false): RegexCheck {
  if (pattern.length === 0) return { ok: false, reason: 'regex is empty' };
  if (pattern.length > REGEX_MAX_PATTERN_LENGTH) {
    return { ok: false, reason: `regex is ${pattern.length} characters, over the ${REGEX_MAX_PATTERN_LENGTH}-character limit` };
  }
  const problem = findUnsafeConstruct(pattern);
  if (problem) return { ok: false, reason: problem };
  try {
    return { ok: true, regex: new RegExp(pattern, ignoreCase ? 'iu' : 'u') };
  } catch (err) {
    return { ok: false, reason: `regex does not compile: ${(err as Error).message}` };
  }
}

/** Tests a value against a compiled rule regex, honouring the input cap. */
export function safeRegexTest(regex: RegExp, value: string): boolean {
  if (value.length > REGEX_MAX_INPUT) return false;
  return regex.test(value);
}

/** Returns why a pattern is outside the safe subset, or null. A small scanner, not a full parser. */
export function findUnsafeConstruct(p: string): string | null {
  const stack: GroupFrame[] = [{ hasQuantifier: false, hasAlternation: false }];
  let wide = 0;
  let narrowProduct = 1;
  let topLevelAlternation = false;
  // What the next quantifier would apply to: a closed group (with its frame) or a single atom.
  let lastAtom: { group: GroupFrame | null } | null = null;
  let i = 0;
  while (i < p.length) {
    const c = p[i]!;
    if (c === '\\') {
      const n = p[i + 1];
      if (n === undefined) return 'regex ends with a lone backslash';
      if (/[1-9]/.test(n)) return 'regex uses a backreference (\\1 ...), which can backtrack exponentially';
      if (n === 'k' && p[i + 2] === '<') return 'regex uses a named backreference (\\k<...>)';
      i += 2;
      // \u{...}, \x.., \p{...} and friends: skip their braces so they are not read as repeats.
      if ((n === 'u' || n === 'p' || n === 'P') && p[i] === '{') {
        const end = p.indexOf('}', i);
        i = end === -1 ? p.length : end + 1;
      }
      lastAtom = { group: null };
      continue;
    }
    if (c === '[') {
      // Character class: skip to its closing bracket, honouring escapes.
      i++;
      if (p[i] === '^') i++;
      if (p[i] === ']') i++;
      while (i < p.length && p[i] !== ']') i += p[i] === '\\' ? 2 : 1;
      if (i >= p.length) return 'regex has an unterminated character class';
      i++;
      lastAtom = { group: null };
      continue;
    }
    if (c === '(') {
      if (p.startsWith('(?=', i) || p.startsWith('(?!', i) || p.startsWith('(?<=', i) || p.startsWith('(?<!', i)) {
        return 'regex uses lookaround ((?=, (?!, (?<=, (?<!), which is not allowed';
      }
      stack.push({ hasQuantifier: false, hasAlternation: false });
      if (p.startsWith('(?:', i)) i += 3;
      else if (p.startsWith('(?<', i)) {
        const end = p.indexOf('>', i);
        i = end === -1 ? p.length : end + 1;
      } else i++;
      lastAtom = null;
      continue;
    }
    if (c === ')') {
      if (stack.length === 1) return 'regex has an unbalanced ")"';
      const frame = stack.pop()!;
      const parent = stack[stack.length - 1]!;
      // A group's inner quantifiers/alternation make the parent "contain" them too.
      parent.hasQuantifier ||= frame.hasQuantifier;
      parent.hasAlternation ||= frame.hasAlternation;
      lastAtom = { group: frame };
      i++;
      continue;
    }
    if (c === '|') {
      if (stack.length === 1) topLevelAlternation = true;
      stack[stack.length - 1]!.hasAlternation = true;
      lastAtom = null;
      i++;
      continue;
    }
    const q = readQuantifier(p, i);
    if (q) {
      if (lastAtom === null) return `regex has a quantifier with nothing to repeat at position ${i}`;
      if (q.max !== null && q.max > REGEX_MAX_REPEAT) return `regex repeats up to ${q.max} times, over the limit of ${REGEX_MAX_REPEAT}`;
      if (q.min > REGEX_MAX_REPEAT) return `regex repeats at least ${q.min} times, over the limit of ${REGEX_MAX_REPEAT}`;
      const repeats = q.max === null || q.max > 1;
      if (repeats && lastAtom.group) {
        if (lastAtom.group.hasQuantifier) return 'regex has a nested quantifier such as (a+)+, which can backtrack exponentially';
        if (lastAtom.group.hasAlternation) return 'regex repeats an alternation such as (a|ab)*, which can backtrack exponentially';
      }
      if (q.max === null || q.max > REGEX_NARROW_REPEAT) wide++;
      else if (q.max > 1) narrowProduct *= q.max + 1;
      stack[stack.length - 1]!.hasQuantifier ||= repeats;
      i += q.length;
      if (p[i] === '?') i++; // lazy modifier
      lastAtom = null;
      continue;
    }
    lastAtom = { group: null };
    i++;
  }
  if (stack.length > 1) return 'regex has an unclosed "("';
  const anchored = p.startsWith('^') && !topLevelAlternation;
  const degree = wide + (anchored ? 0 : 1);
  if (degree > REGEX_MAX_DEGREE) {
    return anchored
      ? `regex has ${wide} unbounded or long quantifiers (*, +, {n,}, {n,m} with m > ${REGEX_NARROW_REPEAT}); at most ${REGEX_MAX_DEGREE} are allowed`
      : `regex has ${wide} unbounded or long quantifiers (*, +, {n,}, {n,m} with m > ${REGEX_NARROW_REPEAT}) and is not anchored with ^; at most ${REGEX_MAX_DEGREE - 1} is allowed unanchored`;
  }
  const maxProduct = degree === REGEX_MAX_DEGREE ? REGEX_MAX_NARROW_PRODUCT_AT_DEGREE_2 : REGEX_MAX_NARROW_PRODUCT;
  if (narrowProduct > maxProduct)
    return `regex repeats too much in a row (repeat counts multiply to ${narrowProduct}, over ${maxProduct} here)`;
  return null;
}

function readQuantifier(p: string, i: number): { min: number; max: number | null; length: number } | null {
  const c = p[i];
  if (c === '*') return { min: 0, max: null, length: 1 };
  if (c === '+') return { min: 1, max: null, length: 1 };
  if (c === '?') return { min: 0, max: 1, length: 1 };
  if (c === '{') {
    const m = /^\{(\d{1,6})(,(\d{0,6}))?\}/.exec(p.slice(i, i + 16));
    if (!m) return null; // a literal brace (rejected later by the `u` flag if invalid)
    const min = Number(m[1]);
    const max = m[2] === undefined ? min : m[3] === '' ? null : Number(m[3]);
    return { min, max, length: m[0].length };
  }
  return null;
}
