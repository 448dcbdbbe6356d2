import { isIP } from 'node:net';
import { z } from 'zod';

/** An IPv4 or IPv6 literal (no CIDR, no port, no zone index). */
export const IpSchema = z
  .string()
  .max(45)
  .refine((s) => isIP(s) !== 0, { message: 'must be an IPv4 or IPv6 address' });

export const UuidSchema = z.uuid({ message: 'must be a UUID' });

/** Short identifiers: user ids, host names, application names. */
export const ShortText = z.string().min(1).max(256);
/** Free text: actions, descriptions. */
export const MediumText = z.string().min(1).max(2048);

// ISO-8601 date-time with a zone. Up to nine fraction digits (Python writes six, Go nine).
// The optional trailing "Z" after an explicit offset accepts a known producer bug:
// `datetime.isoformat() + "Z"` on an aware datetime writes "...+00:00Z".
const ISO_RE = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(?:([Zz])|([+-])(\d{2}):?(\d{2})[Zz]?)$/;

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function isLeap(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/**
 * The canonical UTC form (millisecond precision, trailing Z) of a zoned ISO-8601 timestamp, or null.
 * UTC input (the common case) is rewritten without building a Date; offsets go through epoch time.
 */
export function canonicalUtcTimestamp(text: string): string | null {
  if (text.length > 40) return null;
  const m = ISO_RE.exec(text);
  if (!m) return null;
  const [, y, mo, d, h, mi, s = '00', frac = '', z] = m;
  if (z) {
    const month = Number(mo);
    const day = Number(d);
    if (month < 1 || month > 12 || day < 1 || Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) return null;
    if (day > DAYS_IN_MONTH[month - 1]! || (month === 2 && day === 29 && !isLeap(Number(y)))) return null;
    return `${y}-${mo}-${d}T${h}:${mi}:${s}.${(frac + '000').slice(0, 3)}Z`;
  }
  const epoch = parseZonedTimestamp(text);
  return epoch === null ? null : new Date(epoch).toISOString();
}

/** Parses an ISO-8601 timestamp that carries a zone into epoch milliseconds, or null. */
export function parseZonedTimestamp(text: string): number | null {
  if (text.length > 40) return null;
  const m = ISO_RE.exec(text);
  if (!m) return null;
  const [, y, mo, d, h, mi, s = '0', frac = '', z, sign, oh, om] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return null;
  const ms = frac ? Math.floor(Number(`0.${frac}`) * 1000) : 0;
  let epoch = Date.UTC(year, month - 1, day, hour, minute, Math.min(second, 59), ms);
  // Date.UTC rolls 31 Feb into March; reject dates that do not exist.
  const check = new Date(epoch);
  if (check.getUTCDate() !== day || check.getUTCMonth() !== month - 1) return null;
  if (!z) {
    const offH = Number(oh);
    const offM = Number(om);
    if (offH > 18 || offM > 59) return null;
    const offset = (offH * 60 + offM) * 60_000;
    epoch += sign === '+' ? -offset : offset;
  }
  return Number.isFinite(epoch) ? epoch : null;
}

/** A zoned ISO-8601 timestamp in, a UTC ISO string (millisecond precision) out. */
export const ZonedTimestampSchema = z.string().transform((text, ctx) => {
  const canonical = canonicalUtcTimestamp(text);
  if (canonical === null) {
    ctx.addIssue({
      code: 'custom',
      message: 'must be an ISO-8601 date-time with a zone, e.g. 2026-11-29T10:00:00.123Z',
    });
    return z.NEVER;
  }
  return canonical;
});

/** The canonical form every service writes: UTC, milliseconds, trailing Z. */
export const UtcTimestampSchema = z.iso.datetime({ offset: false, precision: 3, message: 'must be a UTC ISO timestamp with milliseconds' });
