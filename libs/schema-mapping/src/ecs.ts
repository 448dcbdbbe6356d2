import { SEVERITY_RANK, type Alert, type EventType, type Outcome, type SecurityEvent } from '@vigil/contracts';
import { ECS_VERSION } from './ecs-reference';

/** ECS event.category and event.type for each Vigil event type (values from ECS_EXPECTED_EVENT_TYPES). */
export const ECS_CATEGORIZATION: Readonly<Record<EventType, { category: string; type: string }>> = {
  authentication: { category: 'authentication', type: 'info' },
  authorization: { category: 'iam', type: 'info' },
  data_access: { category: 'database', type: 'access' },
  configuration_change: { category: 'configuration', type: 'change' },
  security_alert: { category: 'intrusion_detection', type: 'info' },
  network_event: { category: 'network', type: 'connection' },
  file_operation: { category: 'file', type: 'access' },
  system_event: { category: 'host', type: 'info' },
};

/** ECS event.outcome knows success, failure and unknown only: denied and error are failures. */
export function ecsOutcome(outcome: Outcome): 'success' | 'failure' | 'unknown' {
  if (outcome === 'success') return 'success';
  if (outcome === 'unknown') return 'unknown';
  return 'failure';
}

const uniq = (xs: Array<string | undefined>): string[] => [
  ...new Set(xs.filter((x): x is string => typeof x === 'string' && x.length > 0)),
];

/** A SecurityEvent as an ECS document; fields ECS has no place for live under `vigil`. */
export function toEcs(e: SecurityEvent): Record<string, unknown> {
  const cat = ECS_CATEGORIZATION[e.event_type];
  const ips = uniq([e.source.ip, e.actor?.ip]);
  const users = uniq([e.actor?.user_id, e.actor?.username]);
  return {
    '@timestamp': e.timestamp,
    message: e.action,
    ecs: { version: ECS_VERSION },
    event: {
      id: e.event_id,
      kind: e.event_type === 'security_alert' ? 'alert' : 'event',
      category: [cat.category],
      type: [cat.type],
      action: e.action,
      outcome: ecsOutcome(e.outcome),
      severity: SEVERITY_RANK[e.severity],
      created: e.received_at,
      dataset: 'vigil.security',
      module: 'vigil',
    },
    service: { name: e.source.application, ...(e.source.environment ? { environment: e.source.environment } : {}) },
    ...(e.source.hostname ? { host: { hostname: e.source.hostname, name: e.source.hostname } } : {}),
    ...(e.source.ip ? { source: { ip: e.source.ip } } : {}),
    ...(e.actor?.user_id || e.actor?.username
      ? { user: { ...(e.actor.user_id ? { id: e.actor.user_id } : {}), ...(e.actor.username ? { name: e.actor.username } : {}) } }
      : {}),
    ...(e.actor?.user_agent ? { user_agent: { original: e.actor.user_agent } } : {}),
    ...(ips.length || users.length ? { related: { ...(ips.length ? { ip: ips } : {}), ...(users.length ? { user: users } : {}) } } : {}),
    tags: e.tags,
    vigil: {
      event_type: e.event_type,
      severity: e.severity,
      outcome: e.outcome,
      ...(e.actor ? { actor: e.actor } : {}),
      ...(e.target ? { target: e.target } : {}),
      details: e.details,
      ...(e.correlation_id ? { correlation_id: e.correlation_id } : {}),
      ...(e.flags ? { flags: e.flags } : {}),
      ...(e.integrity ? { integrity_verified: e.integrity.verified } : {}),
    },
  };
}

/** An Alert as an ECS document (event.kind "alert", rule.*). */
export function toEcsAlert(a: Alert): Record<string, unknown> {
  return {
    '@timestamp': a.created_at,
    message: a.rule.name,
    ecs: { version: ECS_VERSION },
    event: {
      id: a.alert_id,
      kind: 'alert',
      severity: SEVERITY_RANK[a.severity],
      created: a.created_at,
      start: a.first_event_at,
      end: a.last_event_at,
      dataset: 'vigil.alert',
      module: 'vigil',
    },
    rule: { id: a.rule.id, name: a.rule.name, description: a.rule.description, category: a.rule.kind },
    tags: a.tags,
    vigil: {
      severity: a.severity,
      dedup_key: a.dedup_key,
      group: a.group,
      event_count: a.event_count,
      ...(a.distinct_count !== undefined ? { distinct_count: a.distinct_count } : {}),
      ...(a.action ? { action: a.action } : {}),
      sample_event_ids: a.sample_events.map((s) => s.event_id),
    },
  };
}
