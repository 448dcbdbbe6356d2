import { BlockList, isIP } from 'node:net';
import { compileSafeRegex, safeRegexTest } from './regex-safety';
import type { Condition } from './rule';

/** A compiled condition: true when the event passes. Never throws, whatever the event holds. */
export type Matcher = (event: unknown) => boolean;

const MISSING = Symbol('missing');

/**
 * Reads a dotted path (`details.response_code`, `tags.0`) through own properties only, so a path
 * can never reach Object.prototype. Returns MISSING for absent, null or untraversable values.
 */
export function readPath(root: unknown, path: string | readonly string[]): unknown {
  const segs = typeof path === 'string' ? path.split('.') : path;
  let cur: unknown = root;
  for (let i = 0; i < segs.length; i++) {
    const seg = segs[i]!;
    if (cur === null || typeof cur !== 'object') return MISSING;
    if (Array.isArray(cur)) {
      const idx = Number(seg);
      if (!Number.isInteger(idx) || idx < 0 || String(idx) !== seg) return MISSING;
      cur = cur[idx];
    } else {
      if (!Object.prototype.hasOwnProperty.call(cur, seg)) return MISSING;
      cur = (cur as Record<string, unknown>)[seg];
    }
    if (cur === undefined || cur === null) return MISSING;
  }
  return cur;
}

export function isMissing(v: unknown): boolean {
  return v === MISSING;
}

/** Numbers and numeric strings compare as numbers; otherwise the value itself. */
function asNumber(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(v)) return Number(v);
  return null;
}

type Scalar = string | number | boolean;

/**
 * Scalar equality as rules mean it: same JSON type and value, except that a number and a numeric
 * string are equal when their numbers are (producers write response codes both ways).
 */
function scalarEquals(field: unknown, want: Scalar, ignoreCase: boolean): boolean {
  if (typeof field === 'string' && typeof want === 'string') {
    return ignoreCase ? field.toLowerCase() === want.toLowerCase() : field === want;
  }
  if (typeof field === 'boolean' || typeof want === 'boolean') return field === want;
  if (typeof field === 'number' || typeof want === 'number') {
    const a = asNumber(field);
    const b = asNumber(want);
    return a !== null && b !== null && a === b;
  }
  return false;
}

function isScalar(v: unknown): v is Scalar {
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
}

/** Compiles one condition. Regexes are compiled (and safety-checked) here, once, at rule load. */
export function compileCondition(c: Condition): { ok: true; match: Matcher } | { ok: false; reason: string } {
  const ic = c.ignore_case ?? false;
  const path = c.field.split('.'); // split once, at load
  const scalarAt = (e: unknown): unknown => readPath(e, path);
  switch (c.operator) {
    case 'equals': {
      const want = c.value;
      return {
        ok: true,
        match: (e) => {
          const v = scalarAt(e);
          return isScalar(v) && scalarEquals(v, want, ic);
        },
      };
    }
    case 'not_equals': {
      const want = c.value;
      return {
        ok: true,
        match: (e) => {
          const v = scalarAt(e);
          return isScalar(v) && !scalarEquals(v, want, ic);
        },
      };
    }
    case 'contains': {
      const want = c.value;
      const needle = typeof want === 'string' && ic ? want.toLowerCase() : want;
      return {
        ok: true,
        match: (e) => {
          const v = readPath(e, path);
          if (typeof v === 'string' && typeof needle === 'string') return (ic ? v.toLowerCase() : v).includes(needle);
          if (Array.isArray(v)) return v.some((item) => isScalar(item) && scalarEquals(item, want, ic));
          return false;
        },
      };
    }
    case 'regex': {
      const compiled = compileSafeRegex(c.value, ic);
      if (!compiled.ok) return compiled;
      const re = compiled.regex;
      return {
        ok: true,
        match: (e) => {
          const v = readPath(e, path);
          return typeof v === 'string' && safeRegexTest(re, v);
        },
      };
    }
    case 'greater_than':
    case 'less_than': {
      const bound = c.value;
      const gt = c.operator === 'greater_than';
      return {
        ok: true,
        match: (e) => {
          const n = asNumber(readPath(e, path));
          return n !== null && (gt ? n > bound : n < bound);
        },
      };
    }
    case 'starts_with':
    case 'ends_with': {
      const want = ic ? c.value.toLowerCase() : c.value;
      const starts = c.operator === 'starts_with';
      return {
        ok: true,
        match: (e) => {
          const v = readPath(e, path);
          if (typeof v !== 'string') return false;
          const s = ic ? v.toLowerCase() : v;
          return starts ? s.startsWith(want) : s.endsWith(want);
        },
      };
    }
    case 'greater_or_equal':
    case 'less_or_equal': {
      const bound = c.value;
      const ge = c.operator === 'greater_or_equal';
      return {
        ok: true,
        match: (e) => {
          const n = asNumber(readPath(e, path));
          return n !== null && (ge ? n >= bound : n <= bound);
        },
      };
    }
    case 'cidr': {
      const net = parseCidr(c.value);
      if (!net) return { ok: false, reason: `"${c.value}" is not an IPv4 or IPv6 network such as 10.0.0.0/8` };
      const list = new BlockList();
      list.addSubnet(net.address, net.prefix, net.family);
      return {
        ok: true,
        match: (e) => {
          const v = readPath(e, path);
          if (typeof v !== 'string') return false;
          const fam = isIP(v);
          // An IPv4 address never falls in an IPv6 network and the other way round (no mapping).
          if (fam === 0 || (fam === 4 ? 'ipv4' : 'ipv6') !== net.family) return false;
          return list.check(v, net.family);
        },
      };
    }
    case 'exists': {
      const want = c.value;
      return { ok: true, match: (e) => !isMissing(readPath(e, path)) === want };
    }
    case 'in':
    case 'not_in': {
      const list = c.value;
      const negate = c.operator === 'not_in';
      return {
        ok: true,
        match: (e) => {
          const v = readPath(e, path);
          if (!isScalar(v)) return false;
          const found = list.some((w) => scalarEquals(v, w, ic));
          return negate ? !found : found;
        },
      };
    }
  }
}

/** `address/prefix` with a valid address and a prefix within its family's width, or null. */
export function parseCidr(text: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } | null {
  const slash = text.indexOf('/');
  if (slash < 0) return null;
  const address = text.slice(0, slash);
  const prefixText = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefixText)) return null;
  const prefix = Number(prefixText);
  const fam = isIP(address);
  if (fam === 0 || prefix > (fam === 4 ? 32 : 128)) return null;
  return { address, prefix, family: fam === 4 ? 'ipv4' : 'ipv6' };
}

/** Scalar group or distinct value as a string; null when the field is missing or not a scalar. */
export function scalarText(root: unknown, path: string | readonly string[]): string | null {
  const v = readPath(root, path);
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v === 'boolean') return String(v);
  return null;
}
