import type { Alert } from '@vigil/contracts';

/**
 * The labels routes, silences and inhibition rules match on. An alert becomes:
 * `severity`, `rule` (rule id), `rule_name`, `kind`, `dedup_key`, `action` (when set),
 * `group.<field>` for each group value (e.g. `group.source.ip`), and the multi-valued `tag`.
 */
export interface AlertLabels {
  readonly values: Readonly<Record<string, string>>;
  readonly tags: readonly string[];
}

/** The label name that stands for "any of the alert's tags". */
export const TAG_LABEL = 'tag';
export const GROUP_LABEL_PREFIX = 'group.';

export function alertLabels(alert: Alert): AlertLabels {
  const values: Record<string, string> = {
    severity: alert.severity,
    rule: alert.rule.id,
    rule_name: alert.rule.name,
    kind: alert.rule.kind,
    dedup_key: alert.dedup_key,
  };
  if (alert.action) values.action = alert.action;
  for (const [k, v] of Object.entries(alert.group)) values[GROUP_LABEL_PREFIX + k] = v;
  return { values, tags: [...alert.tags] };
}

/** A label's value; an absent label reads as "" (Alertmanager semantics: `foo=""` matches "no foo"). */
export function labelValue(labels: AlertLabels, name: string): string {
  return Object.prototype.hasOwnProperty.call(labels.values, name) ? labels.values[name]! : '';
}
