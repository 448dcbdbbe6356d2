import type { Condition, RuleCondition } from '../domain/rule';
import { ConditionSyntaxError, parseCondition, selectIdentifiers, type ConditionAst } from './condition';
import { resolveField, type SigmaMapping } from './mapping';

/** Why a rule cannot be translated faithfully, and where in the document. */
export class SigmaRefusal extends Error {
  constructor(
    message: string,
    readonly path: ReadonlyArray<string | number>,
  ) {
    super(message);
    this.name = 'SigmaRefusal';
  }
}

const SUPPORTED_MODIFIERS = new Set([
  'contains',
  'startswith',
  'endswith',
  'all',
  're',
  'i',
  'cidr',
  'exists',
  'cased',
  'gt',
  'gte',
  'lt',
  'lte',
  'neq',
]);
const KNOWN_UNSUPPORTED: Record<string, string> = {
  windash: 'expands dash variants of command-line flags',
  base64: 'matches base64-encoded values',
  base64offset: 'matches base64-encoded values at every offset',
  utf16le: 'matches UTF-16 encoded values',
  utf16be: 'matches UTF-16 encoded values',
  utf16: 'matches UTF-16 encoded values',
  wide: 'matches UTF-16 encoded values',
  expand: 'expands placeholders that need a lookup table',
  fieldref: 'compares two fields of the event',
  m: 'changes how ^ and $ match (multi-line regex)',
  s: 'lets . match newlines (single-line regex)',
  minute: 'extracts a part of a date',
  hour: 'extracts a part of a date',
  day: 'extracts a part of a date',
  week: 'extracts a part of a date',
  month: 'extracts a part of a date',
  year: 'extracts a part of a date',
};

type Piece = { lit: string } | { any: true } | { one: true };

/** Sigma string with its escapes: `*` and `?` are wildcards; `\*`, `\?` and `\\` are literal. */
export function sigmaPattern(s: string): Piece[] {
  const out: Piece[] = [];
  let lit = '';
  const flush = () => {
    if (lit) out.push({ lit });
    lit = '';
  };
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\') {
      const n = s[i + 1];
      if (n === '*' || n === '?' || n === '\\') {
        lit += n;
        i++;
      } else lit += '\\';
    } else if (c === '*') {
      flush();
      if (!(out[out.length - 1] && 'any' in out[out.length - 1]!)) out.push({ any: true });
    } else if (c === '?') {
      flush();
      out.push({ one: true });
    } else lit += c;
  }
  flush();
  return out;
}

const REGEX_SPECIAL = /[\\^$.*+?()[\]{}|/]/g;

/** One condition for a Sigma string pattern on a field: the narrowest operator that says exactly the same. */
function patternCondition(field: string, pieces: Piece[], ignoreCase: boolean): RuleCondition {
  const ic = ignoreCase ? { ignore_case: true } : {};
  const isLit = (p: Piece | undefined): p is { lit: string } => p !== undefined && 'lit' in p;
  const isAny = (p: Piece | undefined) => p !== undefined && 'any' in p;
  if (pieces.length === 0) return { field, operator: 'equals', value: '', ...ic };
  if (pieces.length === 1 && isLit(pieces[0])) return { field, operator: 'equals', value: pieces[0].lit, ...ic };
  if (pieces.length === 1 && isAny(pieces[0])) return { field, operator: 'exists', value: true };
  if (pieces.length === 3 && isAny(pieces[0]) && isLit(pieces[1]) && isAny(pieces[2]))
    return { field, operator: 'contains', value: pieces[1].lit, ...ic };
  if (pieces.length === 2 && isLit(pieces[0]) && isAny(pieces[1])) return { field, operator: 'starts_with', value: pieces[0].lit, ...ic };
  if (pieces.length === 2 && isAny(pieces[0]) && isLit(pieces[1])) return { field, operator: 'ends_with', value: pieces[1].lit, ...ic };
  const body = pieces.map((p) => ('lit' in p ? p.lit.replace(REGEX_SPECIAL, '\\$&') : 'any' in p ? '[\\s\\S]*' : '[\\s\\S]')).join('');
  return { field, operator: 'regex', value: `^${body}$`, ...ic };
}

function anyOf(cs: RuleCondition[]): RuleCondition {
  return cs.length === 1 ? cs[0]! : { any: cs };
}
function allOf(cs: RuleCondition[]): RuleCondition {
  return cs.length === 1 ? cs[0]! : { all: cs };
}

type Value = string | number | boolean | null;

function asValues(v: unknown, path: ReadonlyArray<string | number>): Value[] {
  const list = Array.isArray(v) ? v : [v];
  if (list.length === 0) throw new SigmaRefusal('an empty value list matches nothing', path);
  if (list.length > 1000) throw new SigmaRefusal('more than 1000 values for one field', path);
  for (const x of list) {
    if (x !== null && typeof x !== 'string' && typeof x !== 'number' && typeof x !== 'boolean')
      throw new SigmaRefusal('field values must be strings, numbers, booleans or null', path);
    if (typeof x === 'string' && x.length > 1024) throw new SigmaRefusal('a value is longer than 1024 characters', path);
  }
  return list as Value[];
}

/** `Field|mod1|mod2: value(s)` → a condition on our field. */
function fieldCondition(key: string, raw: unknown, mapping: SigmaMapping, path: ReadonlyArray<string | number>): RuleCondition {
  const [name, ...mods] = key.split('|');
  if (!name) throw new SigmaRefusal(`"${key}" has modifiers but no field name`, path);
  for (const m of mods) {
    if (!SUPPORTED_MODIFIERS.has(m)) {
      const why = KNOWN_UNSUPPORTED[m];
      throw new SigmaRefusal(why ? `modifier "${m}" (${why}) is not supported` : `unknown modifier "${m}"`, path);
    }
  }
  const has = (m: string) => mods.includes(m);
  if ((has('i') || has('m') || has('s')) && !has('re')) throw new SigmaRefusal('regex flags (i) need the re modifier', path);
  const resolved = resolveField(mapping, name);
  if (!resolved) throw new SigmaRefusal(`field "${name}" has no mapping to a Vigil event field (add it to the mapping file)`, path);
  const field = resolved.field;
  const values = asValues(raw, path);
  const all = has('all');
  if (all && values.length < 2) throw new SigmaRefusal('the all modifier needs a list of at least two values', path);
  const join = all ? allOf : anyOf;
  const ignoreCase = !has('cased');

  if (has('exists')) {
    if (mods.length !== 1 || values.length !== 1 || typeof values[0] !== 'boolean')
      throw new SigmaRefusal('exists takes one boolean value and no other modifier', path);
    return { field, operator: 'exists', value: values[0] };
  }
  const numeric = ['gt', 'gte', 'lt', 'lte'].filter(has);
  if (numeric.length > 0) {
    if (numeric.length > 1 || mods.length > 1) throw new SigmaRefusal(`${numeric.join('|')} cannot be combined with other modifiers`, path);
    const op = ({ gt: 'greater_than', gte: 'greater_or_equal', lt: 'less_than', lte: 'less_or_equal' } as const)[numeric[0] as 'gt'];
    return join(
      values.map((v) => {
        if (typeof v !== 'number') throw new SigmaRefusal(`${numeric[0]} needs numbers`, path);
        return { field, operator: op, value: v };
      }),
    );
  }
  if (has('cidr')) {
    if (mods.some((m) => m !== 'cidr' && m !== 'all')) throw new SigmaRefusal('cidr cannot be combined with other modifiers', path);
    return join(
      values.map((v) => {
        if (typeof v !== 'string') throw new SigmaRefusal('cidr needs network strings such as 10.0.0.0/8', path);
        return { field, operator: 'cidr', value: v };
      }),
    );
  }
  if (has('re')) {
    if (mods.some((m) => !['re', 'i', 'all', 'cased'].includes(m))) throw new SigmaRefusal('re can only be combined with i and all', path);
    return join(
      values.map((v) => {
        if (typeof v !== 'string') throw new SigmaRefusal('re needs string patterns', path);
        return { field, operator: 'regex', value: v, ...(has('i') ? { ignore_case: true } : {}) };
      }),
    );
  }
  const neq = has('neq');
  const position = ['contains', 'startswith', 'endswith'].filter(has);
  if (position.length > 1) throw new SigmaRefusal(`${position.join(' and ')} cannot be combined`, path);
  if (resolved.values) {
    if (mods.some((m) => m !== 'neq' && m !== 'cased' && m !== 'all'))
      throw new SigmaRefusal(
        `field "${name}" translates values (${Object.keys(resolved.values).join(', ')}), so only exact values are allowed`,
        path,
      );
    const mapped: Array<string | number | boolean> = [];
    for (const v of values) {
      const t = v === null ? undefined : (resolved.values[String(v)] ?? resolved.values[String(v).toLowerCase()]);
      if (t === undefined)
        throw new SigmaRefusal(
          `value ${JSON.stringify(v)} of "${name}" has no Vigil equivalent (known: ${Object.keys(resolved.values).join(', ')})`,
          path,
        );
      if (all) throw new SigmaRefusal(`all on "${name}" would require one field to hold several values`, path);
      mapped.push(...((Array.isArray(t) ? t : [t]) as Array<string | number | boolean>));
    }
    if (neq) return { field, operator: 'not_in', value: mapped };
    return mapped.length === 1 ? { field, operator: 'equals', value: mapped[0]! } : { field, operator: 'in', value: mapped };
  }
  const conds: RuleCondition[] = [];
  const exact: Array<string | number | boolean> = [];
  for (const v of values) {
    if (v === null) {
      if (mods.length > 0) throw new SigmaRefusal('null cannot take modifiers', path);
      conds.push({ field, operator: 'exists', value: false });
      continue;
    }
    if (typeof v === 'boolean' || (typeof v === 'number' && position.length === 0)) {
      exact.push(v);
      continue;
    }
    let pieces = sigmaPattern(String(v));
    if (position[0] === 'contains' || position[0] === 'endswith') pieces = [{ any: true }, ...pieces];
    if (position[0] === 'contains' || position[0] === 'startswith') pieces = [...pieces, { any: true }];
    pieces = pieces.filter((p, i) => !('any' in p && i > 0 && 'any' in pieces[i - 1]!));
    const c = patternCondition(field, pieces, ignoreCase);
    if ('operator' in c && c.operator === 'equals' && !all) exact.push(c.value);
    else conds.push(c);
  }
  if (exact.length > 0) {
    const ic = ignoreCase && exact.some((x) => typeof x === 'string') ? { ignore_case: true } : {};
    if (all) for (const x of exact) conds.push({ field, operator: 'equals', value: x, ...ic } as Condition);
    else
      conds.unshift(
        exact.length === 1
          ? ({ field, operator: 'equals', value: exact[0]!, ...ic } as Condition)
          : { field, operator: 'in', value: exact, ...ic },
      );
  }
  if (neq) {
    if (position.length > 0 || all) throw new SigmaRefusal('neq takes plain values only', path);
    // neq: the field is present and none of the values (like not_equals, a missing field does not match).
    const c = join(conds);
    if ('operator' in c && c.operator === 'equals') return { ...c, operator: 'not_equals' };
    if ('operator' in c && c.operator === 'in') return { ...c, operator: 'not_in' };
    return { all: [{ field, operator: 'exists', value: true }, { not: c }] };
  }
  return join(conds);
}

function keywordCondition(values: Value[], all: boolean, mapping: SigmaMapping, path: ReadonlyArray<string | number>): RuleCondition {
  const fields = mapping.keywords.fields;
  if (fields.length === 0)
    throw new SigmaRefusal('keyword searches need keywords.fields in the mapping (which event fields hold the message)', path);
  const one = (v: Value): RuleCondition => {
    if (typeof v !== 'string' && typeof v !== 'number') throw new SigmaRefusal('keywords must be strings or numbers', path);
    let pieces = sigmaPattern(String(v));
    const wild = pieces.some((p) => !('lit' in p));
    // A keyword without wildcards is found anywhere in the message; with wildcards it is a pattern for the whole value.
    if (!wild) pieces = [{ any: true }, ...pieces, { any: true }];
    return anyOf(fields.map((f) => patternCondition(f, pieces, true)));
  };
  const cs = values.map(one);
  return all ? allOf(cs) : anyOf(cs);
}

/** One search identifier (a map, a list of maps, or a list of keywords) → a condition. */
function identifierCondition(def: unknown, mapping: SigmaMapping, path: Array<string | number>): RuleCondition {
  if (def !== null && typeof def === 'object' && !Array.isArray(def)) {
    const entries = Object.entries(def as Record<string, unknown>);
    if (entries.length === 0) throw new SigmaRefusal('an empty search identifier matches every event', path);
    if (entries.length === 1 && entries[0]![0] === '|all') {
      return keywordCondition(asValues(entries[0]![1], [...path, '|all']), true, mapping, [...path, '|all']);
    }
    return allOf(entries.map(([k, v]) => fieldCondition(k, v, mapping, [...path, k])));
  }
  if (Array.isArray(def)) {
    if (def.length === 0) throw new SigmaRefusal('an empty list matches nothing', path);
    if (def.every((x) => x !== null && typeof x === 'object' && !Array.isArray(x))) {
      return anyOf(def.map((x, i) => identifierCondition(x, mapping, [...path, i])));
    }
    if (def.some((x) => x !== null && typeof x === 'object')) throw new SigmaRefusal('a list mixes maps and keywords', path);
    return keywordCondition(asValues(def, path), false, mapping, path);
  }
  if (typeof def === 'string' || typeof def === 'number') return keywordCondition([def], false, mapping, path);
  throw new SigmaRefusal('a search identifier must be a map, a list of maps or a list of keywords', path);
}

/** A Sigma `detection` section → one condition (AND-ed with the logsource's, by the caller). */
export function translateDetection(detection: unknown, mapping: SigmaMapping): RuleCondition {
  const path: Array<string | number> = ['detection'];
  if (detection === null || typeof detection !== 'object' || Array.isArray(detection))
    throw new SigmaRefusal('detection must be a map', path);
  const { condition, timeframe, ...ids } = detection as Record<string, unknown>;
  if (timeframe !== undefined)
    throw new SigmaRefusal('timeframe (Sigma 1.x aggregations) is not supported; use a correlation rule', ['detection', 'timeframe']);
  if (condition === undefined) throw new SigmaRefusal('detection has no condition', path);
  const names = Object.keys(ids);
  const compiled = new Map<string, RuleCondition>();
  const get = (name: string): RuleCondition => {
    const found = names.find((n) => n === name);
    if (!found)
      throw new SigmaRefusal(`condition names "${name}", which is not a search identifier of this rule`, ['detection', 'condition']);
    let c = compiled.get(found);
    if (!c) {
      c = identifierCondition(ids[found], mapping, ['detection', found]);
      compiled.set(found, c);
    }
    return c;
  };
  const toCondition = (ast: ConditionAst): RuleCondition => {
    switch (ast.t) {
      case 'id':
        return get(ast.name);
      case 'not':
        return { not: toCondition(ast.e) };
      case 'and':
        return { all: ast.es.map(toCondition) };
      case 'or':
        return { any: ast.es.map(toCondition) };
      case 'of': {
        const sel = selectIdentifiers(ast.pattern, names);
        if (sel.length === 0) throw new SigmaRefusal(`"${ast.pattern}" selects no search identifier`, ['detection', 'condition']);
        const cs = sel.map(get);
        return ast.quantifier === 'all' ? allOf(cs) : anyOf(cs);
      }
    }
  };
  const conditions = Array.isArray(condition) ? condition : [condition];
  if (conditions.length === 0 || conditions.some((c) => typeof c !== 'string'))
    throw new SigmaRefusal('condition must be a string or a list of strings', ['detection', 'condition']);
  try {
    return anyOf((conditions as string[]).map((c) => toCondition(parseCondition(c))));
  } catch (err) {
    if (err instanceof ConditionSyntaxError) throw new SigmaRefusal(`condition: ${err.message}`, ['detection', 'condition']);
    throw err;
  }
}
