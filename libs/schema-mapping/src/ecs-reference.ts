/**
 * The ECS categorization allowed values this mapping writes against (ECS 8.11, the version the
 * documents declare; the values are unchanged in the current reference). Transcribed from the ECS
 * reference "ECS categorization field: event.category / event.type / event.outcome / event.kind"
 * (elastic/ecs, docs/reference/ecs-allowed-values-event-*.md). Tests check every mapped value
 * against these tables, so a mapping can only use published values.
 */
export const ECS_VERSION = '8.11.0';

/** event.category → the event.type values ECS expects with it ("Expected event types for category"). */
export const ECS_EXPECTED_EVENT_TYPES: Readonly<Record<string, readonly string[]>> = {
  api: ['access', 'admin', 'allowed', 'change', 'creation', 'deletion', 'denied', 'end', 'info', 'start', 'user'],
  authentication: ['start', 'end', 'info'],
  configuration: ['access', 'change', 'creation', 'deletion', 'info'],
  database: ['access', 'change', 'info', 'error'],
  driver: ['change', 'end', 'info', 'start'],
  file: ['access', 'change', 'creation', 'deletion', 'info'],
  host: ['access', 'change', 'end', 'info', 'start'],
  iam: ['admin', 'change', 'creation', 'deletion', 'group', 'info', 'user'],
  intrusion_detection: ['allowed', 'denied', 'info'],
  library: ['start'],
  malware: ['info'],
  network: ['access', 'allowed', 'connection', 'denied', 'end', 'info', 'protocol', 'start'],
  package: ['access', 'change', 'deletion', 'info', 'installation', 'start'],
  process: ['access', 'change', 'end', 'info', 'start'],
  registry: ['access', 'change', 'creation', 'deletion'],
  session: ['start', 'end', 'info'],
  threat: ['indicator'],
  vulnerability: ['info'],
  web: ['access', 'error', 'info'],
};

/** event.type allowed values. */
export const ECS_EVENT_TYPES: readonly string[] = [
  'access',
  'admin',
  'allowed',
  'change',
  'connection',
  'creation',
  'deletion',
  'denied',
  'end',
  'error',
  'group',
  'indicator',
  'info',
  'installation',
  'protocol',
  'start',
  'user',
];

/** event.outcome allowed values. */
export const ECS_OUTCOMES: readonly string[] = ['failure', 'success', 'unknown'];

/** event.kind allowed values (`signal` is reserved for Kibana's own alerts: never written by ingest pipelines). */
export const ECS_KINDS: readonly string[] = ['alert', 'asset', 'enrichment', 'event', 'metric', 'state', 'pipeline_error', 'signal'];
