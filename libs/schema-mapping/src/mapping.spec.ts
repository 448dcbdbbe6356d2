import { EVENT_TYPES, OUTCOMES, SEVERITIES, type Alert, type SecurityEvent } from '@vigil/contracts';
import { ECS_EXPECTED_EVENT_TYPES, ECS_KINDS, ECS_OUTCOMES, ECS_VERSION } from './ecs-reference';
import { toEcs, toEcsAlert } from './ecs';
import { OCSF_CATEGORIES, OCSF_CLASSES, OCSF_FINDING_STATUSES, OCSF_SEVERITIES, OCSF_STATUSES, OCSF_VERSION } from './ocsf-reference';
import { toOcsf, toOcsfAlert } from './ocsf';
import { alertDocument, eventDocument } from './format';

function event(over: Partial<SecurityEvent> = {}): SecurityEvent {
  return {
    schema_version: 1,
    event_id: '3f8a1c2e-9b7d-4e6f-8a1b-2c3d4e5f6a7b',
    timestamp: '2026-11-29T10:00:00.123Z',
    received_at: '2026-11-29T10:00:01.000Z',
    event_type: 'authentication',
    severity: 'high',
    source: { application: 'billing-api', environment: 'production', ip: '203.0.113.7', hostname: 'web-1' },
    actor: { type: 'user', user_id: 'alice', username: 'alice@example.com', ip: '198.51.100.4' },
    action: 'login',
    outcome: 'failure',
    target: { resource: '/srv/data/report.csv', name: 'report.csv' },
    details: { reason: 'bad_password' },
    tags: ['auth'],
    ...over,
  };
}

const alert: Alert = {
  schema_version: 1,
  alert_id: '9b2f7a10-4c3e-5d21-8e9f-0a1b2c3d4e5f',
  dedup_key: 'brute-force|203.0.113.7',
  rule: { id: 'brute-force', name: 'Brute force', description: 'Many failed logins', kind: 'threshold' },
  severity: 'critical',
  group: { 'source.ip': '203.0.113.7' },
  event_count: 12,
  first_event_at: '2026-11-29T09:59:00.000Z',
  last_event_at: '2026-11-29T10:00:00.123Z',
  sample_events: [event()],
  tags: ['attack.t1110'],
  created_at: '2026-11-29T10:00:02.000Z',
};

// Every event type with every outcome and a spread of actions: the whole input space the mapping branches on.
const ACTIONS = ['login', 'logout', 'read', 'write', 'delete', 'update', 'connect', 'rename', 'frobnicate'];
const CASES: Array<[SecurityEvent]> = [];
for (const t of EVENT_TYPES)
  for (const o of OUTCOMES) for (const a of ACTIONS) CASES.push([event({ event_type: t, outcome: o, action: a })]);

describe('ECS documents use only published allowed values', () => {
  it.each(CASES)('%#: event.category, event.type, event.outcome and event.kind are allowed and consistent', (e) => {
    const d = toEcs(e) as { ecs: { version: string }; event: { category: string[]; type: string[]; outcome: string; kind: string } };
    expect(d.ecs.version).toBe(ECS_VERSION);
    for (const c of d.event.category) {
      expect(Object.keys(ECS_EXPECTED_EVENT_TYPES)).toContain(c);
      for (const t of d.event.type) expect(ECS_EXPECTED_EVENT_TYPES[c]).toContain(t);
    }
    expect(ECS_OUTCOMES).toContain(d.event.outcome);
    expect(ECS_KINDS).toContain(d.event.kind);
    expect(d.event.kind).not.toBe('signal'); // reserved for Kibana's own alerts
  });

  it.each([
    ['success', 'success'],
    ['failure', 'failure'],
    ['denied', 'failure'],
    ['error', 'failure'],
    ['unknown', 'unknown'],
  ] as const)('outcome %s is ECS event.outcome %s', (ours, ecs) => {
    expect((toEcs(event({ outcome: ours })).event as { outcome: string }).outcome).toBe(ecs);
  });

  it('maps a failed login to ECS authentication fields', () => {
    expect(toEcs(event({ target: undefined }))).toMatchObject({
      '@timestamp': '2026-11-29T10:00:00.123Z',
      event: {
        id: '3f8a1c2e-9b7d-4e6f-8a1b-2c3d4e5f6a7b',
        kind: 'event',
        category: ['authentication'],
        type: ['info'],
        outcome: 'failure',
        severity: 4,
      },
      source: { ip: '203.0.113.7' },
      host: { hostname: 'web-1' },
      user: { id: 'alice', name: 'alice@example.com' },
      related: { ip: ['203.0.113.7', '198.51.100.4'], user: ['alice', 'alice@example.com'] },
    });
  });

  it('an alert is event.kind alert with rule fields', () => {
    expect(toEcsAlert(alert)).toMatchObject({ event: { kind: 'alert', severity: 5 }, rule: { id: 'brute-force', name: 'Brute force' } });
  });
});

describe('OCSF events follow the class definitions', () => {
  it.each(CASES)('%#: class, category, activity, type_uid, severity and status are defined values', (e) => {
    const d = toOcsf(e) as Record<string, unknown> & { metadata: { version: string; product: { name: string; vendor_name: string } } };
    const cls = Object.values(OCSF_CLASSES).find((c) => c.uid === d.class_uid);
    expect(cls).toBeDefined();
    expect(d.class_name).toBe(cls!.name);
    expect(d.category_uid).toBe(cls!.category_uid);
    expect(d.category_name).toBe(OCSF_CATEGORIES[cls!.category_uid]);
    const activity = d.activity_id as number;
    expect([0, 99, ...Object.keys(cls!.activities).map(Number)]).toContain(activity);
    if (activity !== 99) expect(d.activity_name).toBe((cls!.activities as Record<number, string>)[activity]);
    else expect(d.activity_name).toBe(e.action);
    expect(d.type_uid).toBe((d.class_uid as number) * 100 + activity);
    expect(OCSF_SEVERITIES[d.severity_id as number]).toBe(d.severity);
    const statuses = d.class_uid === 2004 ? OCSF_FINDING_STATUSES : OCSF_STATUSES;
    expect(statuses[d.status_id as number]).toBe(d.status);
    for (const attr of cls!.required) expect(d).toHaveProperty(attr);
    expect(d.time).toBe(Date.parse(e.timestamp));
    expect(d.metadata.version).toBe(OCSF_VERSION);
    expect(d.metadata.product).toMatchObject({ name: 'Vigil', vendor_name: 'Vigil' });
  });

  it.each<[Partial<SecurityEvent>, Record<string, unknown>]>([
    [
      { action: 'login', outcome: 'failure' },
      { class_uid: 3002, category_uid: 3, activity_id: 1, type_uid: 300201, status_id: 2 },
    ],
    [
      { action: 'logout', outcome: 'success' },
      { class_uid: 3002, activity_id: 2, type_uid: 300202, status_id: 1 },
    ],
    [
      { action: 'mfa_challenge', outcome: 'success' },
      { class_uid: 3002, activity_id: 99, activity_name: 'mfa_challenge', type_uid: 300299 },
    ],
    [
      { event_type: 'authorization', action: 'write', outcome: 'denied', details: { permission: 'write' } },
      { class_uid: 6003, category_uid: 6, activity_id: 3, type_uid: 600303, status_id: 2, status_detail: 'denied' },
    ],
    [
      { event_type: 'data_access', action: 'export', outcome: 'success' },
      { class_uid: 6003, activity_id: 2, type_uid: 600302 },
    ],
    [
      { event_type: 'configuration_change', action: 'update' },
      { class_uid: 3004, activity_id: 3, type_uid: 300403 },
    ],
    [
      { event_type: 'network_event', action: 'connect' },
      { class_uid: 4001, category_uid: 4, activity_id: 1, type_uid: 400101 },
    ],
    [
      { event_type: 'network_event', action: 'http_request' },
      { class_uid: 4001, activity_id: 99, type_uid: 400199 },
    ],
    [
      { event_type: 'file_operation', action: 'delete' },
      { class_uid: 1001, category_uid: 1, activity_id: 4, type_uid: 100104 },
    ],
    [
      { event_type: 'system_event', action: 'reboot' },
      { class_uid: 0, category_uid: 0, activity_id: 99, type_uid: 99 },
    ],
    [
      { event_type: 'security_alert', action: 'malware', outcome: 'unknown', details: { alert_type: 'malware', description: 'EICAR' } },
      {
        class_uid: 2004,
        category_uid: 2,
        activity_id: 1,
        type_uid: 200401,
        status_id: 1,
        finding_info: expect.objectContaining({ title: 'malware', desc: 'EICAR' }),
      },
    ],
  ])('%j maps to %j', (over, expected) => {
    expect(toOcsf(event(over))).toMatchObject(expected);
  });

  it.each(SEVERITIES.map((s) => [s]))('severity %s has its OCSF severity_id', (s) => {
    const ids = { info: 1, low: 2, medium: 3, high: 4, critical: 5 } as const;
    expect(toOcsf(event({ severity: s })).severity_id).toBe(ids[s]);
  });

  it('puts the client address in src_endpoint and the user in user / actor.user', () => {
    const auth = toOcsf(event());
    expect(auth).toMatchObject({
      user: { uid: 'alice', name: 'alice@example.com' },
      src_endpoint: { ip: '203.0.113.7' },
      service: { name: 'billing-api' },
    });
    const file = toOcsf(event({ event_type: 'file_operation', action: 'read' }));
    expect(file).toMatchObject({
      actor: { user: { uid: 'alice' } },
      file: { name: 'report.csv', path: '/srv/data/report.csv', type_id: 0 },
    });
  });

  it('keeps what OCSF has no place for under unmapped.vigil', () => {
    expect(toOcsf(event())).toMatchObject({
      unmapped: { vigil: { event_type: 'authentication', outcome: 'failure', details: { reason: 'bad_password' } } },
    });
  });

  it('an alert is a Detection Finding created by a rule analytic', () => {
    expect(toOcsfAlert(alert)).toMatchObject({
      class_uid: 2004,
      activity_id: 1,
      type_uid: 200401,
      severity_id: 5,
      status_id: 1,
      finding_info: { uid: alert.alert_id, title: 'Brute force', analytic: { uid: 'brute-force', type_id: 1 }, related_events_count: 12 },
      start_time: Date.parse(alert.first_event_at),
    });
  });
});

describe('document format selection', () => {
  it('vigil is the record itself; ecs and ocsf are the mappings', () => {
    const e = event();
    expect(eventDocument(e, 'vigil')).toBe(e);
    expect(eventDocument(e, 'ecs')).toEqual(toEcs(e));
    expect(eventDocument(e, 'ocsf')).toEqual(toOcsf(e));
    expect(alertDocument(alert, 'ocsf')).toEqual(toOcsfAlert(alert));
  });
});
