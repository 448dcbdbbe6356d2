import { z } from 'zod';
import { UtcTimestampSchema, parseZonedTimestamp } from '@vigil/contracts';
import type { AlertLabels } from './labels';
import { matchesAll, parseMatcher, type Matcher } from './matchers';

export const MAX_SILENCE_MS = 90 * 86_400_000; // 90 days: a silence is a temporary measure, not a filter
export const MAX_SILENCES = 10_000;

const MatcherText = z.string().superRefine((v, ctx) => {
  const r = parseMatcher(v);
  if (!r.ok) ctx.addIssue({ code: 'custom', message: r.error });
});
const Instant = z.string().refine((v) => parseZonedTimestamp(v) !== null, { message: 'must be an ISO-8601 date-time with a zone' });

/** What the API accepts to create a silence. */
export const SilenceInputSchema = z.strictObject({
  matchers: z.array(MatcherText).min(1, 'a silence needs at least one matcher').max(32),
  /** Defaults to now. */
  starts_at: Instant.optional(),
  ends_at: Instant,
  created_by: z.string().min(1).max(256),
  comment: z.string().min(1).max(2048),
});
export type SilenceInput = z.infer<typeof SilenceInputSchema>;

/** A stored silence. */
export const SilenceSchema = z.object({
  id: z.uuid(),
  matchers: z.array(z.string()).min(1).max(32),
  starts_at: UtcTimestampSchema,
  ends_at: UtcTimestampSchema,
  created_by: z.string().max(256),
  comment: z.string().max(2048),
  created_at: UtcTimestampSchema,
  updated_at: UtcTimestampSchema,
  /** Name of the API token that created it. */
  created_via: z.string().max(64),
  expired_by: z.string().max(64).optional(),
});
export type Silence = z.infer<typeof SilenceSchema>;

export type SilenceState = 'pending' | 'active' | 'expired';

export function silenceState(s: Silence, nowMs: number): SilenceState {
  if (Date.parse(s.ends_at) <= nowMs) return 'expired';
  if (Date.parse(s.starts_at) > nowMs) return 'pending';
  return 'active';
}

/** Validates a create request against the clock; returns the silence to store or the problems. */
export function newSilence(
  input: SilenceInput,
  ids: { id: string; tokenName: string },
  nowMs: number,
): { ok: true; silence: Silence } | { ok: false; path: string; message: string } {
  const starts = input.starts_at ? parseZonedTimestamp(input.starts_at)! : nowMs;
  const ends = parseZonedTimestamp(input.ends_at)!;
  if (ends <= starts) return { ok: false, path: 'ends_at', message: 'must be after starts_at' };
  if (ends <= nowMs) return { ok: false, path: 'ends_at', message: 'must be in the future' };
  if (ends - starts > MAX_SILENCE_MS) return { ok: false, path: 'ends_at', message: 'a silence may last at most 90 days' };
  const now = new Date(nowMs).toISOString();
  return {
    ok: true,
    silence: {
      id: ids.id,
      matchers: input.matchers,
      starts_at: new Date(starts).toISOString(),
      ends_at: new Date(ends).toISOString(),
      created_by: input.created_by,
      comment: input.comment,
      created_at: now,
      updated_at: now,
      created_via: ids.tokenName,
    },
  };
}

/** Expiring ends a silence now (kept for the record until it ages out). */
export function expireSilence(s: Silence, by: string, nowMs: number): Silence {
  const now = new Date(nowMs).toISOString();
  const started = Date.parse(s.starts_at) <= nowMs;
  return { ...s, ends_at: now, ...(started ? {} : { starts_at: now }), updated_at: now, expired_by: by };
}

/** A silence with its matchers compiled, ready to test alerts. */
export interface ActiveSilence {
  readonly id: string;
  readonly matchers: readonly Matcher[];
}

/** Compiles the silences active at `nowMs`. */
export function activeSilences(silences: readonly Silence[], nowMs: number): ActiveSilence[] {
  const out: ActiveSilence[] = [];
  for (const s of silences) {
    if (silenceState(s, nowMs) !== 'active') continue;
    const matchers: Matcher[] = [];
    for (const t of s.matchers) {
      const m = parseMatcher(t);
      if (m.ok) matchers.push(m.value);
    }
    if (matchers.length === s.matchers.length) out.push({ id: s.id, matchers });
  }
  return out;
}

/** Ids of the active silences that mute these labels (every matcher of a silence must hold). */
export function silencedBy(labels: AlertLabels, silences: readonly ActiveSilence[]): string[] {
  return silences.filter((s) => matchesAll(s.matchers, labels)).map((s) => s.id);
}
