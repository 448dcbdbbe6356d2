import { z } from 'zod';

export const EVENT_TYPES = [
  'authentication',
  'authorization',
  'data_access',
  'configuration_change',
  'security_alert',
  'network_event',
  'file_operation',
  'system_event',
] as const;
export const EventTypeSchema = z.enum(EVENT_TYPES);
export type EventType = z.infer<typeof EventTypeSchema>;

/** Ordered from most to least severe. */
export const SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'] as const;
export const SeveritySchema = z.enum(SEVERITIES);
export type Severity = z.infer<typeof SeveritySchema>;

/** Numeric rank, higher is more severe: lets routes say "high or above". */
export const SEVERITY_RANK: Readonly<Record<Severity, number>> = {
  critical: 5,
  high: 4,
  medium: 3,
  low: 2,
  info: 1,
};

export const OUTCOMES = ['success', 'failure', 'denied', 'error', 'unknown'] as const;
export const OutcomeSchema = z.enum(OUTCOMES);
export type Outcome = z.infer<typeof OutcomeSchema>;

export const ACTOR_TYPES = ['user', 'service', 'system'] as const;
export const ActorTypeSchema = z.enum(ACTOR_TYPES);
export type ActorType = z.infer<typeof ActorTypeSchema>;
