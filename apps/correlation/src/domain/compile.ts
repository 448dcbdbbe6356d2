import { toIssues, uuidV5 } from '@vigil/contracts';
import { compileCondition, type Matcher } from './match';
import { MAX_CONDITION_DEPTH, RuleSchema, type Rule, type RuleCondition } from './rule';

/** One parsed rule file (YAML or JSON): a single rule object, or `{ rules: [...] }`. */
export interface RuleSource {
  file: string;
  document: unknown;
}

/** A rule problem, precise enough to fix: which file, which rule, which field. */
export interface RuleError {
  file: string;
  /** The rule's id when it has a readable one, else its position in the file ("#2"). */
  rule: string;
  /** Dotted path inside the rule, e.g. "conditions[1].value"; empty for the whole rule. */
  field: string;
  message: string;
}

export function formatRuleError(e: RuleError): string {
  return `${e.file}: rule ${e.rule}: ${e.field ? `${e.field}: ` : ''}${e.message}`;
}

export interface CompiledStep {
  name: string;
  count: number;
  match: Matcher;
}

/** A validated rule ready to evaluate: matchers built, regexes compiled, times in milliseconds. */
export interface CompiledRule {
  readonly rule: Rule;
  readonly id: string;
  readonly kind: Rule['kind'];
  readonly windowMs: number;
  readonly suppressMs: number;
  /** threshold and distinct_count: the count to reach; sequence: unused (0). */
  readonly threshold: number;
  readonly groupBy: readonly string[];
  /** group_by paths split into segments once. */
  readonly groupPaths: ReadonlyArray<readonly string[]>;
  /** The top-level conditions, AND-ed. */
  readonly matches: Matcher;
  readonly distinctField: string | null;
  readonly distinctPath: readonly string[] | null;
  readonly steps: readonly CompiledStep[];
  readonly ordered: boolean;
  /**
   * Hash of everything that shapes window state (kind, conditions, window, counts, group_by).
   * It is part of the state keys, so editing a rule starts fresh windows instead of reading
   * state written under the old definition; name, severity, tags or action edits keep them.
   */
  readonly fingerprint: string;
}

export interface RuleSet {
  /** Enabled rules only, in id order. */
  readonly rules: readonly CompiledRule[];
  /** Every valid rule id, enabled or not. */
  readonly ids: readonly string[];
}

export type CompileResult = { ok: true; ruleSet: RuleSet } | { ok: false; errors: RuleError[] };

function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const entries = Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson((v as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(v);
}

function ruleLabel(raw: unknown, index: number, many: boolean): string {
  const id = raw !== null && typeof raw === 'object' ? (raw as Record<string, unknown>).id : undefined;
  if (typeof id === 'string' && id.length > 0 && id.length <= 64) return `"${id}"`;
  return many ? `#${index + 1}` : '(no id)';
}

function all(matchers: Matcher[]): Matcher {
  if (matchers.length === 0) return () => true;
  if (matchers.length === 1) return matchers[0]!;
  return (e) => {
    for (const m of matchers) if (!m(e)) return false;
    return true;
  };
}

/** One condition or group; `at` is its path for error messages (e.g. conditions[2].any[0]). */
function compileOne(c: RuleCondition, at: string, err: (field: string, message: string) => void, depth: number): Matcher {
  if ('any' in c || 'all' in c || 'not' in c) {
    if (depth >= MAX_CONDITION_DEPTH) {
      err(at, `groups nest deeper than ${MAX_CONDITION_DEPTH} levels`);
      return () => false;
    }
    if ('not' in c) {
      const inner = compileOne(c.not, `${at}.not`, err, depth + 1);
      return (e) => !inner(e);
    }
    if ('any' in c) {
      const parts = c.any.map((x, j) => compileOne(x, `${at}.any[${j}]`, err, depth + 1));
      return (e) => {
        for (const m of parts) if (m(e)) return true;
        return false;
      };
    }
    return all(c.all.map((x, j) => compileOne(x, `${at}.all[${j}]`, err, depth + 1)));
  }
  const r = compileCondition(c);
  if (r.ok) return r.match;
  err(`${at}.value`, r.reason);
  return () => false;
}

function compileConditions(conds: readonly RuleCondition[], at: string, err: (field: string, message: string) => void): Matcher {
  return all(conds.map((c, i) => compileOne(c, `${at}[${i}]`, err, 1)));
}

export function compileRule(rule: Rule, err: (field: string, message: string) => void): CompiledRule {
  const matches = compileConditions(rule.conditions, 'conditions', err);
  const steps: CompiledStep[] =
    rule.kind === 'sequence'
      ? rule.steps.map((s, i) => ({ name: s.name, count: s.count, match: compileConditions(s.conditions, `steps[${i}].conditions`, err) }))
      : [];
  const { name: _n, description: _d, severity: _s, enabled: _e, action: _a, tags: _t, ...shape } = rule;
  return {
    rule,
    id: rule.id,
    kind: rule.kind,
    windowMs: rule.window * 1000,
    suppressMs: (rule.suppress_for ?? rule.window) * 1000,
    threshold: rule.kind === 'sequence' ? 0 : rule.threshold,
    groupBy: rule.group_by,
    groupPaths: rule.group_by.map((f) => f.split('.')),
    matches,
    distinctField: rule.kind === 'distinct_count' ? rule.field : null,
    distinctPath: rule.kind === 'distinct_count' ? rule.field.split('.') : null,
    steps,
    ordered: rule.kind === 'sequence' ? rule.ordered : true,
    fingerprint: uuidV5(stableJson(shape)).replace(/-/g, '').slice(0, 8),
  };
}

/**
 * Validates and compiles every rule of every source. All problems are reported at once (not just
 * the first), each naming file, rule and field; a duplicate id across files is an error too.
 */
export function compileRuleSet(sources: readonly RuleSource[]): CompileResult {
  const errors: RuleError[] = [];
  const compiled: CompiledRule[] = [];
  const seen = new Map<string, string>();
  for (const src of sources) {
    const doc = src.document;
    let raws: unknown[];
    let many = false;
    if (doc !== null && typeof doc === 'object' && !Array.isArray(doc) && 'rules' in doc) {
      const list = (doc as { rules: unknown }).rules;
      if (!Array.isArray(list) || list.length === 0) {
        errors.push({ file: src.file, rule: '(file)', field: 'rules', message: 'must be a non-empty list of rules' });
        continue;
      }
      raws = list;
      many = true;
    } else if (doc !== null && typeof doc === 'object' && !Array.isArray(doc)) {
      raws = [doc];
    } else {
      errors.push({ file: src.file, rule: '(file)', field: '', message: 'must hold a rule object or { rules: [...] }' });
      continue;
    }
    raws.forEach((raw, index) => {
      const label = ruleLabel(raw, index, many);
      const parsed = RuleSchema.safeParse(raw);
      if (!parsed.success) {
        for (const issue of toIssues(parsed.error)) errors.push({ file: src.file, rule: label, field: issue.path, message: issue.message });
        return;
      }
      const rule = parsed.data;
      const before = seen.get(rule.id);
      if (before !== undefined) {
        errors.push({ file: src.file, rule: label, field: 'id', message: `duplicate rule id, already defined in ${before}` });
        return;
      }
      seen.set(rule.id, src.file);
      let bad = false;
      const c = compileRule(rule, (field, message) => {
        bad = true;
        errors.push({ file: src.file, rule: label, field, message });
      });
      if (!bad) compiled.push(c);
    });
  }
  if (errors.length > 0) return { ok: false, errors };
  compiled.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { ok: true, ruleSet: { rules: compiled.filter((r) => r.rule.enabled), ids: compiled.map((r) => r.id) } };
}
