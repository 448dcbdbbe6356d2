import {
  ALERT_SCHEMA_VERSION,
  MAX_ALERT_SAMPLES,
  SecurityEventSchema,
  isCanonicalSecurityEvent,
  uuidV5,
  type Alert,
  type SecurityEvent,
} from '@vigil/contracts';
import type { CompiledRule } from './compile';
import type { FireRecord } from './window';

/**
 * The alert id of a firing: derived from the dedup key and the event time the firing window ends
 * at, so replaying the same events (or republishing after a crash) gives the same id.
 */
export function alertIdOf(dedupKey: string, fire: Pick<FireRecord, 'x'>): string {
  return uuidV5(`alert:${dedupKey}@${fire.x}`);
}

/** Samples stored with the firing that lie inside its window, oldest first, at most five. */
export function samplesOf(fire: FireRecord): SecurityEvent[] {
  const out: SecurityEvent[] = [];
  for (const text of Array.isArray(fire.s) ? fire.s : []) {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      continue;
    }
    const event = isCanonicalSecurityEvent(raw) ? raw : SecurityEventSchema.safeParse(raw).data;
    if (!event) continue;
    const ts = Date.parse(event.timestamp);
    if (ts < fire.f || ts > fire.x) continue;
    if (out.some((e) => e.event_id === event.event_id)) continue;
    out.push(event);
  }
  out.sort((a, b) => Date.parse(a.timestamp) - Date.parse(b.timestamp));
  return out.slice(-MAX_ALERT_SAMPLES);
}

/** Alert v1 for a firing. Everything comes from the rule and the stored firing: a republish is identical. */
export function buildAlert(rule: CompiledRule, group: Readonly<Record<string, string>>, dedupKey: string, fire: FireRecord): Alert {
  const r = rule.rule;
  return {
    schema_version: ALERT_SCHEMA_VERSION,
    alert_id: alertIdOf(dedupKey, fire),
    dedup_key: dedupKey,
    rule: { id: r.id, name: r.name, description: r.description, kind: r.kind },
    severity: r.severity,
    group: { ...group },
    event_count: fire.n,
    ...(r.kind === 'distinct_count' && fire.d !== undefined ? { distinct_count: fire.d } : {}),
    first_event_at: new Date(fire.f).toISOString(),
    last_event_at: new Date(fire.x).toISOString(),
    sample_events: samplesOf(fire),
    ...(r.action ? { action: r.action } : {}),
    tags: [...r.tags],
    created_at: new Date(fire.c).toISOString(),
  };
}
