import { z } from 'zod';
import { EVENT_TYPES } from '@vigil/contracts';
import { FieldPathSchema, RuleConditionSchema, type RuleCondition } from '../domain/rule';

/**
 * How Sigma rules meet Vigil events: field names (Sigma taxonomy / ECS → our dotted paths, with
 * optional value translation), the fields keyword searches look in, and which Sigma logsources
 * Vigil's events stand for (with the conditions that select them). A field, value or logsource
 * the mapping does not name makes the importer refuse the rule, never guess.
 */
const Scalar = z.union([z.string().max(1024), z.number(), z.boolean()]);

export const FieldMappingSchema = z.union([
  FieldPathSchema,
  z.strictObject({
    field: FieldPathSchema,
    /** Sigma value → our value(s) (several: any of them). Values not listed are refused. */
    values: z.record(z.string().max(256), z.union([Scalar, z.array(Scalar).min(1).max(64)])).optional(),
  }),
]);
export type FieldMapping = z.infer<typeof FieldMappingSchema>;

const LogsourceKeys = z.strictObject({
  category: z.string().max(128).optional(),
  product: z.string().max(128).optional(),
  service: z.string().max(128).optional(),
});

export const SigmaMappingSchema = z.strictObject({
  /** Sigma field → our field. A key ending in `.*` maps a prefix: `details.*: details.*`. */
  fields: z.record(z.string().min(1).max(256), FieldMappingSchema).default({}),
  keywords: z.strictObject({ fields: z.array(FieldPathSchema).max(16).default([]) }).default({ fields: [] }),
  logsources: z
    .array(
      z.strictObject({
        match: LogsourceKeys,
        /** AND-ed with the rule's detection: what makes an event belong to this logsource. */
        conditions: z.array(RuleConditionSchema).max(16).default([]),
      }),
    )
    .max(256)
    .default([]),
});
export type SigmaMapping = z.infer<typeof SigmaMappingSchema>;

const ev = (event_type: string): RuleCondition => ({ field: 'event_type', operator: 'equals', value: event_type });

/**
 * The default: our own field names as themselves, the ECS names toEcs() writes (so a rule written
 * against Vigil's ECS output reads the same events), and product `vigil` with our event types as
 * categories. ECS event.category / event.outcome values translate back exactly as toEcs maps them.
 */
export const DEFAULT_SIGMA_MAPPING: SigmaMapping = {
  fields: {
    event_id: 'event_id',
    event_type: 'event_type',
    severity: 'severity',
    action: 'action',
    outcome: 'outcome',
    correlation_id: 'correlation_id',
    tags: 'tags',
    'source.application': 'source.application',
    'source.environment': 'source.environment',
    'source.ip': 'source.ip',
    'source.hostname': 'source.hostname',
    'actor.type': 'actor.type',
    'actor.user_id': 'actor.user_id',
    'actor.username': 'actor.username',
    'actor.ip': 'actor.ip',
    'actor.session_id': 'actor.session_id',
    'actor.user_agent': 'actor.user_agent',
    'target.type': 'target.type',
    'target.id': 'target.id',
    'target.name': 'target.name',
    'target.resource': 'target.resource',
    'details.*': 'details.*',
    // ECS names, as toEcs() writes them.
    'event.id': 'event_id',
    'event.action': 'action',
    'event.outcome': { field: 'outcome', values: { success: 'success', failure: ['failure', 'denied', 'error'], unknown: 'unknown' } },
    'event.category': {
      field: 'event_type',
      values: {
        authentication: 'authentication',
        iam: 'authorization',
        database: 'data_access',
        configuration: 'configuration_change',
        intrusion_detection: 'security_alert',
        network: 'network_event',
        file: 'file_operation',
        host: 'system_event',
      },
    },
    'service.name': 'source.application',
    'service.environment': 'source.environment',
    'host.hostname': 'source.hostname',
    'host.name': 'source.hostname',
    'user.id': 'actor.user_id',
    'user.name': 'actor.username',
    'user_agent.original': 'actor.user_agent',
    // Sigma's generic names for the same things.
    User: 'actor.user_id',
    SourceIp: 'source.ip',
    src_ip: 'source.ip',
  },
  keywords: { fields: ['action'] },
  logsources: [
    { match: { product: 'vigil' }, conditions: [] },
    // Our own event types as Sigma logsource categories of product `vigil`.
    ...EVENT_TYPES.map((c) => ({ match: { product: 'vigil', category: c }, conditions: [ev(c)] })),
  ],
};

/** A user mapping on top of the default: its fields and logsources win; keyword fields replace. */
export function mergeMappings(base: SigmaMapping, over: SigmaMapping): SigmaMapping {
  return {
    fields: { ...base.fields, ...over.fields },
    keywords: over.keywords.fields.length > 0 ? over.keywords : base.keywords,
    logsources: [...over.logsources, ...base.logsources],
  };
}

export type ResolvedField = { field: string; values?: Readonly<Record<string, unknown>> };

/** Our field for a Sigma field name, or null when the mapping does not name it. */
export function resolveField(mapping: SigmaMapping, name: string): ResolvedField | null {
  const direct = mapping.fields[name];
  const from = (m: FieldMapping, suffix = ''): ResolvedField =>
    typeof m === 'string'
      ? { field: m.replace(/\.\*$/, '') + suffix }
      : { field: m.field + suffix, ...(m.values ? { values: m.values } : {}) };
  if (direct !== undefined && !name.endsWith('.*')) return from(direct);
  // Longest matching prefix mapping (details.* → details.*).
  let best: { key: string; m: FieldMapping } | null = null;
  for (const [key, m] of Object.entries(mapping.fields)) {
    if (!key.endsWith('.*')) continue;
    const prefix = key.slice(0, -1); // keeps the dot
    if (name.startsWith(prefix) && name.length > prefix.length && (!best || key.length > best.key.length)) best = { key, m };
  }
  if (!best) return null;
  const rest = name.slice(best.key.length - 1);
  const target = typeof best.m === 'string' ? best.m : best.m.field;
  return { field: `${target.replace(/\.\*$/, '')}.${rest}` };
}
