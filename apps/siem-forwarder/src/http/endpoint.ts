import { readFileSync } from 'node:fs';
import { ConfigError } from '@vigil/runtime';
import type { TlsSettings } from './client';

/**
 * A sink's base URL: https unless plaintext was explicitly allowed (local stand-ins, demos).
 * No credentials, query or fragment in it: secrets travel in headers from their own variables.
 */
export function sinkUrl(variable: string, value: string | undefined, allowPlaintext: boolean): string {
  if (!value) throw new ConfigError(variable, 'is required for this sink');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(variable, 'must be an absolute URL like https://host:port');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new ConfigError(variable, 'must be an http(s) URL');
  if (url.protocol === 'http:' && !allowPlaintext) {
    throw new ConfigError(
      variable,
      'must use https:// (TLS is on by default; set SIEM_ALLOW_PLAINTEXT_HTTP=true only for local stand-ins)',
    );
  }
  if (url.username || url.password) throw new ConfigError(variable, 'must not carry credentials; use the sink token variables');
  if (url.search || url.hash) throw new ConfigError(variable, 'must not have a query or fragment');
  return url.toString().replace(/\/+$/, '');
}

function readPem(variable: string, file: string | undefined): string | undefined {
  if (!file) return undefined;
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(variable, `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}

/** The four TLS variables of a sink, read by their prefix (e.g. SPLUNK → SPLUNK_TLS_CA_FILE). */
export interface TlsEnv {
  caFile?: string | undefined;
  certFile?: string | undefined;
  keyFile?: string | undefined;
  insecureSkipVerify: boolean;
}

export function tlsSettings(prefix: string, env: TlsEnv): TlsSettings {
  const cert = readPem(`${prefix}_TLS_CERT_FILE`, env.certFile);
  const key = readPem(`${prefix}_TLS_KEY_FILE`, env.keyFile);
  if (Boolean(cert) !== Boolean(key))
    throw new ConfigError(`${prefix}_TLS_${cert ? 'KEY' : 'CERT'}_FILE`, 'client certificate and key go together');
  return { ca: readPem(`${prefix}_TLS_CA_FILE`, env.caFile), cert, key, rejectUnauthorized: !env.insecureSkipVerify };
}

/** Start-up warnings about a sink's transport security, logged loudly once. */
export function transportWarnings(prefix: string, url: string, tls: TlsSettings): string[] {
  const out: string[] = [];
  if (url.startsWith('http:')) out.push(`${prefix}: plaintext HTTP to ${new URL(url).host}; events and credentials travel unencrypted`);
  if (!tls.rejectUnauthorized) {
    out.push(
      `${prefix}_TLS_INSECURE_SKIP_VERIFY=true: the server certificate of ${new URL(url).host} is NOT verified (anyone in the path can read and alter events)`,
    );
  }
  return out;
}
