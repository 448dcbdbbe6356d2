import { SecurityEventSchema, computeEventMac } from '@vigil/contracts';
import { validateRawEvent, type ValidateOptions } from './validate';

const NOW = Date.parse('2026-11-29T10:05:00.000Z');
const KEY = Buffer.alloc(32, 1);
const base: ValidateOptions = {
  limits: { maxBytes: 1024 * 1024, maxDepth: 32 },
  nowMs: NOW,
  receivedAt: new Date(NOW).toISOString(),
  futureToleranceMs: 5 * 60_000,
  fallbackEventId: () => '00000000-0000-5000-8000-000000000001',
  integrity: 'off',
  keys: new Map([['k1', KEY]]),
};

/** The classic producer shape: snake_case, nulls for absent fields, an unkeyed hash, no schema_version. */
function classic(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    event_id: '3f8a1c2e-9b7d-4e6f-8a1b-2c3d4e5f6a7b',
    timestamp: '2026-11-29T10:00:00.123456Z',
    event_type: 'authentication',
    severity: 'medium',
    source: { application: 'billing-api', environment: 'production', ip: '203.0.113.7', hostname: 'web-1' },
    actor: { type: 'user', user_id: 'alice', username: null, session_id: null },
    action: 'login',
    outcome: 'failure',
    target: null,
    details: { reason: 'bad_password', attempt: 3 },
    tags: ['auth'],
    correlation_id: null,
    hash: '9f86d081884c7d65',
    ...overrides,
  };
}

const run = (obj: unknown, opts: Partial<ValidateOptions> = {}) => validateRawEvent(Buffer.from(JSON.stringify(obj)), { ...base, ...opts });

describe('validateRawEvent: accepted input', () => {
  it('accepts the classic shape as is and normalises it to SecurityEvent v1', () => {
    const r = run(classic());
    if (!r.ok) throw new Error(r.reason);
    expect(SecurityEventSchema.safeParse(r.event).success).toBe(true);
    expect(r.event).toMatchObject({
      schema_version: 1,
      event_id: '3f8a1c2e-9b7d-4e6f-8a1b-2c3d4e5f6a7b',
      timestamp: '2026-11-29T10:00:00.123Z',
      received_at: '2026-11-29T10:05:00.000Z',
      outcome: 'failure',
      legacy_hash: '9f86d081884c7d65',
      actor: { type: 'user', user_id: 'alice' },
    });
    expect(r.event).not.toHaveProperty('target');
    expect(r.event).not.toHaveProperty('correlation_id');
    expect(r.event.actor).not.toHaveProperty('username');
    expect(r.key).toBe('203.0.113.7');
  });

  it.each([
    ['an offset timestamp', { timestamp: '2026-11-29T12:00:00+02:00' }, '2026-11-29T10:00:00.000Z'],
    ['an aware isoformat() + "Z"', { timestamp: '2026-11-29T10:00:00.250000+00:00Z' }, '2026-11-29T10:00:00.250Z'],
  ])('normalises %s to UTC', (_n, o, expected) => {
    const r = run(classic(o));
    expect(r.ok && r.event.timestamp).toBe(expected);
  });

  it('assigns the fallback event_id when the producer sent none', () => {
    const r = run(classic({ event_id: null }));
    expect(r.ok && r.event.event_id).toBe('00000000-0000-5000-8000-000000000001');
  });

  it('accepts schema_version 1 and reads a missing one as 1', () => {
    expect(run(classic({ schema_version: 1 })).ok).toBe(true);
    expect(run(classic({ schema_version: '1.0' })).ok).toBe(true);
    expect(run(classic({ schema_version: null })).ok).toBe(true);
  });

  it('maps the ip_address alias to source.ip and defaults outcome, details and tags', () => {
    const r = run({
      timestamp: '2026-11-29T10:00:00Z',
      event_type: 'system_event',
      severity: 'info',
      source: { application: 'cron', ip_address: '2001:db8::1' },
      action: 'start',
    });
    if (!r.ok) throw new Error(r.reason);
    expect(r.event.source.ip).toBe('2001:db8::1');
    expect(r.event.source).not.toHaveProperty('ip_address');
    expect(r.event).toMatchObject({ outcome: 'unknown', details: {}, tags: [] });
    expect(r.key).toBe('2001:db8::1');
  });

  it('keeps ip over the ip_address alias when both are given, and drops the alias (actor too)', () => {
    const r = run(classic({ actor: { type: 'service', user_id: 'svc', ip: '10.0.0.1', ip_address: '10.9.9.9' } }));
    if (!r.ok) throw new Error(r.reason);
    expect(r.event.actor).toEqual({ type: 'service', user_id: 'svc', ip: '10.0.0.1' });
    const a = run(classic({ actor: { type: 'user', user_id: 'al', ip_address: '10.9.9.9' } }));
    expect(a.ok && a.event.actor).toEqual({ type: 'user', user_id: 'al', ip: '10.9.9.9' });
  });

  it('removes repeated tags, keeping the first occurrence order', () => {
    const r = run(classic({ tags: ['auth', 'web', 'auth', 'sso', 'web'] }));
    expect(r.ok && r.event.tags).toEqual(['auth', 'web', 'sso']);
  });

  it('drops the nulls of the classic shape at the top level and inside source, actor and target only', () => {
    const r = run(classic({ target: { type: 'endpoint', id: null, name: 'login' }, details: { reason: null } }));
    if (!r.ok) throw new Error(r.reason);
    expect(r.event.target).toEqual({ type: 'endpoint', name: 'login' });
    expect(r.event.actor).toEqual({ type: 'user', user_id: 'alice' });
    expect(r.event.details).toEqual({ reason: null });
    expect(r.event).not.toHaveProperty('correlation_id');
  });

  it('derives actor.type when the producer omitted it', () => {
    const r = run(classic({ actor: { user_id: 'bob' } }));
    expect(r.ok && r.event.actor?.type).toBe('user');
    const s = run(classic({ actor: { session_id: 's1' } }));
    expect(s.ok && s.event.actor?.type).toBe('system');
  });

  it('flags, and keeps, an event stamped more than 5 minutes in the future', () => {
    const r = run(classic({ timestamp: '2026-11-29T10:10:01Z' }));
    expect(r.ok && r.event.flags).toEqual(['future_timestamp']);
    const near = run(classic({ timestamp: '2026-11-29T10:09:59Z' }));
    expect(near.ok && near.event.flags).toBeUndefined();
  });

  it('keeps extra descriptive fields inside source, actor and target', () => {
    const r = run(classic({ target: { resource: '/admin/users', region: 'eu' } }));
    expect(r.ok && r.event.target).toEqual({ resource: '/admin/users', region: 'eu' });
  });
});

describe('validateRawEvent: rejected input goes to the DLQ with a reason', () => {
  const bad: Array<[string, Buffer, string, string]> = [
    ['non-JSON bytes', Buffer.from('GET / HTTP/1.1'), 'invalid_json', ''],
    ['JSON that is not an object', Buffer.from('[{"event_type":"authentication"}]'), 'not_an_object', ''],
    ['invalid UTF-8', Buffer.concat([Buffer.from('{"action":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]), 'invalid_utf8', ''],
    [
      'a __proto__ key',
      Buffer.from(JSON.stringify(classic()).replace('"details":{', '"details":{"__proto__":{"admin":true},')),
      'forbidden_key',
      'details.__proto__',
    ],
    [
      'a constructor key',
      Buffer.from(JSON.stringify(classic({ details: { constructor: { prototype: {} } } }))),
      'forbidden_key',
      'details.constructor',
    ],
    ['a NUL byte in a string field', Buffer.from(JSON.stringify(classic({ action: 'log\u0000in' }))), 'nul_byte', 'action'],
    [
      'nesting deeper than the limit',
      Buffer.from(JSON.stringify(classic({ details: JSON.parse('{"a":'.repeat(40) + '1' + '}'.repeat(40)) }))),
      'too_deep',
      '',
    ],
  ];
  it.each(bad)('%s', (_name, bytes, kind, path) => {
    const r = validateRawEvent(bytes, base);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.kind).toBe(kind);
    if (path) expect(r.issues[0]!.path).toBe(path);
  });

  it('a message over the size limit', () => {
    const r = validateRawEvent(Buffer.from(JSON.stringify(classic({ details: { blob: 'x'.repeat(2048) } }))), {
      ...base,
      limits: { maxBytes: 1024, maxDepth: 32 },
    });
    expect(!r.ok && r.kind).toBe('too_large');
  });

  const schema: Array<[string, Record<string, unknown>, string]> = [
    ['a missing timestamp', { timestamp: undefined }, 'timestamp'],
    ['a missing event_type', { event_type: null }, 'event_type'],
    ['a missing source', { source: null }, 'source'],
    ['a missing source.application', { source: { ip: '203.0.113.7' } }, 'source.application'],
    ['a missing action', { action: undefined }, 'action'],
    ['an unknown event_type', { event_type: 'login_attempt' }, 'event_type'],
    ['an unknown severity', { severity: 'urgent' }, 'severity'],
    ['an unknown outcome', { outcome: 'maybe' }, 'outcome'],
    ['an unknown actor type', { actor: { type: 'robot' } }, 'actor.type'],
    ['an invalid IPv4', { source: { application: 'a', ip: '999.1.1.1' } }, 'source.ip'],
    ['an IP with a port', { source: { application: 'a', ip: '203.0.113.7:443' } }, 'source.ip'],
    ['an invalid actor IP', { actor: { user_id: 'x', ip: 'localhost' } }, 'actor.ip'],
    ['an unparseable timestamp', { timestamp: 'yesterday at noon' }, 'timestamp'],
    ['a timestamp without a zone', { timestamp: '2026-11-29T10:00:00' }, 'timestamp'],
    ['an event_id that is not a UUID', { event_id: '12345' }, 'event_id'],
    ['tags that are not strings', { tags: [1, 2] }, 'tags[0]'],
    ['an unknown top-level field', { usr: 'alice' }, ''],
    ['details that is not an object', { details: 'text' }, 'details'],
  ];
  it.each(schema)('%s', (_name, overrides, path) => {
    const obj = classic(overrides);
    for (const [k, v] of Object.entries(overrides)) if (v === undefined) delete obj[k];
    const r = run(obj);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.kind).toBe('schema_violation');
    expect(r.issues.map((i) => i.path)).toContain(path);
    expect(r.reason).toContain(path ? `${path}:` : '');
  });

  it('an unknown schema_version', () => {
    const r = run(classic({ schema_version: 2 }));
    expect(!r.ok && r.kind).toBe('unsupported_schema_version');
    expect(!r.ok && r.reason).toMatch(/schema_version 2 is not supported/);
  });
});

describe('validateRawEvent: integrity', () => {
  function signed(obj: Record<string, unknown>, key = KEY, keyId = 'k1') {
    return { ...obj, integrity: { alg: 'hmac-sha256', key_id: keyId, mac: computeEventMac(obj, key) } };
  }
  const ev = classic({ schema_version: 1, hash: undefined });
  delete ev.hash;

  it('verifies a signed event and records that it was verified', () => {
    const r = run(signed(ev), { integrity: 'require' });
    expect(r.ok && r.event.integrity?.verified).toBe(true);
  });

  it('rejects a signed event whose content was changed after signing', () => {
    const tampered = { ...signed(ev), severity: 'low' };
    const r = run(tampered, { integrity: 'verify' });
    expect(!r.ok && r.kind).toBe('integrity_mismatch');
  });

  it('rejects a MAC made with another key, and an unknown key id', () => {
    expect(run(signed(ev, Buffer.alloc(32, 9)), { integrity: 'verify' })).toMatchObject({ ok: false, kind: 'integrity_mismatch' });
    expect(run(signed(ev, KEY, 'k9'), { integrity: 'verify' })).toMatchObject({ ok: false, kind: 'integrity_unknown_key' });
  });

  it('requires a signature in require mode, accepts unsigned events in verify mode', () => {
    expect(run(ev, { integrity: 'require' })).toMatchObject({ ok: false, kind: 'integrity_missing' });
    expect(run(ev, { integrity: 'verify' }).ok).toBe(true);
  });

  it('keeps but does not trust an integrity block when verification is off', () => {
    const r = run(signed(ev, Buffer.alloc(32, 9)), { integrity: 'off' });
    expect(r.ok && r.event.integrity?.verified).toBe(false);
  });
});
