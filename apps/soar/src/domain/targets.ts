import { isIP } from 'node:net';

/** A checked value or the reason it was refused. */
export type Checked<T = string> = { ok: true; value: T } | { ok: false; reason: string };

const MAX_IP_TEXT = 64; // longest IPv6 literal (45) plus "/128", with room to say "too long"
export const MAX_USER_ID = 128;
export const MAX_HOST = 253;

/** RFC 1123 host name (labels of letters, digits, hyphens), or an EDR agent id of the same alphabet. */
const HOST_RE = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
/** User ids: login names, e-mail style names, directory ids. No spaces, quotes, slashes or shell syntax. */
const USER_RE = /^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$/;

/** A parsed network: family, network address as a 32/128-bit integer, prefix length. */
export interface Network {
  family: 4 | 6;
  address: bigint;
  prefix: number;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value;
}

function ipv4ToBig(text: string): bigint {
  return text.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
}

function bigToIpv4(v: bigint): string {
  return [24n, 16n, 8n, 0n].map((s) => String((v >> s) & 0xffn)).join('.');
}

function ipv6ToBig(text: string): bigint {
  let t = text;
  // A dotted IPv4 tail (::ffff:192.0.2.1) becomes two hextets.
  const lastColon = t.lastIndexOf(':');
  const tail = t.slice(lastColon + 1);
  if (tail.includes('.')) {
    const v4 = ipv4ToBig(tail);
    t = `${t.slice(0, lastColon + 1)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const [head, rest] = t.split('::') as [string, string | undefined];
  const headParts = head ? head.split(':') : [];
  const restParts = rest ? rest.split(':') : [];
  const missing = 8 - headParts.length - restParts.length;
  const parts = rest === undefined ? headParts : [...headParts, ...Array<string>(missing).fill('0'), ...restParts];
  return parts.reduce((acc, p) => (acc << 16n) | BigInt(parseInt(p, 16)), 0n);
}

/** RFC 5952 text: lower case, no leading zeros, the longest run of zero hextets as "::". */
function bigToIpv6(v: bigint): string {
  const hextets: number[] = [];
  for (let i = 7; i >= 0; i--) hextets.push(Number((v >> BigInt(i * 16)) & 0xffffn));
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (hextets[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && hextets[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = hextets.map((h) => h.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

function mask(family: 4 | 6, prefix: number): bigint {
  const bits = family === 4 ? 32 : 128;
  return prefix === 0 ? 0n : ((1n << BigInt(prefix)) - 1n) << BigInt(bits - prefix);
}

/** Network in canonical text: a bare address for /32 and /128, else address/prefix. */
export function formatNetwork(n: Network): string {
  const addr = n.family === 4 ? bigToIpv4(n.address) : bigToIpv6(n.address);
  return n.prefix === (n.family === 4 ? 32 : 128) ? addr : `${addr}/${n.prefix}`;
}

/**
 * Parses an IP literal or CIDR. Refuses zone indexes, ports, host bits set under the mask and any
 * text node:net does not read as an address. IPv4-mapped IPv6 addresses become IPv4.
 */
export function parseNetwork(value: unknown): Checked<Network> {
  if (typeof value !== 'string') return { ok: false, reason: `must be a string, got ${describe(value)}` };
  if (value.length === 0) return { ok: false, reason: 'is empty' };
  if (value.length > MAX_IP_TEXT) return { ok: false, reason: `is ${value.length} characters, longer than any IP or CIDR` };
  const slash = value.indexOf('/');
  const addrText = slash < 0 ? value : value.slice(0, slash);
  const prefixText = slash < 0 ? null : value.slice(slash + 1);
  const family = isIP(addrText);
  if (family === 0 || addrText.includes('%')) return { ok: false, reason: `"${printable(value)}" is not an IP address or CIDR` };
  let fam = family as 4 | 6;
  let address = fam === 4 ? ipv4ToBig(addrText) : ipv6ToBig(addrText.toLowerCase());
  const bits = fam === 4 ? 32 : 128;
  let prefix = bits;
  if (prefixText !== null) {
    if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > bits) {
      return { ok: false, reason: `prefix "/${printable(prefixText)}" must be 0-${bits}` };
    }
    prefix = Number(prefixText);
  }
  if (fam === 6 && address >> 32n === 0xffffn && prefix >= 96) {
    fam = 4;
    address &= 0xffffffffn;
    prefix -= 96;
  }
  const m = mask(fam, prefix);
  if ((address & m) !== address) {
    const net = formatNetwork({ family: fam, address: address & m, prefix });
    return { ok: false, reason: `"${printable(value)}" has host bits set under /${prefix}; the network is ${net}` };
  }
  return { ok: true, value: { family: fam, address, prefix } };
}

/** True when the two networks share at least one address. */
export function overlaps(a: Network, b: Network): boolean {
  if (a.family !== b.family) return false;
  const m = mask(a.family, Math.min(a.prefix, b.prefix));
  return (a.address & m) === (b.address & m);
}

/** Refuses what a block must never touch: an allowlisted network, or a range wider than allowed. */
export interface IpPolicy {
  /** Networks never blocked (own infrastructure, resolvers, loopback). */
  neverBlock: readonly Network[];
  /** Widest prefix accepted per family: a /8 block is almost always a mistake. */
  minPrefixV4: number;
  minPrefixV6: number;
}

export interface TargetPolicy {
  ip: IpPolicy;
  /** User ids never disabled (break-glass accounts), compared case-insensitively. */
  neverDisable: ReadonlySet<string>;
  /** Host names never isolated (domain controllers, the responder's own hosts). */
  neverIsolate: ReadonlySet<string>;
}

export function checkBlockableIp(value: unknown, policy: IpPolicy): Checked {
  const parsed = parseNetwork(value);
  if (!parsed.ok) return parsed;
  const net = parsed.value;
  const min = net.family === 4 ? policy.minPrefixV4 : policy.minPrefixV6;
  if (net.prefix < min) return { ok: false, reason: `${formatNetwork(net)} is wider than /${min}, the widest block allowed` };
  const hit = policy.neverBlock.find((allowed) => overlaps(net, allowed));
  if (hit) return { ok: false, reason: `${formatNetwork(net)} is on the never-block allowlist (${formatNetwork(hit)})` };
  return { ok: true, value: formatNetwork(net) };
}

export function checkUserId(value: unknown, neverDisable: ReadonlySet<string> = new Set()): Checked {
  if (typeof value !== 'string') return { ok: false, reason: `must be a string, got ${describe(value)}` };
  if (value.length > MAX_USER_ID) return { ok: false, reason: `is ${value.length} characters, over the ${MAX_USER_ID} allowed` };
  if (!USER_RE.test(value)) {
    return { ok: false, reason: `"${printable(value)}" is not a user id (letters, digits and . _ @ + -, starting with a letter or digit)` };
  }
  if (neverDisable.has(value.toLowerCase())) return { ok: false, reason: `${value} is on the never-disable list` };
  return { ok: true, value };
}

export function checkHost(value: unknown, neverIsolate: ReadonlySet<string> = new Set()): Checked {
  if (typeof value !== 'string') return { ok: false, reason: `must be a string, got ${describe(value)}` };
  if (value.length > MAX_HOST) return { ok: false, reason: `is ${value.length} characters, over the ${MAX_HOST} allowed` };
  if (!HOST_RE.test(value)) return { ok: false, reason: `"${printable(value)}" is not a host name (RFC 1123 labels)` };
  const lower = value.toLowerCase();
  if (neverIsolate.has(lower)) return { ok: false, reason: `${value} is on the never-isolate list` };
  return { ok: true, value: lower };
}

/** Shows a hostile string safely in a reason: control characters escaped, length capped. */
export function printable(s: string, max = 80): string {
  const clean = s.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}

/** Parses allowlist text (CIDRs) once at boot; a bad entry names itself. */
export function parseNetworks(list: readonly string[]): Checked<Network[]> {
  const out: Network[] = [];
  for (const item of list) {
    const r = parseNetwork(item);
    if (!r.ok) return { ok: false, reason: `${item}: ${r.reason}` };
    out.push(r.value);
  }
  return { ok: true, value: out };
}
