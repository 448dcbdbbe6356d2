import type { Alert, SecurityEvent } from '@vigil/contracts';
import type { Forwardable } from './forwardable';

/** A complete SecurityEvent v1 for tests; override what a case is about. */
export function sampleEvent(overrides: Partial<SecurityEvent> = {}): SecurityEvent {
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
    details: { reason: 'bad_password', attempt: 3 },
    tags: ['auth'],
    ...overrides,
  };
}

export function sampleAlert(overrides: Partial<Alert> = {}): Alert {
  return {
    schema_version: 1,
    alert_id: '9b2f7a10-4c3e-5d21-8e9f-0a1b2c3d4e5f',
    dedup_key: 'brute-force|203.0.113.7',
    rule: { id: 'brute-force', name: 'Brute force', description: 'Many failed logins from one address', kind: 'threshold' },
    severity: 'critical',
    group: { 'source.ip': '203.0.113.7' },
    event_count: 12,
    first_event_at: '2026-11-29T09:59:00.000Z',
    last_event_at: '2026-11-29T10:00:00.123Z',
    sample_events: [sampleEvent()],
    action: 'block_ip',
    tags: ['auth'],
    created_at: '2026-11-29T10:00:02.000Z',
    ...overrides,
  };
}

export function eventItem(overrides: Partial<SecurityEvent> = {}): Forwardable {
  const event = sampleEvent(overrides);
  return { kind: 'event', id: event.event_id, timeMs: Date.parse(event.timestamp), event };
}

export function alertItem(overrides: Partial<Alert> = {}): Forwardable {
  const alert = sampleAlert(overrides);
  return { kind: 'alert', id: alert.alert_id, timeMs: Date.parse(alert.created_at), alert };
}
