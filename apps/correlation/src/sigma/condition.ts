/**
 * The Sigma condition language: identifiers, and/or/not, parentheses, `1 of <pattern>`,
 * `all of <pattern>`, `1 of them`, `all of them`. Precedence, loosest first: or, and, not,
 * x of, parentheses. The pipe aggregations of Sigma 1.x are refused (correlation rules replace them).
 */
export type ConditionAst =
  | { t: 'id'; name: string }
  | { t: 'of'; quantifier: 'one' | 'all'; pattern: string }
  | { t: 'not'; e: ConditionAst }
  | { t: 'and'; es: ConditionAst[] }
  | { t: 'or'; es: ConditionAst[] };

export class ConditionSyntaxError extends Error {}

const MAX_CONDITION_LENGTH = 4096;
const MAX_NESTING = 32;

function tokenize(text: string): string[] {
  if (text.length > MAX_CONDITION_LENGTH) throw new ConditionSyntaxError(`condition is longer than ${MAX_CONDITION_LENGTH} characters`);
  if (text.includes('|'))
    throw new ConditionSyntaxError(
      'aggregation expressions after "|" (count, near, …) are not supported; write a Sigma correlation rule instead',
    );
  const out: string[] = [];
  const re = /\s*(\(|\)|[^\s()]+)/y;
  let m: RegExpExecArray | null;
  let pos = 0;
  while (pos < text.length) {
    re.lastIndex = pos;
    m = re.exec(text);
    if (!m) break;
    out.push(m[1]!);
    pos = re.lastIndex;
  }
  if (text.slice(pos).trim() !== '') throw new ConditionSyntaxError(`cannot read the condition from "${text.slice(pos, pos + 20)}"`);
  return out;
}

const KEYWORDS = new Set(['and', 'or', 'not', 'of', 'them', '(', ')']);
const IDENT = /^[A-Za-z0-9_.*-]+$/;

export function parseCondition(text: string): ConditionAst {
  const toks = tokenize(text);
  let i = 0;
  const peek = () => toks[i]?.toLowerCase();
  const expect = (t: string) => {
    if (peek() !== t) throw new ConditionSyntaxError(`expected "${t}" ${toks[i] === undefined ? 'at the end' : `before "${toks[i]}"`}`);
    i++;
  };
  const parseOr = (depth: number): ConditionAst => {
    if (depth > MAX_NESTING) throw new ConditionSyntaxError(`condition nests deeper than ${MAX_NESTING} levels`);
    const es = [parseAnd(depth)];
    while (peek() === 'or') {
      i++;
      es.push(parseAnd(depth));
    }
    return es.length === 1 ? es[0]! : { t: 'or', es };
  };
  const parseAnd = (depth: number): ConditionAst => {
    const es = [parseNot(depth)];
    while (peek() === 'and') {
      i++;
      es.push(parseNot(depth));
    }
    return es.length === 1 ? es[0]! : { t: 'and', es };
  };
  const parseNot = (depth: number): ConditionAst => {
    if (peek() === 'not') {
      i++;
      return { t: 'not', e: parseNot(depth + 1) };
    }
    return parsePrimary(depth);
  };
  const parsePrimary = (depth: number): ConditionAst => {
    const tok = toks[i];
    if (tok === undefined) throw new ConditionSyntaxError('condition ends too early');
    if (tok === '(') {
      i++;
      const e = parseOr(depth + 1);
      expect(')');
      return e;
    }
    const low = tok.toLowerCase();
    if (toks[i + 1]?.toLowerCase() === 'of') {
      let quantifier: 'one' | 'all';
      if (low === 'all') quantifier = 'all';
      else if (low === '1') quantifier = 'one';
      else if (/^\d+$/.test(low)) throw new ConditionSyntaxError(`"${tok} of" is not supported: only "1 of" and "all of" are defined`);
      else throw new ConditionSyntaxError(`"${tok} of" is not a quantifier`);
      i += 2;
      const target = toks[i];
      if (target === undefined || target === '(' || target === ')')
        throw new ConditionSyntaxError(`"${tok} of" needs a search identifier pattern or "them"`);
      i++;
      return { t: 'of', quantifier, pattern: target.toLowerCase() === 'them' ? 'them' : target };
    }
    if (KEYWORDS.has(low)) throw new ConditionSyntaxError(`unexpected "${tok}"`);
    if (!IDENT.test(tok) || tok.includes('*')) throw new ConditionSyntaxError(`"${tok}" is not a search identifier`);
    i++;
    return { t: 'id', name: tok };
  };
  const ast = parseOr(0);
  if (i < toks.length) throw new ConditionSyntaxError(`unexpected "${toks[i]}"`);
  return ast;
}

/** Search identifiers a `x of` pattern selects: `*` matches any characters; `them` all not starting with `_`. */
export function selectIdentifiers(pattern: string, identifiers: readonly string[]): string[] {
  if (pattern === 'them') return identifiers.filter((n) => !n.startsWith('_'));
  const re = new RegExp(
    `^${pattern
      .split('*')
      .map((p) => p.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&'))
      .join('.*')}$`,
  );
  return identifiers.filter((n) => re.test(n));
}
