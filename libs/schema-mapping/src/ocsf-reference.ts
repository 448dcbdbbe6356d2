/**
 * The OCSF 1.3 definitions this mapping writes against, transcribed from the schema sources
 * (ocsf/ocsf-schema: categories.json, events/<category>/<class>.json, dictionary.json): category
 * uids, class uids (category_uid * 1000 + class number) and each class's activity_id enum. Every
 * class also has 0 Unknown and 99 Other (base_event). Tests check every mapped record against
 * these tables, including type_uid = class_uid * 100 + activity_id.
 */
export const OCSF_VERSION = '1.3.0';

export const OCSF_CATEGORIES: Readonly<Record<number, string>> = {
  0: 'Uncategorized',
  1: 'System Activity',
  2: 'Findings',
  3: 'Identity & Access Management',
  4: 'Network Activity',
  5: 'Discovery',
  6: 'Application Activity',
};

export interface OcsfClassDef {
  readonly uid: number;
  readonly name: string;
  readonly category_uid: number;
  /** activity_id → caption, without the 0 Unknown / 99 Other every class has. */
  readonly activities: Readonly<Record<number, string>>;
  /** Attributes the class marks `required` (beyond the base event's). */
  readonly required: readonly string[];
}

export const OCSF_CLASSES = {
  base_event: { uid: 0, name: 'Base Event', category_uid: 0, activities: {}, required: [] },
  file_activity: {
    uid: 1001,
    name: 'File System Activity',
    category_uid: 1,
    activities: {
      1: 'Create',
      2: 'Read',
      3: 'Update',
      4: 'Delete',
      5: 'Rename',
      6: 'Set Attributes',
      7: 'Set Security',
      8: 'Get Attributes',
      9: 'Get Security',
      10: 'Encrypt',
      11: 'Decrypt',
      12: 'Mount',
      13: 'Unmount',
      14: 'Open',
    },
    required: ['actor', 'file'],
  },
  detection_finding: {
    uid: 2004,
    name: 'Detection Finding',
    category_uid: 2,
    activities: { 1: 'Create', 2: 'Update', 3: 'Close' },
    required: ['finding_info'],
  },
  authentication: {
    uid: 3002,
    name: 'Authentication',
    category_uid: 3,
    activities: { 1: 'Logon', 2: 'Logoff', 3: 'Authentication Ticket', 4: 'Service Ticket Request', 5: 'Service Ticket Renew' },
    required: ['user'],
  },
  entity_management: {
    uid: 3004,
    name: 'Entity Management',
    category_uid: 3,
    activities: { 1: 'Create', 2: 'Read', 3: 'Update', 4: 'Delete' },
    required: ['entity'],
  },
  network_activity: {
    uid: 4001,
    name: 'Network Activity',
    category_uid: 4,
    activities: { 1: 'Open', 2: 'Close', 3: 'Reset', 4: 'Fail', 5: 'Refuse', 6: 'Traffic', 7: 'Listen' },
    required: [],
  },
  api_activity: {
    uid: 6003,
    name: 'API Activity',
    category_uid: 6,
    activities: { 1: 'Create', 2: 'Read', 3: 'Update', 4: 'Delete' },
    required: ['actor', 'api', 'src_endpoint'],
  },
} as const satisfies Record<string, OcsfClassDef>;
export type OcsfClassName = keyof typeof OCSF_CLASSES;

/** severity_id (base_event): 0 Unknown … 6 Fatal, 99 Other. */
export const OCSF_SEVERITIES: Readonly<Record<number, string>> = {
  0: 'Unknown',
  1: 'Informational',
  2: 'Low',
  3: 'Medium',
  4: 'High',
  5: 'Critical',
  6: 'Fatal',
  99: 'Other',
};

/** status_id of activity events (base_event): whether the activity succeeded. */
export const OCSF_STATUSES: Readonly<Record<number, string>> = { 0: 'Unknown', 1: 'Success', 2: 'Failure', 99: 'Other' };

/** status_id of findings (finding.json): the triage state of the finding, not an outcome. */
export const OCSF_FINDING_STATUSES: Readonly<Record<number, string>> = {
  1: 'New',
  2: 'In Progress',
  3: 'Suppressed',
  4: 'Resolved',
  5: 'Archived',
  6: 'Deleted',
};

/** analytic.type_id (objects/analytic.json). */
export const OCSF_ANALYTIC_TYPES: Readonly<Record<number, string>> = {
  0: 'Unknown',
  1: 'Rule',
  2: 'Behavioral',
  3: 'Statistical',
  4: 'Learning (ML/DL)',
  99: 'Other',
};
