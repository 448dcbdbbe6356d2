import fc from 'fast-check';
import {
  AlertSchema,
  DEFAULT_DECODE_LIMITS,
  DLQ_ERROR_KINDS,
  DlqRecordSchema,
  SecurityEventSchema,
  topicNames,
  type DlqErrorKind,
} from '@vigil/contracts';
import { dlqMessage, type ConsumedMessage } from '@vigil/kafka';
import type { Playbook } from '../../apps/soar/src/domain/playbook';
import { validateBatch, type RawItem } from '../../apps/ingest/src/domain/batch';
import { parseEvent } from '../../apps/correlation/src/engine';
import { readForwardable } from '../../apps/siem-forwarder/src/domain/forwardable';
import { readAlert } from '../../apps/alert-router/src/intake';
import { AlertIntake } from '../../apps/soar/src/soar.pipeline';
import { FUZZ, alert, broken, junk, rawEvent, validatedEvent } from './arbitraries';

/**
 * Property-based fuzzing of every consumer's decode path, in process: whatever bytes arrive, the
 * decoder answers (never throws), a refusal carries a DLQ kind from the closed list and a reason
 * that makes a valid DLQ record, and well-formed messages are never refused.
 */
const LIMITS = DEFAULT_DECODE_LIMITS;
const TOPICS = topicNames('fuzz');
const params = { seed: FUZZ.seed, numRuns: FUZZ.runs };

type Verdict = { ok: true; value: unknown } | { ok: false; kind: DlqErrorKind; reason: string };

function message(value: Buffer | null, offset = 0): ConsumedMessage {
  return { topic: TOPICS.events, partition: 0, offset: String(offset), key: null, value, timestamp: '0', headers: {} };
}

/** A refusal must be dead-letterable: a kind from the list, a reason, a record the DLQ schema accepts. */
function expectClassified(service: string, bytes: Buffer, v: Verdict): void {
  if (v.ok) return;
  expect(DLQ_ERROR_KINDS).toContain(v.kind);
  expect(v.reason.trim().length).toBeGreaterThan(0);
  const out = dlqMessage(TOPICS.alertsDlq, service, message(bytes), { kind: v.kind, reason: v.reason });
  const record = DlqRecordSchema.parse(JSON.parse(String(out.value)));
  expect(Buffer.from(record.original_base64, 'base64').equals(bytes)).toBe(true);
}

const hostile = fc.oneof(junk, broken(rawEvent), broken(validatedEvent), broken(alert));

const ingest = (bytes: Buffer[]): Verdict[] => {
  const items: RawItem[] = bytes.map((value, i) => ({ topic: TOPICS.eventsRaw, partition: 0, offset: String(i), value }));
  return validateBatch(items, Date.now(), { limits: LIMITS, futureToleranceMs: 300_000, integrity: 'off', keys: new Map() }).map((r) =>
    r.ok ? { ok: true, value: JSON.parse(r.value) } : r,
  );
};

const soar = new AlertIntake(
  null as never, // decode reads only the topics
  TOPICS,
  [] as Playbook[],
  null as never,
  null as never,
  null as never,
  null as never,
  null as never,
  null as never,
);
const soarDecode = (bytes: Buffer): Verdict => {
  const d = soar.decode(message(bytes));
  if (d.ok) return { ok: true, value: d.alert };
  const record = DlqRecordSchema.parse(JSON.parse(String(d.out.value)));
  return { ok: false, kind: record.error_kind, reason: record.reason };
};

describe('fuzzing the decode path of every consumer (fast-check, fixed seed)', () => {
  it('ingest: any batch of junk and valid events, every valid one accepted with its id, every other refused with a reason', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            hostile,
            rawEvent.map((e) => Buffer.from(JSON.stringify(e))),
          ),
          { minLength: 1, maxLength: 20 },
        ),
        (batch) => {
          const verdicts = ingest(batch);
          expect(verdicts).toHaveLength(batch.length);
          batch.forEach((bytes, i) => {
            const v = verdicts[i]!;
            expectClassified('ingest', bytes, v);
            if (v.ok) expect(SecurityEventSchema.safeParse(v.value).success).toBe(true);
          });
        },
      ),
      params,
    );
    fc.assert(
      fc.property(fc.array(rawEvent, { minLength: 1, maxLength: 10 }), fc.array(hostile, { maxLength: 10 }), (valid, bad) => {
        // Valid events interleaved with junk: none of the valid ones is lost or changes id.
        const mixed = [...valid.map((e) => Buffer.from(JSON.stringify(e))), ...bad];
        const order = mixed.map((_, i) => i).sort((a, b) => ((a * 7919) % 13) - ((b * 7919) % 13));
        const verdicts = ingest(order.map((i) => mixed[i]!));
        order.forEach((src, j) => {
          if (src >= valid.length) return;
          const v = verdicts[j]!;
          expect(v).toMatchObject({ ok: true });
          const id = valid[src]!.event_id;
          if (id !== undefined && v.ok) expect((v.value as { event_id: string }).event_id).toBe(id);
        });
      }),
      params,
    );
  });

  it('correlation: validated-topic bytes of any shape decode or dead-letter; valid events always decode', () => {
    fc.assert(
      fc.property(hostile, (bytes) => {
        const p = parseEvent(bytes, LIMITS);
        expectClassified('correlation', bytes, p.ok ? { ok: true, value: p.event } : p);
      }),
      params,
    );
    fc.assert(
      fc.property(validatedEvent, (e) => {
        const p = parseEvent(Buffer.from(JSON.stringify(e)), LIMITS);
        expect(p.ok && p.event.event_id === e.event_id).toBe(true);
      }),
      params,
    );
  });

  it('siem-forwarder: events and alerts of any shape decode or dead-letter; valid ones always decode with their id', () => {
    for (const kind of ['event', 'alert'] as const) {
      fc.assert(
        fc.property(hostile, (bytes) => {
          const r = readForwardable(bytes, kind, LIMITS);
          expectClassified('siem-forwarder', bytes, r.ok ? { ok: true, value: r.item } : r);
        }),
        params,
      );
    }
    fc.assert(
      fc.property(validatedEvent, alert, (e, a) => {
        const re = readForwardable(Buffer.from(JSON.stringify(e)), 'event', LIMITS);
        const ra = readForwardable(Buffer.from(JSON.stringify(a)), 'alert', LIMITS);
        expect([re.ok && re.item.id, ra.ok && ra.item.id]).toEqual([e.event_id, a.alert_id]);
      }),
      params,
    );
  });

  it('alert-router: alerts of any shape decode or dead-letter; valid alerts always decode', () => {
    fc.assert(
      fc.property(hostile, (bytes) => {
        const r = readAlert(bytes, LIMITS);
        expectClassified('alert-router', bytes, r.ok ? { ok: true, value: r.alert } : r);
        if (r.ok) expect(AlertSchema.safeParse(r.alert).success).toBe(true);
      }),
      params,
    );
    fc.assert(
      fc.property(alert, (a) => {
        const r = readAlert(Buffer.from(JSON.stringify(a)), LIMITS);
        expect(r.ok && r.alert.alert_id === a.alert_id).toBe(true);
      }),
      params,
    );
  });

  it('soar: alerts of any shape decode or become a DLQ record with a kind and a reason; valid alerts always decode', () => {
    fc.assert(
      fc.property(hostile, (bytes) => expectClassified('soar', bytes, soarDecode(bytes))),
      params,
    );
    fc.assert(
      fc.property(alert, (a) => {
        const r = soarDecode(Buffer.from(JSON.stringify(a)));
        expect(r.ok && (r.value as { alert_id: string }).alert_id === a.alert_id).toBe(true);
      }),
      params,
    );
  });

  it('every consumer refuses an over-size message as too_large without parsing it', () => {
    const big = Buffer.from(JSON.stringify({ padding: 'x'.repeat(LIMITS.maxBytes) }));
    const kinds = [
      ingest([big])[0],
      parseEvent(big, LIMITS),
      readForwardable(big, 'event', LIMITS),
      readAlert(big, LIMITS),
      soarDecode(big),
    ].map((v) => (v && !v.ok ? v.kind : 'accepted'));
    expect(kinds).toEqual(['too_large', 'too_large', 'too_large', 'too_large', 'too_large']);
  });
});
