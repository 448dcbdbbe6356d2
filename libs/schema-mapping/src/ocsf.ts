import type { Alert, EventType, Outcome, SecurityEvent, Severity } from '@vigil/contracts';
import { OCSF_CATEGORIES, OCSF_CLASSES, OCSF_SEVERITIES, OCSF_STATUSES, OCSF_VERSION, type OcsfClassName } from './ocsf-reference';

/** OCSF class for each Vigil event type (docs/schema-mapping.md says why each one). */
export const OCSF_CLASS_OF: Readonly<Record<EventType, OcsfClassName>> = {
  authentication: 'authentication',
  authorization: 'api_activity',
  data_access: 'api_activity',
  configuration_change: 'entity_management',
  security_alert: 'detection_finding',
  network_event: 'network_activity',
  file_operation: 'file_activity',
  system_event: 'base_event',
};

export const OCSF_SEVERITY_ID: Readonly<Record<Severity, number>> = { info: 1, low: 2, medium: 3, high: 4, critical: 5 };

/** status_id of an activity: denied and error are failures (status_detail keeps the distinction). */
export const OCSF_STATUS_ID: Readonly<Record<Outcome, number>> = { success: 1, failure: 2, denied: 2, error: 2, unknown: 0 };

const OTHER = 99;

/**
 * Words of `action` (or of details.permission / details.operation) that name an activity of the
 * class, matched whole and case-insensitively; anything else is 99 Other with activity_name = the
 * action itself, so nothing is guessed.
 */
const ACTIVITY_WORDS: Readonly<Partial<Record<OcsfClassName, ReadonlyArray<[RegExp, number]>>>> = {
  authentication: [
    [/^(login|logon|log_in|log-in|sign_in|signin|sign-in)$/i, 1],
    [/^(logout|logoff|log_out|log-out|sign_out|signout|sign-out)$/i, 2],
  ],
  api_activity: [
    [/^(create|add|insert|post)$/i, 1],
    [/^(read|get|view|list|export|download|select|query)$/i, 2],
    [/^(update|write|modify|edit|put|patch|change)$/i, 3],
    [/^(delete|remove|destroy)$/i, 4],
  ],
  entity_management: [
    [/^(create|add)$/i, 1],
    [/^(read|get|view)$/i, 2],
    [/^(update|set|change|modify|edit)$/i, 3],
    [/^(delete|remove)$/i, 4],
  ],
  network_activity: [
    [/^(open|connect|connection_opened)$/i, 1],
    [/^(close|disconnect|connection_closed)$/i, 2],
    [/^reset$/i, 3],
    [/^(refuse|refused|reject|rejected)$/i, 5],
    [/^listen$/i, 7],
  ],
  file_activity: [
    [/^(create|write_new)$/i, 1],
    [/^(read|download)$/i, 2],
    [/^(update|write|modify|upload)$/i, 3],
    [/^(delete|remove)$/i, 4],
    [/^(rename|move)$/i, 5],
    [/^open$/i, 14],
  ],
};

function activityOf(cls: OcsfClassName, words: Array<unknown>): number {
  const table = ACTIVITY_WORDS[cls];
  if (!table) return OTHER;
  for (const w of words) {
    if (typeof w !== 'string') continue;
    for (const [re, id] of table) if (re.test(w.trim())) return id;
  }
  return OTHER;
}

function caption(cls: OcsfClassName, activityId: number, action: string): string {
  if (activityId === OTHER) return action;
  return (OCSF_CLASSES[cls].activities as Record<number, string>)[activityId] ?? 'Unknown';
}

function userOf(e: SecurityEvent): Record<string, unknown> | undefined {
  if (!e.actor?.user_id && !e.actor?.username) return undefined;
  return { ...(e.actor.user_id ? { uid: e.actor.user_id } : {}), ...(e.actor.username ? { name: e.actor.username } : {}) };
}

function srcEndpoint(e: SecurityEvent): Record<string, unknown> | undefined {
  const ip = e.source.ip ?? e.actor?.ip;
  return ip ? { ip } : undefined;
}

const basename = (p: string): string => p.split(/[\\/]/).filter(Boolean).pop() ?? p;

/** A SecurityEvent as an OCSF 1.3 event of the class its event_type maps to. */
export function toOcsf(e: SecurityEvent): Record<string, unknown> {
  const clsName = OCSF_CLASS_OF[e.event_type];
  const cls = OCSF_CLASSES[clsName];
  const user = userOf(e);
  const src = srcEndpoint(e);
  const details = e.details as Record<string, unknown>;
  const finding = clsName === 'detection_finding';
  const activityId = finding ? 1 : activityOf(clsName, [e.action, details.permission, details.operation]);
  const time = Date.parse(e.timestamp);
  const out: Record<string, unknown> = {
    class_uid: cls.uid,
    class_name: cls.name,
    category_uid: cls.category_uid,
    category_name: OCSF_CATEGORIES[cls.category_uid],
    activity_id: activityId,
    activity_name: caption(clsName, activityId, e.action),
    type_uid: cls.uid * 100 + activityId,
    type_name: `${cls.name}: ${caption(clsName, activityId, e.action)}`,
    time,
    severity_id: OCSF_SEVERITY_ID[e.severity],
    severity: OCSF_SEVERITIES[OCSF_SEVERITY_ID[e.severity]],
    message: e.action,
    metadata: {
      version: OCSF_VERSION,
      uid: e.event_id,
      product: { name: 'Vigil', vendor_name: 'Vigil', feature: { name: e.source.application } },
      logged_time: Date.parse(e.received_at),
      ...(e.correlation_id ? { correlation_uid: e.correlation_id } : {}),
      ...(e.tags.length > 0 ? { labels: e.tags } : {}),
    },
  };
  if (finding) {
    // A finding's status_id is its triage state (1 New), not the outcome of an activity.
    out.status_id = 1;
    out.status = 'New';
    out.is_alert = true;
    const alertType = typeof details.alert_type === 'string' ? details.alert_type : undefined;
    out.finding_info = {
      uid: e.event_id,
      title: alertType ?? e.action,
      ...(typeof details.description === 'string' ? { desc: details.description } : {}),
      ...(alertType ? { types: [alertType] } : {}),
      created_time: time,
    };
  } else {
    out.status_id = OCSF_STATUS_ID[e.outcome];
    out.status = OCSF_STATUSES[OCSF_STATUS_ID[e.outcome]];
    if (e.outcome === 'denied' || e.outcome === 'error') out.status_detail = e.outcome;
  }
  const target = e.target;
  switch (clsName) {
    case 'authentication':
      if (user) out.user = user;
      out.service = { name: e.source.application };
      if (e.source.hostname) out.dst_endpoint = { hostname: e.source.hostname };
      if (src) out.src_endpoint = src;
      break;
    case 'api_activity':
      out.actor = user ? { user } : {};
      out.api = { operation: e.action, service: { name: e.source.application } };
      if (target && (target.resource || target.name || target.id)) {
        out.resources = [
          {
            ...(target.resource || target.name ? { name: target.resource ?? target.name } : {}),
            ...(target.id ? { uid: target.id } : {}),
            ...(target.type ? { type: target.type } : {}),
          },
        ];
      }
      if (src) out.src_endpoint = src;
      break;
    case 'entity_management':
      if (user) out.actor = { user };
      out.entity = {
        ...(target?.name || target?.resource ? { name: target.name ?? target.resource } : {}),
        ...(target?.id ? { uid: target.id } : {}),
        ...(target?.type ? { type: target.type } : {}),
      };
      if (src) out.src_endpoint = src;
      break;
    case 'network_activity':
      if (src) out.src_endpoint = src;
      if (e.source.hostname) out.dst_endpoint = { hostname: e.source.hostname };
      if (user) out.actor = { user };
      break;
    case 'file_activity': {
      const path = target?.resource ?? target?.name;
      out.actor = user ? { user } : {};
      out.file = { name: path ? basename(path) : '', ...(path ? { path } : {}), type_id: 0 };
      if (src) out.src_endpoint = src;
      break;
    }
    case 'detection_finding':
      if (user) out.actor = { user };
      if (src) out.src_endpoint = src;
      break;
    case 'base_event':
      if (user) out.actor = { user };
      if (src) out.src_endpoint = src;
      break;
  }
  out.unmapped = {
    vigil: {
      event_type: e.event_type,
      severity: e.severity,
      outcome: e.outcome,
      source: e.source,
      ...(e.actor ? { actor: e.actor } : {}),
      ...(e.target ? { target: e.target } : {}),
      details: e.details,
      ...(e.flags ? { flags: e.flags } : {}),
      ...(e.integrity ? { integrity_verified: e.integrity.verified } : {}),
    },
  };
  return out;
}

/** An Alert as an OCSF Detection Finding (2004), activity Create, finding status New. */
export function toOcsfAlert(a: Alert): Record<string, unknown> {
  const cls = OCSF_CLASSES.detection_finding;
  const time = Date.parse(a.created_at);
  return {
    class_uid: cls.uid,
    class_name: cls.name,
    category_uid: cls.category_uid,
    category_name: OCSF_CATEGORIES[cls.category_uid],
    activity_id: 1,
    activity_name: 'Create',
    type_uid: cls.uid * 100 + 1,
    type_name: `${cls.name}: Create`,
    time,
    start_time: Date.parse(a.first_event_at),
    end_time: Date.parse(a.last_event_at),
    severity_id: OCSF_SEVERITY_ID[a.severity],
    severity: OCSF_SEVERITIES[OCSF_SEVERITY_ID[a.severity]],
    status_id: 1,
    status: 'New',
    is_alert: true,
    message: a.rule.name,
    finding_info: {
      uid: a.alert_id,
      title: a.rule.name,
      ...(a.rule.description ? { desc: a.rule.description } : {}),
      types: [a.rule.kind],
      analytic: { uid: a.rule.id, name: a.rule.name, type_id: 1, type: 'Rule' },
      created_time: time,
      first_seen_time: Date.parse(a.first_event_at),
      last_seen_time: Date.parse(a.last_event_at),
      related_events: a.sample_events.map((s) => ({ uid: s.event_id })),
      related_events_count: a.event_count,
    },
    metadata: {
      version: OCSF_VERSION,
      uid: a.alert_id,
      product: { name: 'Vigil', vendor_name: 'Vigil', feature: { name: 'correlation' } },
      ...(a.tags.length > 0 ? { labels: a.tags } : {}),
    },
    unmapped: {
      vigil: {
        dedup_key: a.dedup_key,
        group: a.group,
        event_count: a.event_count,
        ...(a.distinct_count !== undefined ? { distinct_count: a.distinct_count } : {}),
        ...(a.action ? { action: a.action } : {}),
      },
    },
  };
}
