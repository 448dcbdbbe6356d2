import { z } from 'zod';
import { SeveritySchema } from '@vigil/contracts';

/** The operators a condition may use. A missing field never matches, whatever the operator. */
export const OPERATORS = ['equals', 'not_equals', 'contains', 'regex', 'greater_than', 'less_than', 'in', 'not_in'] as const;
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
]);
export type Condition = z.infer<typeof ConditionSchema>;

const Conditions = z.array(ConditionSchema).max(32);

/** Fields every rule kind shares. Times are in seconds. */
const base = {
  id: RuleIdSchema,
  name: z.string().min(1).max(256),
  description: z.string().max(4096).default(''),
  severity: SeveritySchema,
  enabled: z.boolean().default(true),
  /** AND-ed; an event must pass all of them to count for the rule. */
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
