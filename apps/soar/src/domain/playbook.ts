import { z } from 'zod';
import { RESPONSE_ACTIONS, SEVERITY_RANK, SeveritySchema, type Alert, type ResponseAction, type Severity } from '@vigil/contracts';
import { parseTemplate, type Template } from './template';

/** What an action acts on, which connectors can carry it, and the action that undoes it. */
export interface ActionSpec {
  target: 'ip' | 'user' | 'host' | 'none';
  connectors: readonly ConnectorName[];
  inverse?: ResponseAction;
}

export const CONNECTOR_NAMES = ['firewall', 'nftables', 'denylist', 'scim', 'edr', 'alert_router'] as const;
export type ConnectorName = (typeof CONNECTOR_NAMES)[number];

const IP_CONNECTORS = ['firewall', 'nftables', 'denylist'] as const;

export const ACTION_SPECS: Readonly<Record<ResponseAction, ActionSpec>> = {
  block_ip: { target: 'ip', connectors: IP_CONNECTORS, inverse: 'unblock_ip' },
  unblock_ip: { target: 'ip', connectors: IP_CONNECTORS },
  disable_user: { target: 'user', connectors: ['scim'], inverse: 'enable_user' },
  enable_user: { target: 'user', connectors: ['scim'] },
  isolate_host: { target: 'host', connectors: ['edr'], inverse: 'release_host' },
  release_host: { target: 'host', connectors: ['edr'] },
  notify: { target: 'none', connectors: ['alert_router'] },
};

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
/** Longest duration a playbook may ask for: 365 days. */
export const MAX_DURATION_MS = 365 * UNIT_MS.d;

/** "90s", "10m", "1h", "7d", "500ms" or a number of seconds, to milliseconds. */
export function parseDuration(v: string | number): number | null {
  if (typeof v === 'number') return Number.isInteger(v) && v > 0 && v * 1000 <= MAX_DURATION_MS ? v * 1000 : null;
  const m = /^(\d{1,9})(ms|s|m|h|d)$/.exec(v.trim());
  if (!m) return null;
  const ms = Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
  return ms > 0 && ms <= MAX_DURATION_MS ? ms : null;
}

const DurationSchema = z.union([z.string().max(32), z.number()]).transform((v, ctx) => {
  const ms = parseDuration(v);
  if (ms === null) {
    ctx.addIssue({ code: 'custom', message: 'must be a duration like 90s, 10m, 1h or 7d (at most 365d), or a positive number of seconds' });
    return z.NEVER;
  }
  return ms;
});

const TemplateSchema = z
  .string()
  .min(1)
  .max(1024)
  .transform((v, ctx) => {
    const t = parseTemplate(v);
    if (!t.ok) {
      ctx.addIssue({ code: 'custom', message: t.reason });
      return z.NEVER;
    }
    return t.value;
  });

const OneOrMany = z
  .union([z.string().min(1).max(256), z.array(z.string().min(1).max(256)).min(1).max(64)])
  .transform((v) => (Array.isArray(v) ? v : [v]));

const TriggerSchema = z
  .strictObject({
    /** Rule ids, any of. */
    rule_id: OneOrMany.optional(),
    /** The alert's response hint (`action`), any of. */
    action: OneOrMany.optional(),
    /** Lowest severity that triggers. */
    min_severity: SeveritySchema.optional(),
    /** Tags the alert must all carry. */
    tags: z.array(z.string().min(1).max(128)).max(32).optional(),
  })
  .refine((t) => t.rule_id || t.action || t.min_severity || t.tags, {
    message: 'needs at least one of rule_id, action, min_severity, tags',
  });

const StepSchema = z
  .strictObject({
    name: z.string().min(1).max(128).optional(),
    action: z.enum(RESPONSE_ACTIONS),
    /** Where the action points, usually a template into the alert. */
    target: TemplateSchema.optional(),
    /** Which connector carries the action; default per action from the service config. */
    connector: z.enum(CONNECTOR_NAMES).optional(),
    /** notify: the message text (a template). */
    message: TemplateSchema.optional(),
    /** notify: severity of the notification; default the alert's. */
    severity: SeveritySchema.optional(),
    requires_approval: z.boolean().default(false),
    /** How long an approval may wait before the run expires; default from the service config. */
    approval_ttl: DurationSchema.optional(),
    /** Reversible actions: undo after this long. */
    duration: DurationSchema.optional(),
    /** Repeat offenders: durations for the 2nd, 3rd, ... offence within the offender window. */
    escalation: z.array(DurationSchema).min(1).max(10).optional(),
    /** Go on with the next step when this one fails or is refused. */
    continue_on_failure: z.boolean().default(false),
  })
  .superRefine((s, ctx) => {
    const spec = ACTION_SPECS[s.action];
    if (spec.target !== 'none' && !s.target) ctx.addIssue({ code: 'custom', path: ['target'], message: `${s.action} needs a target` });
    if (spec.target === 'none' && s.target) ctx.addIssue({ code: 'custom', path: ['target'], message: `${s.action} takes no target` });
    if (s.action === 'notify' && !s.message) ctx.addIssue({ code: 'custom', path: ['message'], message: 'notify needs a message' });
    if (s.action !== 'notify' && (s.message || s.severity)) {
      ctx.addIssue({ code: 'custom', path: [s.message ? 'message' : 'severity'], message: 'only notify takes a message and severity' });
    }
    if (s.connector && !spec.connectors.includes(s.connector)) {
      ctx.addIssue({
        code: 'custom',
        path: ['connector'],
        message: `${s.action} runs on ${spec.connectors.join(' or ')}, not ${s.connector}`,
      });
    }
    if (s.duration !== undefined && !spec.inverse) {
      ctx.addIssue({ code: 'custom', path: ['duration'], message: `${s.action} cannot be undone, so it takes no duration` });
    }
    if (s.escalation && s.duration === undefined)
      ctx.addIssue({ code: 'custom', path: ['escalation'], message: 'escalation needs a duration' });
    if (s.approval_ttl !== undefined && !s.requires_approval) {
      ctx.addIssue({ code: 'custom', path: ['approval_ttl'], message: 'approval_ttl needs requires_approval: true' });
    }
  });

export const PlaybookSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'must be 1-64 of a-z 0-9 . _ - starting with a letter or digit'),
  description: z.string().max(2048).default(''),
  enabled: z.boolean().default(true),
  /** Record what would be done and call nothing. */
  dry_run: z.boolean().default(false),
  trigger: TriggerSchema,
  steps: z.array(StepSchema).min(1).max(20),
});

export type PlaybookStep = z.infer<typeof StepSchema>;
export type Trigger = z.infer<typeof TriggerSchema>;
/** A validated playbook, templates parsed. */
export type Playbook = z.infer<typeof PlaybookSchema>;
export type { Template };

/** True when the alert satisfies every condition the trigger sets. */
export function triggerMatches(t: Trigger, alert: Alert): boolean {
  if (t.rule_id && !t.rule_id.includes(alert.rule.id)) return false;
  if (t.action && (alert.action === undefined || !t.action.includes(alert.action))) return false;
  if (t.min_severity && SEVERITY_RANK[alert.severity] < SEVERITY_RANK[t.min_severity as Severity]) return false;
  if (t.tags && !t.tags.every((tag) => alert.tags.includes(tag))) return false;
  return true;
}

/** The enabled playbooks an alert triggers, in load order. */
export function matchPlaybooks(playbooks: readonly Playbook[], alert: Alert): Playbook[] {
  return playbooks.filter((p) => p.enabled && triggerMatches(p.trigger, alert));
}

/** Duration for this offence: the base for the first, then the escalation list, its last entry repeating. */
export function escalatedDuration(step: Pick<PlaybookStep, 'duration' | 'escalation'>, priorOffences: number): number | undefined {
  if (step.duration === undefined) return undefined;
  const ladder = [step.duration, ...(step.escalation ?? [])];
  return ladder[Math.min(Math.max(0, priorOffences), ladder.length - 1)];
}
