import { z } from 'zod';
import { ConfigError, envInt, readSecret } from '@vigil/runtime';

/** HTTP ingest variables (docs/hec-ingest.md). INGEST_HEC_TOKENS (or _FILE) is read as a secret. */
export const httpIngestEnvShape = {
  INGEST_HTTP_MAX_BODY_BYTES: envInt(1024 * 1024, 1024, 64 * 1024 * 1024),
  /** Events (HEC objects or NDJSON lines) one request may carry. */
  INGEST_HTTP_MAX_EVENTS: envInt(10_000, 1, 100_000),
  /** Longest wait for Kafka to acknowledge a request's events before answering 503 (busy). */
  INGEST_HTTP_SEND_TIMEOUT_MS: envInt(10_000, 100, 120_000),
  /** Requests being processed at once; more are answered 503 (busy) at once. */
  INGEST_HTTP_MAX_IN_FLIGHT: envInt(32, 1, 10_000),
};

/** A token as configured: only its SHA-256 is known to Vigil. */
export interface HecToken {
  name: string;
  sha256: Buffer;
  /** Indexes an envelope may name; empty = any. */
  indexes: string[];
  /** source.application values its events may claim; empty = any. */
  sources: string[];
}

export interface HttpIngestSettings {
  tokens: HecToken[];
  maxBodyBytes: number;
  maxEvents: number;
  sendTimeoutMs: number;
  maxInFlight: number;
}

const NAME = /^[A-Za-z0-9._-]{1,64}$/;
const HEX64 = /^[0-9a-f]{64}$/;
const LIST_ITEM = /^[A-Za-z0-9._:/-]{1,256}$/;

const TokenJson = z.array(
  z.strictObject({
    name: z.string().regex(NAME),
    sha256: z.string().regex(HEX64, 'must be 64 lowercase hex digits (sha256 of the token)'),
    indexes: z.array(z.string().regex(LIST_ITEM)).max(256).default([]),
    sources: z.array(z.string().regex(LIST_ITEM)).max(256).default([]),
  }),
);

/**
 * INGEST_HEC_TOKENS: entries separated by commas or newlines, `name:sha256hex[:index|index…[:source|source…]]`
 * (`*` or nothing = any), or a JSON array of {name, sha256, indexes, sources}. Tokens themselves
 * are never configured: only their SHA-256, so a leaked config does not leak a credential.
 */
export function parseHecTokens(text: string): HecToken[] {
  const trimmed = text.trim();
  const fail = (problem: string): never => {
    throw new ConfigError('INGEST_HEC_TOKENS', problem);
  };
  let raw: Array<{ name: string; sha256: string; indexes: string[]; sources: string[] }>;
  if (trimmed.startsWith('[')) {
    let v: unknown;
    try {
      v = JSON.parse(trimmed);
    } catch {
      return fail('is not valid JSON');
    }
    const r = TokenJson.safeParse(v);
    if (!r.success) return fail(`${r.error.issues[0]!.path.join('.')}: ${r.error.issues[0]!.message}`);
    raw = r.data;
  } else {
    raw = trimmed
      .split(/[,\n]/)
      .map((s) => s.trim())
      .filter((s) => s && !s.startsWith('#'))
      .map((entry) => {
        const [name = '', sha = '', idx = '', src = '', ...extra] = entry.split(':');
        if (extra.length > 0) fail(`entry "${name}" has too many ":"-separated parts`);
        if (!NAME.test(name)) fail('each entry must be name:sha256hex[:indexes[:sources]] (names: 1-64 of A-Z a-z 0-9 . _ -)');
        if (!HEX64.test(sha)) fail(`token "${name}": the hash must be 64 lowercase hex digits (sha256 of the token, not the token)`);
        const list = (s: string) =>
          s === '' || s === '*'
            ? []
            : s.split('|').map((x) => {
                if (!LIST_ITEM.test(x)) fail(`token "${name}": "${x}" is not a valid index or source name`);
                return x;
              });
        return { name, sha256: sha, indexes: list(idx), sources: list(src) };
      });
  }
  const names = new Set<string>();
  const hashes = new Set<string>();
  for (const t of raw) {
    if (names.has(t.name)) fail(`token name "${t.name}" is given twice`);
    if (hashes.has(t.sha256)) fail(`tokens "${t.name}" and another share one hash`);
    names.add(t.name);
    hashes.add(t.sha256);
  }
  return raw.map((t) => ({ name: t.name, sha256: Buffer.from(t.sha256, 'hex'), indexes: t.indexes, sources: t.sources }));
}

type HttpEnv = { [K in keyof typeof httpIngestEnvShape]: number };

/** HTTP ingest runs when tokens are configured; without them the endpoints do not exist. */
export function httpIngestSettings(env: HttpEnv, raw: Record<string, string | undefined>): HttpIngestSettings | undefined {
  const text = readSecret(raw, 'INGEST_HEC_TOKENS');
  if (!text) return undefined;
  const tokens = parseHecTokens(text);
  if (tokens.length === 0) throw new ConfigError('INGEST_HEC_TOKENS', 'holds no token');
  return {
    tokens,
    maxBodyBytes: env.INGEST_HTTP_MAX_BODY_BYTES,
    maxEvents: env.INGEST_HTTP_MAX_EVENTS,
    sendTimeoutMs: env.INGEST_HTTP_SEND_TIMEOUT_MS,
    maxInFlight: env.INGEST_HTTP_MAX_IN_FLIGHT,
  };
}
