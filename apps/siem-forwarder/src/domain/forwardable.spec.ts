import { DEFAULT_DECODE_LIMITS } from '@vigil/contracts';
import { sampleAlert, sampleEvent } from './fixtures';
import { readForwardable } from './forwardable';

const read = (v: unknown, kind: 'event' | 'alert' = 'event') =>
  readForwardable(Buffer.from(JSON.stringify(v)), kind, DEFAULT_DECODE_LIMITS);

describe('reading the validated topics', () => {
  it('reads a SecurityEvent v1 with its id and event time', () => {
    const r = read(sampleEvent());
    if (!r.ok) throw new Error(r.reason);
    expect(r.item).toMatchObject({
      kind: 'event',
      id: '3f8a1c2e-9b7d-4e6f-8a1b-2c3d4e5f6a7b',
      timeMs: Date.parse('2026-11-29T10:00:00.123Z'),
    });
  });

  it('reads an Alert v1 with its id and creation time', () => {
    const r = read(sampleAlert(), 'alert');
    if (!r.ok) throw new Error(r.reason);
    expect(r.item).toMatchObject({
      kind: 'alert',
      id: '9b2f7a10-4c3e-5d21-8e9f-0a1b2c3d4e5f',
      timeMs: Date.parse('2026-11-29T10:00:02.000Z'),
    });
  });

  it.each<[string, unknown, 'event' | 'alert', string]>([
    ['a future schema version', { ...sampleEvent(), schema_version: 2 }, 'event', 'unsupported_schema_version'],
    ['no schema version at all', { ...sampleEvent(), schema_version: undefined }, 'event', 'unsupported_schema_version'],
    ['an event missing its id', { ...sampleEvent(), event_id: undefined }, 'event', 'schema_violation'],
    [
      'an event with a zoned (not UTC) timestamp',
      { ...sampleEvent(), timestamp: '2026-11-29T12:00:00.000+02:00' },
      'event',
      'schema_violation',
    ],
    ['an alert read from the events topic', sampleAlert(), 'event', 'schema_violation'],
    ['an array', [1, 2], 'event', 'not_an_object'],
  ])('refuses %s with kind %s', (_name, value, kind, expectedKind) => {
    const r = read(value, kind);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.kind).toBe(expectedKind);
  });

  it('refuses bytes that are not JSON, without throwing', () => {
    const r = readForwardable(Buffer.from('{"event_id":'), 'event', DEFAULT_DECODE_LIMITS);
    expect(r).toMatchObject({ ok: false, kind: 'invalid_json' });
  });
});
