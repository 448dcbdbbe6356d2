import { z } from 'zod';
import { SeveritySchema } from '@vigil/contracts';

/** The operators a condition may use. A missing field never matches, whatever the operator. */
export const OPERATORS = [
  'equals',
  'not_equals',
  'contains',
  'regex',
  'greater_than',
  'less_than',
  'in',
  'not_in',
  'starts_with',
  'ends_with',
  'greater_or_equal',
  'less_or_equal',
  'cidr',
  'exists',
] as const;
export type Operator = (typeof OPERATORS)[number];

/** Largest threshold a rule may ask for; also bounds the per-group window (see MAX_WINDOW_MEMBERS). */
export const MAX_THRESHOLD = 5_000;
export const MAX_WINDOW_SECONDS = 7 * 24 * 3600; // one week
export const MAX_SEQUENCE_STEPS = 8;
export const DEFAULT_GROUP_BY = ['source.ip', 'actor.user_id'] as const;

export const RuleIdSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_.-]{0,63}$/, 'must be 1-64 of a-z 0-9 _ . - starting with a letter or digit');
export const FieldPathSchema = z
  .string()
  .max(256)
  .regex(/^[A-Za-z0-9_@-]+(\.[A-Za-z0-9_@-]+)*$/, 'must be a dotted field path such as source.ip or details.response_code');
const Scalar = z.union([z.string().max(1024), z.number(), z.boolean()]);

const condition = <O extends Operator, V extends z.ZodType>(operator: O, value: V) =>
  z.strictObject({
    field: FieldPathSchema,
    operator: z.literal(operator),
    value,
    /** Compare strings without regard to case (equals, not_equals, contains, regex, in, not_in). */
    ignore_case: z.boolean().optional(),
  });

/** One `{field, operator, value}` test on a dotted path of the event. */
export const ConditionSchema = z.discriminatedUnion('operator', [
  condition('equals', Scalar),
  condition('not_equals', Scalar),
  condition('contains', Scalar),
  condition('regex', z.string().min(1)),
  condition('greater_than', z.number()),
  condition('less_than', z.number()),
  condition('in', z.array(Scalar).min(1).max(1000)),
  condition('not_in', z.array(Scalar).min(1).max(1000)),
  condition('starts_with', z.string().min(1).max(1024)),
  condition('ends_with', z.string().min(1).max(1024)),
  condition('greater_or_equal', z.number()),
  condition('less_or_equal', z.number()),
  /** An IPv4 or IPv6 network, e.g. 10.0.0.0/8: the field must be an address inside it. */
  condition('cidr', z.string().min(3).max(64)),
  /** true: the field is present (and not null); false: it is absent or null. */
  condition('exists', z.boolean()),
]);
export type Condition = z.infer<typeof ConditionSchema>;

/** How deeply `any` / `all` / `not` groups may nest. */
export const MAX_CONDITION_DEPTH = 8;

/** A condition or a group: `{ any: [...] }` (OR), `{ all: [...] }` (AND), `{ not: ... }`. */
export type RuleCondition = Condition | { any: RuleCondition[] } | { all: RuleCondition[] } | { not: RuleCondition };

const conditionList = () =>
  z
    .array(z.lazy(() => RuleConditionSchema))
    .min(1)
    .max(256);
const AnySchema = z.strictObject({ any: conditionList() });
const AllSchema = z.strictObject({ all: conditionList() });
const NotSchema = z.strictObject({ not: z.lazy(() => RuleConditionSchema) });

function schemaFor(v: unknown): z.ZodType {
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    if ('any' in v) return AnySchema;
    if ('all' in v) return AllSchema;
    if ('not' in v) return NotSchema;
  }
  return ConditionSchema;
}

/**
 * A leaf is checked by ConditionSchema itself (so its errors name the exact field, as before groups
 * existed); an object with `any`, `all` or `not` is checked as that group, recursively.
 */
export const RuleConditionSchema: z.ZodType<RuleCondition> = z.unknown().transform((v, ctx): RuleCondition => {
  const r = schemaFor(v).safeParse(v);
  if (r.success) return r.data as RuleCondition;
  for (const issue of r.error.issues) ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path });
  return z.NEVER;
});

const Conditions = z.array(RuleConditionSchema).max(32);

/** Fields every rule kind shares. Times are in seconds. */
const base = {
  id: RuleIdSchema,
  name: z.string().min(1).max(256),
  description: z.string().max(4096).default(''),
  severity: SeveritySchema,
  enabled: z.boolean().default(true),
  /** AND-ed; an event must pass all of them to count for the rule. Groups (any/all/not) nest. */
  conditions: Conditions.default([]),
  /** Window (threshold, distinct_count) or span (sequence), in seconds. */
  window: z.number().int().min(1).max(MAX_WINDOW_SECONDS),
  group_by: z
    .array(FieldPathSchema)
    .min(1)
    .max(8)
    .default([...DEFAULT_GROUP_BY]),
  /** After a group fires it stays quiet this long (event time); default = window. */
  suppress_for: z
    .number()
    .int()
    .min(1)
    .max(30 * 24 * 3600)
    .optional(),
  /** Response hint for SOAR, e.g. block_ip. */
  action: z
    .string()
    .regex(/^[a-z][a-z0-9_]{0,63}$/, 'must be a snake_case action name such as block_ip')
    .optional(),
  /** MITRE ATT&CK ids and free labels. */
  tags: z.array(z.string().min(1).max(128)).max(64).default([]),
};

export const ThresholdRuleSchema = z.strictObject({
  ...base,
  kind: z.literal('threshold'),
  /** Fire when at least this many matching events fall in one window. */
  threshold: z.number().int().min(1).max(MAX_THRESHOLD),
});

export const DistinctCountRuleSchema = z.strictObject({
  ...base,
  kind: z.literal('distinct_count'),
  /** Dotted path whose distinct values are counted (events without it do not count). */
  field: FieldPathSchema,
  /** Fire when at least this many distinct values fall in one window. */
  threshold: z.number().int().min(1).max(MAX_THRESHOLD),
});

export const SequenceStepSchema = z.strictObject({
  name: z.string().min(1).max(128),
  conditions: Conditions.min(1),
  /** Events this step needs before the next step may start. */
  count: z.number().int().min(1).max(1000).default(1),
});

export const SequenceRuleSchema = z.strictObject({
  ...base,
  kind: z.literal('sequence'),
  /** true: steps must complete in order (Sigma temporal_ordered); false: all within the span (Sigma temporal). */
  ordered: z.boolean().default(true),
  steps: z.array(SequenceStepSchema).min(2).max(MAX_SEQUENCE_STEPS),
});

export const RuleSchema = z.discriminatedUnion('kind', [ThresholdRuleSchema, DistinctCountRuleSchema, SequenceRuleSchema]);
export type Rule = z.infer<typeof RuleSchema>;
export type ThresholdRule = z.infer<typeof ThresholdRuleSchema>;
export type DistinctCountRule = z.infer<typeof DistinctCountRuleSchema>;
export type SequenceRule = z.infer<typeof SequenceRuleSchema>;
