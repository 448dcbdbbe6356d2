import { GROUP_LABEL_PREFIX, labelValue, type AlertLabels } from './labels';
import { matchesAll, parseMatcher, type Matcher } from './matchers';
import type { InhibitRuleSpec } from './routes';

/** While a source alert fires, target alerts with the same `equal` label values are muted. */
export interface InhibitRule {
  readonly sourceMatchers: readonly Matcher[];
  readonly targetMatchers: readonly Matcher[];
  readonly equal: readonly string[];
}

/** An alert that may inhibit others: its labels and its dedup key (an alert never mutes itself). */
export interface InhibitSource {
  readonly dedupKey: string;
  readonly labels: AlertLabels;
}

/** `group.*` in `equal` means every group value: same field names and same values on both sides. */
function equalOn(label: string, a: AlertLabels, b: AlertLabels): boolean {
  if (label !== 'group.*') return labelValue(a, label) === labelValue(b, label);
  const groupOf = (l: AlertLabels) =>
    JSON.stringify(
      Object.entries(l.values)
        .filter(([k]) => k.startsWith(GROUP_LABEL_PREFIX))
        .sort(([x], [y]) => (x < y ? -1 : 1)),
    );
  return groupOf(a) === groupOf(b);
}

function parsed(texts: readonly string[]): Matcher[] {
  const out: Matcher[] = [];
  for (const t of texts) {
    const m = parseMatcher(t);
    if (m.ok) out.push(m.value);
  }
  return out;
}

/** Builds rules from specs the schema already validated. */
export function buildInhibitRules(specs: readonly InhibitRuleSpec[]): InhibitRule[] {
  return specs.map((s) => ({ sourceMatchers: parsed(s.source_matchers), targetMatchers: parsed(s.target_matchers), equal: s.equal }));
}

/** Whether the alert can act as a source for any rule (worth remembering as one). */
export function isInhibitSource(rules: readonly InhibitRule[], labels: AlertLabels): boolean {
  return rules.some((r) => matchesAll(r.sourceMatchers, labels));
}

/**
 * The first rule under which `target` is muted by one of the firing `sources`, or null.
 * Like Alertmanager, an alert that matches both sides of a rule does not inhibit itself.
 */
export function inhibitedBy(
  rules: readonly InhibitRule[],
  target: InhibitSource,
  sources: readonly InhibitSource[],
): { rule: number; source: string } | null {
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i]!;
    if (!matchesAll(rule.targetMatchers, target.labels)) continue;
    for (const s of sources) {
      if (s.dedupKey === target.dedupKey) continue;
      if (!matchesAll(rule.sourceMatchers, s.labels)) continue;
      if (rule.equal.every((l) => equalOn(l, s.labels, target.labels))) return { rule: i, source: s.dedupKey };
    }
  }
  return null;
}
