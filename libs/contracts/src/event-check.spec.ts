import fc from 'fast-check';
import { ACTOR_TYPES, EVENT_TYPES, OUTCOMES, SEVERITIES } from './enums';
import { SecurityEventSchema } from './event';
import { decodeSecurityEvent, isCanonicalSecurityEvent } from './event-check';

// The fast check must never say yes where the schema says no, nor where the schema would hand back
// something other than the input. These properties hold it to that on generated events and on
// mutations of them; the first also makes sure the fast path is taken for ordinary events.

const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);
const text = (min: number, max: number) =>
  fc.oneof(fc.string({ minLength: min, maxLength: Math.min(max, 24) }), fc.string({ minLength: max - 3, maxLength: max }));
const opt = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
const ip = fc.oneof(fc.ipV4(), fc.ipV6());
const utc = fc
  .date({ min: new Date('1970-01-01T00:00:00.000Z'), max: new Date('9999-12-31T23:59:59.999Z'), noInvalidDate: true })
  .map((d) => d.toISOString());
const key = fc.string({ maxLength: 12 }).filter((k) => !FORBIDDEN.has(k));
const json = fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.parse(JSON.stringify(v)) as unknown);
const extras = fc.dictionary(
  key.filter(
    (k) =>
      ![
        'application',
        'environment',
        'ip',
        'hostname',
        'type',
        'user_id',
        'username',
        'session_id',
        'user_agent',
        'id',
        'name',
        'resource',
      ].includes(k),
  ),
  json,
  { maxKeys: 2 },
);

/** Drops undefined members, as JSON would. */
function compact<T extends object>(o: T): T {
  return JSON.parse(JSON.stringify(o)) as T;
}

const validEvent = fc
  .record({
    schema_version: fc.constant(1),
    event_id: fc.oneof(fc.uuid(), fc.constant('00000000-0000-0000-0000-000000000000')),
    timestamp: utc,
    received_at: utc,
    event_type: fc.constantFrom(...EVENT_TYPES),
    severity: fc.constantFrom(...SEVERITIES),
    source: fc
      .tuple(fc.record({ application: text(1, 256), environment: opt(text(1, 256)), ip: opt(ip), hostname: opt(text(1, 256)) }), extras)
      .map(([known, more]) => ({ ...more, ...known })),
    actor: opt(
      fc.record({
        type: fc.constantFrom(...ACTOR_TYPES),
        user_id: opt(text(1, 256)),
        username: opt(text(1, 256)),
        ip: opt(ip),
        session_id: opt(text(1, 256)),
        user_agent: opt(text(0, 1024)),
      }),
    ),
    action: text(1, 2048),
    outcome: fc.constantFrom(...OUTCOMES),
    target: opt(fc.record({ type: opt(text(1, 256)), id: opt(text(1, 256)), name: opt(text(1, 256)), resource: opt(text(1, 2048)) })),
    details: fc.dictionary(fc.oneof(key, fc.string({ minLength: 250, maxLength: 256 })), json, { maxKeys: 4 }),
    tags: fc.array(text(1, 128), { maxLength: 5 }),
    correlation_id: opt(text(1, 256)),
    integrity: opt(
      fc.record({
        alg: fc.constant('hmac-sha256'),
        key_id: fc.stringMatching(/^[A-Za-z0-9._-]{1,64}$/),
        mac: fc.stringMatching(/^[0-9a-f]{64}$/),
        verified: fc.boolean(),
      }),
    ),
    legacy_hash: opt(text(0, 128)),
    flags: opt(fc.constant(['future_timestamp'])),
  })
  .map(compact);

/** Values a mutation drops in: wrong types, boundary lengths, near-misses of every format. */
const junk = fc.oneof(
  fc.constantFrom<unknown>(
    null,
    true,
    0,
    -1,
    1.5,
    '',
    'x',
    'x'.repeat(129),
    'x'.repeat(257),
    'x'.repeat(1025),
    'x'.repeat(2049),
    [],
    {},
    ['x'],
    [''],
    '999.1.1.1',
    '10.0.0.1/24',
    '::1',
    '203.0.113.7',
    '2026-11-29T10:00:00Z',
    '2026-11-29T10:00:00.123+00:00',
    '2026-02-30T10:00:00.000Z',
    '2026-11-29T10:00:00.123Z',
    '81d8ae8e-a13a-4eac-8236-53a85d71775',
    '81d8ae8e-a13a-0eac-8236-53a85d717755',
    'AUTHENTICATION',
    'user',
    'high',
    'success',
    'future_timestamp',
    'hmac-sha256',
    'A'.repeat(64),
  ),
  json,
  fc.string(),
);

type Path = Array<string | number>;

/** Every path in the event to a member that can be replaced, deleted or given a sibling. */
function paths(node: unknown, at: Path = [], out: Path[] = []): Path[] {
  if (node === null || typeof node !== 'object') return out;
  const entries: Array<[string | number, unknown]> = Array.isArray(node) ? node.map((v, i) => [i, v]) : Object.entries(node);
  for (const [k, v] of entries) {
    out.push([...at, k]);
    paths(v, [...at, k], out);
  }
  return out;
}

type Op = 'replace' | 'resize' | 'delete' | 'add-sibling';
/** Lengths either side of every limit the schema sets on a string. */
const LENGTHS = [0, 1, 45, 46, 64, 65, 128, 129, 256, 257, 1024, 1025, 2048, 2049];

function mutate(event: object, pick: number, op: Op, value: unknown, name: string): Record<string, unknown> {
  const copy = structuredClone(event) as Record<string, unknown>;
  const all = paths(copy);
  const path = all[pick % all.length]!;
  let parent: Record<string | number, unknown> = copy;
  for (const k of path.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  if (op === 'replace') parent[last] = value;
  else if (op === 'resize') {
    const current = parent[last];
    const length = LENGTHS[pick % LENGTHS.length]!;
    parent[last] = typeof current === 'string' ? (current || 'y').repeat(length).slice(0, length) : value;
  } else if (op === 'delete') {
    if (Array.isArray(parent)) parent.splice(last as number, 1);
    else delete parent[last];
  } else if (Array.isArray(parent)) parent.push(value);
  else if (!FORBIDDEN.has(name)) parent[name] = value;
  return JSON.parse(JSON.stringify(copy)) as Record<string, unknown>;
}

/** Fails when the fast check says yes and the schema disagrees or would return something else. */
function agrees(value: Record<string, unknown>): boolean {
  const fast = isCanonicalSecurityEvent(value);
  const schema = SecurityEventSchema.safeParse(value);
  if (fast) {
    if (!schema.success) throw new Error(`fast check accepted what the schema refuses: ${schema.error.message}`);
    expect(schema.data).toStrictEqual(value);
  }
  return schema.success;
}

describe('isCanonicalSecurityEvent', () => {
  it('says yes to generated valid events, and the schema returns each unchanged', () => {
    fc.assert(
      fc.property(validEvent, (e) => {
        expect(isCanonicalSecurityEvent(e as Record<string, unknown>)).toBe(true);
        expect(agrees(e as Record<string, unknown>)).toBe(true);
      }),
      { numRuns: 1_000 },
    );
  });

  it('never says yes to a mutation the schema refuses or would change', () => {
    const outcomes = { refused: 0, accepted: 0 };
    fc.assert(
      fc.property(
        validEvent,
        fc.nat(),
        fc.constantFrom<Op>('replace', 'replace', 'resize', 'resize', 'delete', 'add-sibling'),
        junk,
        fc.oneof(key, fc.constantFrom('ip', 'extra', 'verified', 'environment')),
        (e, pick, op, value, name) => {
          const m = mutate(e, pick, op, value, name);
          outcomes[agrees(m) ? 'accepted' : 'refused']++;
        },
      ),
      { numRuns: 5_000 },
    );
    // The mutations must reach both answers for the property to mean anything.
    expect(outcomes.refused).toBeGreaterThan(1_500);
    expect(outcomes.accepted).toBeGreaterThan(500);
  });

  it('leaves to the schema what the schema would strip: an unknown top-level member', () => {
    const e = fc.sample(validEvent, { numRuns: 1, seed: 7 })[0]! as Record<string, unknown>;
    const withExtra = { ...e, producer_note: 'x' };
    expect(isCanonicalSecurityEvent(withExtra)).toBe(false);
    const r = decodeSecurityEvent(Buffer.from(JSON.stringify(withExtra)), 'test');
    expect(r).toEqual({ ok: true, value: e });
  });

  it('keeps the loose members of nested objects, as the schema does', () => {
    const e = fc.sample(validEvent, { numRuns: 1, seed: 8 })[0]! as Record<string, unknown>;
    const loose = { ...e, source: { ...(e.source as object), ip_address: 'not checked here', region: 'eu' } };
    expect(isCanonicalSecurityEvent(loose)).toBe(true);
    expect(agrees(loose)).toBe(true);
  });

  it('holds the array limits: 64 tags, 8 flags', () => {
    const e = fc.sample(validEvent, { numRuns: 1, seed: 10 })[0]! as Record<string, unknown>;
    for (const [field, item, limit] of [
      ['tags', 't', 64],
      ['flags', 'future_timestamp', 8],
    ] as const) {
      expect(isCanonicalSecurityEvent({ ...e, [field]: Array(limit).fill(item) })).toBe(true);
      expect(agrees({ ...e, [field]: Array(limit).fill(item) })).toBe(true);
      expect(isCanonicalSecurityEvent({ ...e, [field]: Array(limit + 1).fill(item) })).toBe(false);
      expect(agrees({ ...e, [field]: Array(limit + 1).fill(item) })).toBe(false);
    }
  });

  it('decodeSecurityEvent words a refusal as the schema does', () => {
    const e = fc.sample(validEvent, { numRuns: 1, seed: 9 })[0]! as Record<string, unknown>;
    const r = decodeSecurityEvent(Buffer.from(JSON.stringify({ ...e, severity: 'urgent' })), 'test');
    expect(r).toMatchObject({ ok: false, kind: 'schema_violation' });
    expect(!r.ok && r.issues.map((i) => i.path)).toEqual(['severity']);
  });
});
