import fc from 'fast-check';
import { EVENT_TYPES, OUTCOMES, SEVERITIES, type Alert, type SecurityEvent } from '@vigil/contracts';

/**
 * Generators for the fuzz tests: well-formed messages (which every consumer must accept) and the
 * ways producers and attackers break them (which every consumer must refuse with a reason).
 *
 * Runs and seed: FUZZ_RUNS (default 300 per property, CI) and FUZZ_SEED (default fixed), so CI
 * is repeatable and `FUZZ_RUNS=20000 FUZZ_SEED=$RANDOM` is the long run (docs/faults.md).
 */
export const FUZZ = {
  seed: Number(process.env.FUZZ_SEED ?? 20_261_129),
  runs: Number(process.env.FUZZ_RUNS ?? 300),
};

const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);
const noNul = (s: string) => !s.includes('\u0000');

/** Text a producer may legitimately send: any Unicode, no NUL. */
export const text = (min: number, max: number) => fc.string({ unit: 'grapheme', minLength: min, maxLength: max }).filter(noNul);
const key = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 24 }).filter((k) => noNul(k) && !FORBIDDEN.has(k));
const ip = fc.oneof(fc.ipV4(), fc.ipV6());

/** JSON values a details object may hold (bounded depth, no NUL, no forbidden keys). */
const detailValue: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    text(0, 40),
    fc.array(tie('v'), { maxLength: 4 }),
    fc.dictionary(key, tie('v'), { maxKeys: 4 }),
  ),
})).v;

/** Event time in any of the zoned ISO-8601 forms producers write. */
const timestamp = fc
  .tuple(fc.date({ min: new Date('2001-01-01T00:00:00Z'), max: new Date('2099-12-31T00:00:00Z'), noInvalidDate: true }), fc.nat(4))
  .map(([d, form]) => {
    const iso = d.toISOString();
    switch (form) {
      case 0:
        return iso;
      case 1:
        return iso.replace('Z', '123Z'); // microseconds, as Python writes them
      case 2:
        return iso.replace('Z', '+00:00');
      case 3:
        return iso.replace('T', ' ');
      default:
        return iso.slice(0, 19) + 'Z';
    }
  });

/** A well-formed event as producers write it to the raw topic (classic shape, optional schema_version 1). */
export const rawEvent = fc
  .record({
    schema_version: fc.option(fc.constantFrom(1, '1', '1.0'), { nil: undefined }),
    event_id: fc.option(fc.uuid({ version: 4 }), { nil: undefined }),
    timestamp,
    event_type: fc.constantFrom(...EVENT_TYPES),
    severity: fc.constantFrom(...SEVERITIES),
    source: fc.record({
      application: text(1, 30),
      environment: fc.option(text(1, 20), { nil: undefined }),
      ip: fc.option(ip, { nil: undefined }),
      hostname: fc.option(text(1, 30), { nil: undefined }),
    }),
    actor: fc.option(
      fc.record({
        type: fc.option(fc.constantFrom('user', 'service', 'system'), { nil: undefined }),
        user_id: fc.option(text(1, 30), { nil: undefined }),
        username: fc.option(text(1, 30), { nil: undefined }),
        ip: fc.option(ip, { nil: null }),
      }),
      { nil: null },
    ),
    action: text(1, 60),
    outcome: fc.option(fc.constantFrom(...OUTCOMES), { nil: undefined }),
    target: fc.option(fc.record({ resource: fc.option(text(1, 80), { nil: undefined }) }), { nil: undefined }),
    details: fc.option(fc.dictionary(key, detailValue, { maxKeys: 6 }), { nil: undefined }),
    tags: fc.option(fc.array(text(1, 20), { maxLength: 6 }), { nil: undefined }),
    correlation_id: fc.option(text(1, 40), { nil: undefined }),
  })
  .map((e) => JSON.parse(JSON.stringify(e)) as Record<string, unknown>);

/** A SecurityEvent v1 as the validated topic carries it. */
export const validatedEvent: fc.Arbitrary<SecurityEvent> = fc
  .record({
    event_id: fc.uuid({ version: 4 }),
    timestamp: fc.date({ min: new Date('2001-01-01T00:00:00Z'), max: new Date('2099-12-31T00:00:00Z'), noInvalidDate: true }),
    event_type: fc.constantFrom(...EVENT_TYPES),
    severity: fc.constantFrom(...SEVERITIES),
    application: text(1, 30),
    ip: fc.option(ip, { nil: undefined }),
    user: fc.option(text(1, 30), { nil: undefined }),
    action: text(1, 60),
    outcome: fc.constantFrom(...OUTCOMES),
    details: fc.dictionary(key, detailValue, { maxKeys: 6 }),
    tags: fc.array(text(1, 20), { maxLength: 6 }),
  })
  .map((r) => {
    const at = r.timestamp.toISOString();
    const e: SecurityEvent = {
      schema_version: 1,
      event_id: r.event_id,
      timestamp: at,
      received_at: at,
      event_type: r.event_type,
      severity: r.severity,
      source: { application: r.application, ...(r.ip ? { ip: r.ip } : {}) },
      action: r.action,
      outcome: r.outcome,
      details: r.details as Record<string, unknown>,
      tags: r.tags,
    };
    if (r.user) e.actor = { type: 'user', user_id: r.user };
    return JSON.parse(JSON.stringify(e)) as SecurityEvent;
  });

/** An Alert v1 as the alerts topic carries it. */
export const alert: fc.Arbitrary<Alert> = fc
  .record({
    alert_id: fc.uuid({ version: 5 }),
    rule: text(1, 40),
    severity: fc.constantFrom(...SEVERITIES),
    group: fc.dictionary(
      fc.constantFrom('source.ip', 'actor.user_id', 'target.resource'),
      text(1, 40).filter((s) => s.length <= 1024),
      { minKeys: 1, maxKeys: 3 },
    ),
    count: fc.nat(10_000),
    at: fc.date({ min: new Date(Date.now() - 60_000), max: new Date(Date.now() + 60_000), noInvalidDate: true }),
    samples: fc.array(validatedEvent, { maxLength: 2 }),
    action: fc.option(fc.constantFrom('block_ip', 'disable_user', 'notify'), { nil: undefined }),
    tags: fc.array(text(1, 20), { maxLength: 4 }),
  })
  .map((r) => {
    const at = r.at.toISOString();
    const a: Alert = {
      schema_version: 1,
      alert_id: r.alert_id,
      dedup_key: `${r.rule}|${Object.values(r.group).join('|')}`.slice(0, 512),
      rule: { id: r.rule, name: r.rule, description: '', kind: 'threshold' },
      severity: r.severity,
      group: r.group,
      event_count: r.count,
      first_event_at: at,
      last_event_at: at,
      sample_events: r.samples,
      tags: r.tags,
      created_at: at,
      ...(r.action ? { action: r.action } : {}),
    };
    return JSON.parse(JSON.stringify(a)) as Alert;
  });

/** Replaces the value at a random path of `obj` (or deletes it, or adds a key there). */
function mutateAt(obj: unknown, path: number[], op: 'set' | 'delete' | 'add', value: unknown, newKey: string): unknown {
  if (obj === null || typeof obj !== 'object') return op === 'set' ? value : obj;
  const copy: Record<string, unknown> | unknown[] = Array.isArray(obj) ? [...obj] : { ...(obj as Record<string, unknown>) };
  const keys = Object.keys(copy);
  if (keys.length === 0 || path.length === 0) {
    if (op === 'add' && !Array.isArray(copy)) (copy as Record<string, unknown>)[newKey] = value;
    return copy;
  }
  const k = keys[path[0]! % keys.length]!;
  const rec = copy as Record<string, unknown>;
  if (path.length === 1) {
    if (op === 'delete') delete rec[k];
    else if (op === 'set') rec[k] = value;
    else rec[newKey] = value;
  } else rec[k] = mutateAt(rec[k], path.slice(1), op, value, newKey);
  return copy;
}

/** The bytes of `base` broken in one of the ways real messages get broken. */
export function broken(base: fc.Arbitrary<object>): fc.Arbitrary<Buffer> {
  return fc.oneof(
    // A field removed, replaced by any JSON value, or an unknown one added.
    fc
      .tuple(
        base,
        fc.array(fc.nat(40), { minLength: 1, maxLength: 4 }),
        fc.constantFrom('set', 'delete', 'add') as fc.Arbitrary<'set' | 'delete' | 'add'>,
        fc.jsonValue({ maxDepth: 3 }),
        fc.string({ minLength: 1, maxLength: 12 }),
      )
      .map(([b, path, op, value, newKey]) => Buffer.from(JSON.stringify(mutateAt(b, path, op, value, newKey)))),
    // Truncated, or one byte flipped.
    fc.tuple(base, fc.double({ min: 0, max: 1, noNaN: true })).map(([b, f]) => {
      const s = Buffer.from(JSON.stringify(b));
      return s.subarray(0, Math.floor(s.length * f));
    }),
    fc.tuple(base, fc.nat(), fc.integer({ min: 1, max: 255 })).map(([b, i, x]) => {
      const s = Buffer.from(JSON.stringify(b));
      s[i % s.length] = s[i % s.length]! ^ x;
      return s;
    }),
    // A NUL, a prototype key, a different schema_version, the whole thing wrapped in an array.
    base.map((b) => Buffer.from(JSON.stringify(b).replace(/"([^"\\]{1,8})"/, '"$1\\u0000"'))),
    fc
      .tuple(base, fc.constantFrom('__proto__', 'constructor', 'prototype'))
      .map(([b, k]) => Buffer.from(JSON.stringify(b).replace(/^\{/, `{"${k}":{"x":1},`))),
    fc.tuple(base, fc.jsonValue({ maxDepth: 1 })).map(([b, v]) => Buffer.from(JSON.stringify({ ...b, schema_version: v }))),
    base.map((b) => Buffer.from(JSON.stringify([b]))),
  );
}

/** Bytes that were never a message: random bytes, any JSON, hostile nesting, over-size, not UTF-8. */
export const junk: fc.Arbitrary<Buffer> = fc.oneof(
  fc.uint8Array({ maxLength: 512 }).map((b) => Buffer.from(b)),
  fc.string({ unit: 'binary', maxLength: 200 }).map((s) => Buffer.from(s)),
  fc.jsonValue({ maxDepth: 4 }).map((v) => Buffer.from(JSON.stringify(v) ?? 'null')),
  fc.integer({ min: 33, max: 5000 }).map((n) => Buffer.from(`${'['.repeat(n)}${']'.repeat(n)}`)),
  fc.integer({ min: 33, max: 2000 }).map((n) => Buffer.from(`${'{"a":'.repeat(n)}1${'}'.repeat(n)}`)),
  fc.constant(Buffer.from([0xc3, 0x28, 0x7b, 0x7d])),
  fc.constant(Buffer.from('\ufeff{"a":1}')),
  fc.constant(Buffer.alloc(0)),
);
