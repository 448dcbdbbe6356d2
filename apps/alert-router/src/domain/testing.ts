import type { Alert } from '@vigil/contracts';

/** A valid alert for tests, with overrides. Lives beside the domain so every layer's tests share it. */
export function sampleAlert(over: Partial<Alert> & { ruleId?: string } = {}): Alert {
  const { ruleId, ...rest } = over;
  const id = ruleId ?? 'ssh_brute_force';
  return {
    schema_version: 1,
    alert_id: '00000000-0000-4000-8000-000000000001',
    dedup_key: `${id}|source.ip=203.0.113.7`,
    rule: { id, name: 'SSH brute force', description: 'many failed logins', kind: 'threshold' },
    severity: 'high',
    group: { 'source.ip': '203.0.113.7' },
    event_count: 12,
    first_event_at: '2026-11-29T10:00:00.000Z',
    last_event_at: '2026-11-29T10:01:00.000Z',
    sample_events: [],
    tags: ['brute-force', 'ssh'],
    created_at: '2026-11-29T10:01:00.000Z',
    ...rest,
  };
}
