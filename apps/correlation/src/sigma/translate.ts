import { compileRuleSet, formatRuleError } from '../domain/compile';
import { RuleSchema, type Rule, type RuleCondition } from '../domain/rule';
import { SigmaRefusal, translateDetection } from './detection';
import { resolveField, type SigmaMapping } from './mapping';
import type { SigmaDocument } from './parse';

/** A Sigma rule the importer translated, as a Vigil rule. */
export interface AcceptedSigmaRule {
  file: string;
  line: number;
  title: string;
  sigmaId?: string;
  rule: Rule;
}

/** A Sigma rule the importer refused: why, and the line that shows it. */
export interface RefusedSigmaRule {
  file: string;
  line: number;
  title: string;
  reason: string;
}

export interface SigmaImport {
  accepted: AcceptedSigmaRule[];
  refused: RefusedSigmaRule[];
}

const LEVELS: Record<string, Rule['severity']> = {
  informational: 'info',
  low: 'low',
  medium: 'medium',
  high: 'high',
  critical: 'critical',
};
const TIMESPAN = /^(\d{1,7})([smhd])$/;
const UNIT: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

interface DetectionDoc {
  kind: 'detection';
  doc: SigmaDocument;
  value: Record<string, unknown>;
}
interface CorrelationDoc {
  kind: 'correlation';
  doc: SigmaDocument;
  value: Record<string, unknown>;
}
type Known = DetectionDoc | CorrelationDoc;

function titleOf(v: unknown): string {
  const t = (v as { title?: unknown } | null)?.title;
  return typeof t === 'string' && t.length > 0 ? t.slice(0, 256) : '(untitled)';
}

/** Removes groups of one, and any-in-any / all-in-all nesting, so imported rules stay shallow. */
export function simplify(c: RuleCondition): RuleCondition {
  if ('not' in c) {
    const inner = simplify(c.not);
    return 'not' in inner ? inner.not : { not: inner };
  }
  if ('any' in c || 'all' in c) {
    const isAny = 'any' in c;
    const parts = (isAny ? c.any : c.all).map(simplify).flatMap((p) => (isAny && 'any' in p ? p.any : !isAny && 'all' in p ? p.all : [p]));
    if (parts.length === 1) return parts[0]!;
    return isAny ? { any: parts } : { all: parts };
  }
  return c;
}

function slug(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 55);
}

/**
 * Translates Sigma detection and correlation rules into Vigil rules. Pure: documents and mapping
 * in, rules and refusals out. A rule is translated only when Vigil evaluates it exactly as Sigma
 * defines it; everything else is refused with the reason and the line.
 */
export function translateSigma(docs: readonly SigmaDocument[], mapping: SigmaMapping): SigmaImport {
  const accepted: AcceptedSigmaRule[] = [];
  const refused: RefusedSigmaRule[] = [];
  const known: Known[] = [];
  const refuse = (doc: SigmaDocument, title: string, reason: string, path: ReadonlyArray<string | number> = []) =>
    refused.push({ file: doc.file, line: path.length ? doc.lineOf(path) : doc.line, title, reason });

  for (const doc of docs) {
    if (doc.value === null && doc.error) {
      refuse(doc, '(unparsed)', `YAML: ${doc.error}`);
      continue;
    }
    const v = doc.value;
    if (v === null || v === undefined) continue; // an empty document (e.g. a trailing ---)
    if (typeof v !== 'object' || Array.isArray(v)) {
      refuse(doc, '(unknown)', 'a Sigma rule must be a map');
      continue;
    }
    const o = v as Record<string, unknown>;
    if ('correlation' in o) known.push({ kind: 'correlation', doc, value: o });
    else if ('detection' in o) known.push({ kind: 'detection', doc, value: o });
    else if ('filter' in o) refuse(doc, titleOf(o), 'Sigma filters (meta filters) are not supported', ['filter']);
    else refuse(doc, titleOf(o), 'neither a detection rule (detection) nor a correlation rule (correlation)');
  }

  // Detection rules: their condition, once, for correlation rules to reuse.
  const detections = new Map<DetectionDoc, RuleCondition | SigmaRefusal>();
  for (const d of known) {
    if (d.kind !== 'detection') continue;
    try {
      detections.set(d, detectionCondition(d.value, mapping));
    } catch (err) {
      if (!(err instanceof SigmaRefusal)) throw err;
      detections.set(d, err);
    }
  }
  const byRef = new Map<string, Known>();
  for (const k of known) {
    for (const key of ['id', 'name'] as const) {
      const ref = k.value[key];
      if (typeof ref === 'string' && ref.length > 0) byRef.set(ref, k);
    }
  }
  // Which correlations refer to each rule: a referenced rule is generated on its own only with `generate: true`.
  const referrers = new Map<Known, Known[]>();
  for (const k of known) {
    if (k.kind !== 'correlation') continue;
    const rules = (k.value.correlation as { rules?: unknown } | null)?.rules;
    if (!Array.isArray(rules)) continue;
    for (const r of rules) {
      const t = typeof r === 'string' ? byRef.get(r) : undefined;
      if (t) referrers.set(t, [...(referrers.get(t) ?? []), k]);
    }
  }
  const standalone = (k: Known): boolean => {
    const refs = referrers.get(k);
    return !refs || refs.some((c) => (c.value.correlation as { generate?: unknown } | null)?.generate === true);
  };

  const ids = new Set<string>();
  const ruleId = (o: Record<string, unknown>): string => {
    const base = `sigma.${slug(typeof o.name === 'string' ? o.name : titleOf(o)) || 'rule'}`;
    let id = base;
    for (let n = 2; ids.has(id); n++) id = `${base}-${n}`;
    ids.add(id);
    return id;
  };

  const emit = (k: Known, build: () => Omit<Rule, 'id' | 'name' | 'description' | 'severity' | 'enabled' | 'tags'>) => {
    const title = titleOf(k.value);
    let id: string | undefined;
    try {
      const shape = build();
      const o = k.value;
      const level = o.level;
      if (level !== undefined && (typeof level !== 'string' || !(level in LEVELS)))
        throw new SigmaRefusal(`level ${JSON.stringify(level)} is not one of ${Object.keys(LEVELS).join(', ')}`, ['level']);
      const tags = Array.isArray(o.tags)
        ? o.tags.filter((t): t is string => typeof t === 'string' && t.length > 0 && t.length <= 128).slice(0, 64)
        : [];
      const sigmaId = typeof o.id === 'string' ? o.id : undefined;
      const descr = typeof o.description === 'string' ? o.description.trim() : '';
      id = ruleId(o);
      const rule = {
        id,
        name: title,
        description:
          `${descr ? `${descr}\n` : ''}Imported from Sigma rule "${title}"${sigmaId ? ` (${sigmaId})` : ''}, ${k.doc.file}.`.slice(0, 4096),
        severity: LEVELS[(level as string | undefined) ?? 'medium']!,
        enabled: true,
        tags,
        ...shape,
      };
      const parsed = RuleSchema.safeParse(rule);
      if (!parsed.success) throw new SigmaRefusal(`the translated rule is not valid: ${parsed.error.issues[0]?.message ?? 'invalid'}`, []);
      // Compile it exactly as the engine will (regex safety, networks), so a refusal happens here.
      const compiled = compileRuleSet([{ file: k.doc.file, document: parsed.data }]);
      if (!compiled.ok)
        throw new SigmaRefusal(`the translated rule does not compile: ${compiled.errors.map(formatRuleError).join('; ')}`, ['detection']);
      accepted.push({ file: k.doc.file, line: k.doc.line, title, ...(sigmaId ? { sigmaId } : {}), rule: parsed.data });
    } catch (err) {
      if (!(err instanceof SigmaRefusal)) throw err;
      if (id) ids.delete(id);
      refuse(k.doc, title, err.message, err.path);
    }
  };

  for (const k of known) {
    if (!standalone(k)) continue; // only the correlation that refers to it is generated (Sigma's default)
    if (k.kind === 'detection') {
      const cond = detections.get(k)!;
      // A plain detection alerts on every matching event: threshold 1, each event its own group.
      emit(k, () => {
        if (cond instanceof SigmaRefusal) throw cond;
        return { kind: 'threshold', conditions: [cond], threshold: 1, window: 1, suppress_for: 1, group_by: ['event_id'] } as never;
      });
      continue;
    }
    emit(k, () => correlationShape(k, byRef, detections, mapping) as never);
  }
  return { accepted, refused };
}

function detectionCondition(o: Record<string, unknown>, mapping: SigmaMapping): RuleCondition {
  const logsource = logsourceConditions(o.logsource, mapping);
  const detection = translateDetection(o.detection, mapping);
  return simplify(logsource.length === 0 ? detection : { all: [...logsource, detection] });
}

function logsourceConditions(ls: unknown, mapping: SigmaMapping): RuleCondition[] {
  if (ls === null || typeof ls !== 'object' || Array.isArray(ls)) throw new SigmaRefusal('logsource is missing', ['logsource']);
  const o = ls as Record<string, unknown>;
  const wanted: Record<string, string> = {};
  for (const k of ['category', 'product', 'service'] as const) if (typeof o[k] === 'string') wanted[k] = o[k];
  const entry = mapping.logsources.find((e) => {
    const keys = Object.keys(e.match).filter((k) => e.match[k as 'category'] !== undefined);
    return keys.length === Object.keys(wanted).length && keys.every((k) => e.match[k as 'category'] === wanted[k]);
  });
  if (!entry)
    throw new SigmaRefusal(`logsource ${JSON.stringify(wanted)} has no mapping: Vigil cannot tell which events it means`, ['logsource']);
  return entry.conditions;
}

interface CorrelationSpec {
  type: string;
  rules: string[];
  groupBy: string[];
  timespan: number;
  condition: Record<string, unknown> | undefined;
  aliases: Record<string, Record<string, string>>;
  generate: boolean;
}

function readCorrelation(o: Record<string, unknown>): CorrelationSpec {
  const c = o.correlation as Record<string, unknown> | null;
  const path = ['correlation'];
  if (c === null || typeof c !== 'object' || Array.isArray(c)) throw new SigmaRefusal('correlation must be a map', path);
  const type = c.type;
  if (typeof type !== 'string' || !['event_count', 'value_count', 'temporal', 'temporal_ordered'].includes(type))
    throw new SigmaRefusal(
      `correlation type ${JSON.stringify(type)} is not supported (event_count, value_count, temporal, temporal_ordered)`,
      ['correlation', 'type'],
    );
  const rules = c.rules;
  if (!Array.isArray(rules) || rules.length === 0 || rules.some((r) => typeof r !== 'string'))
    throw new SigmaRefusal('correlation.rules must list rule ids or names', ['correlation', 'rules']);
  const gb = c['group-by'];
  if (gb !== undefined && (!Array.isArray(gb) || gb.some((g) => typeof g !== 'string')))
    throw new SigmaRefusal('group-by must be a list of field names', ['correlation', 'group-by']);
  const ts = typeof c.timespan === 'string' ? TIMESPAN.exec(c.timespan) : null;
  if (!ts) throw new SigmaRefusal('timespan must be a number and s, m, h or d (e.g. 5m)', ['correlation', 'timespan']);
  const timespan = Number(ts[1]) * UNIT[ts[2]!]!;
  const cond = c.condition;
  if (cond !== undefined && (cond === null || typeof cond !== 'object' || Array.isArray(cond)))
    throw new SigmaRefusal('condition must be a map such as { gte: 10 }', ['correlation', 'condition']);
  const aliases = (c.aliases ?? {}) as Record<string, Record<string, string>>;
  if (typeof aliases !== 'object' || Array.isArray(aliases)) throw new SigmaRefusal('aliases must be a map', ['correlation', 'aliases']);
  return {
    type,
    rules: rules as string[],
    groupBy: (gb as string[] | undefined) ?? [],
    timespan,
    condition: cond as Record<string, unknown> | undefined,
    aliases,
    generate: c.generate === true,
  };
}

/** The count an event_count / value_count condition fires at: gte N → N, gt N → N+1; anything else is refused. */
function fireCount(cond: Record<string, unknown> | undefined, allowField: boolean): number {
  const path = ['correlation', 'condition'];
  if (!cond) throw new SigmaRefusal('event_count and value_count need a condition', path);
  const ops = Object.keys(cond).filter((k) => !(allowField && k === 'field'));
  if (ops.length !== 1)
    throw new SigmaRefusal(
      `condition ${JSON.stringify(cond)}: Vigil fires when a count is reached, so only a single gte or gt can be kept exactly (ranges, lt, lte and eq cannot)`,
      path,
    );
  const op = ops[0]!;
  const n = cond[op];
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) throw new SigmaRefusal(`condition ${op} needs a whole number`, path);
  if (op === 'gte') return Math.max(1, n);
  if (op === 'gt') return n + 1;
  throw new SigmaRefusal(`condition ${op}: Vigil fires when a count is reached, so only gte or gt can be kept exactly`, path);
}

function correlationShape(
  k: Known,
  byRef: Map<string, Known>,
  detections: Map<DetectionDoc, RuleCondition | SigmaRefusal>,
  mapping: SigmaMapping,
): Record<string, unknown> {
  const spec = readCorrelation(k.value);
  const window = spec.timespan;
  const referenced = spec.rules.map((r, i) => {
    const t = byRef.get(r);
    if (!t) throw new SigmaRefusal(`correlation.rules names "${r}", which is not in the imported files`, ['correlation', 'rules', i]);
    return t;
  });
  const nameOf = (t: Known) => (typeof t.value.name === 'string' ? t.value.name : typeof t.value.id === 'string' ? t.value.id : '');
  // group-by with aliases resolved: every referenced rule must read the same Vigil field.
  const groupBy = spec.groupBy.map((g, gi) => {
    const alias = spec.aliases[g];
    const fields = referenced.map((t) => {
      const sigmaField = alias ? alias[nameOf(t)] : g;
      if (!sigmaField) throw new SigmaRefusal(`alias "${g}" names no field for rule "${nameOf(t)}"`, ['correlation', 'aliases', g]);
      const r = resolveField(mapping, sigmaField);
      if (!r)
        throw new SigmaRefusal(`group-by field "${sigmaField}" has no mapping to a Vigil event field`, ['correlation', 'group-by', gi]);
      if (r.values)
        throw new SigmaRefusal(`group-by field "${sigmaField}" translates values, which grouping cannot do`, [
          'correlation',
          'group-by',
          gi,
        ]);
      return r.field;
    });
    if (new Set(fields).size > 1)
      throw new SigmaRefusal(
        `alias "${g}" maps to different Vigil fields (${[...new Set(fields)].join(', ')}); a Vigil rule groups every event by the same field`,
        ['correlation', 'aliases', g],
      );
    return fields[0]!;
  });
  // No group-by: the whole stream is one group (every event has schema_version 1).
  const group_by = groupBy.length > 0 ? groupBy : ['schema_version'];
  const conditionOf = (t: Known, i: number): RuleCondition => {
    if (t.kind !== 'detection')
      throw new SigmaRefusal(`rule "${nameOf(t)}" is a correlation; only temporal rules may chain an event_count`, [
        'correlation',
        'rules',
        i,
      ]);
    const c = detections.get(t)!;
    if (c instanceof SigmaRefusal)
      throw new SigmaRefusal(`referenced rule "${nameOf(t) || titleOf(t.value)}" cannot be translated: ${c.message}`, [
        'correlation',
        'rules',
        i,
      ]);
    return c;
  };
  if (spec.type === 'event_count' || spec.type === 'value_count') {
    const conditions = [simplify({ any: referenced.map(conditionOf) })];
    const threshold = fireCount(spec.condition, spec.type === 'value_count');
    if (spec.type === 'event_count') return { kind: 'threshold', conditions, threshold, window, group_by };
    const field = spec.condition?.field;
    if (typeof field !== 'string') throw new SigmaRefusal('value_count needs condition.field', ['correlation', 'condition']);
    const r = resolveField(mapping, field);
    if (!r || r.values)
      throw new SigmaRefusal(`value_count field "${field}" has no plain mapping to a Vigil event field`, [
        'correlation',
        'condition',
        'field',
      ]);
    return { kind: 'distinct_count', conditions, field: r.field, threshold, window, group_by };
  }
  // temporal / temporal_ordered → a sequence: one step per referenced rule.
  if (referenced.length < 2) throw new SigmaRefusal('temporal correlations need at least two rules', ['correlation', 'rules']);
  if (spec.condition) {
    const ops = Object.entries(spec.condition);
    const all = ops.length === 1 && (ops[0]![0] === 'gte' || ops[0]![0] === 'eq') && ops[0]![1] === referenced.length;
    if (!all)
      throw new SigmaRefusal(
        `condition ${JSON.stringify(spec.condition)}: Vigil sequences need every referenced rule, so only gte/eq ${referenced.length} can be kept`,
        ['correlation', 'condition'],
      );
  }
  const steps = referenced.map((t, i) => {
    const name = (nameOf(t) || `step_${i + 1}`).slice(0, 128);
    if (t.kind === 'detection') return { name, conditions: [conditionOf(t, i)], count: 1 };
    // A chained event_count: its events become a step with a count, when that keeps the meaning.
    const inner = readCorrelation(t.value);
    if (inner.type !== 'event_count')
      throw new SigmaRefusal(`rule "${name}" is a ${inner.type} correlation; only event_count can be chained into a sequence`, [
        'correlation',
        'rules',
        i,
      ]);
    const innerGroup = inner.groupBy.map((g) => resolveField(mapping, g)?.field ?? `?${g}`);
    if (innerGroup.slice().sort().join('|') !== groupBy.slice().sort().join('|'))
      throw new SigmaRefusal(
        `chained rule "${name}" groups by ${inner.groupBy.join(', ') || 'nothing'}, not by the same fields as this correlation; a Vigil sequence has one grouping`,
        ['correlation', 'rules', i],
      );
    if (inner.timespan < window)
      throw new SigmaRefusal(
        `chained rule "${name}" counts within ${inner.timespan}s, less than this correlation's ${window}s; a Vigil sequence has one window`,
        ['correlation', 'rules', i],
      );
    const innerRefs = inner.rules.map((r) => {
      const x = byRef.get(r);
      if (!x)
        throw new SigmaRefusal(`chained rule "${name}" names "${r}", which is not in the imported files`, ['correlation', 'rules', i]);
      return x;
    });
    const count = fireCount(inner.condition, false);
    if (count > 1000)
      throw new SigmaRefusal(`chained rule "${name}" needs ${count} events; a sequence step counts at most 1000`, [
        'correlation',
        'rules',
        i,
      ]);
    return { name, conditions: [simplify({ any: innerRefs.map((x, j) => conditionOf(x, j)) })], count };
  });
  return { kind: 'sequence', ordered: spec.type === 'temporal_ordered', steps, window, group_by };
}

/** Stable id for an imported rule's output file name. */
export function importedFileName(rule: Rule): string {
  return `${rule.id}.yaml`;
}
