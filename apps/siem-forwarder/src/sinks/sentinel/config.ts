import { z } from 'zod';
import { ConfigError, envBool, envInt, readSecret } from '@vigil/runtime';
import type { TlsSettings } from '../../http/client';
import { sinkUrl, tlsSettings, transportWarnings } from '../../http/endpoint';

/**
 * The Logs Ingestion API refuses calls over 1 MB, compressed or not (Azure Monitor service limits,
 * "Logs Ingestion API": "Maximum size of API call: 1 MB"; the 413 names 1048576 bytes).
 */
export const LOGS_INGESTION_MAX_BYTES = 1024 * 1024;

const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const STREAM = /^(Custom|Microsoft)-[A-Za-z0-9_]{1,100}$/;

/** Microsoft Sentinel (Azure Monitor Logs Ingestion API) variables. SENTINEL_CLIENT_SECRET (or _FILE) is a secret. */
export const sentinelEnvShape = {
  /** Data collection endpoint (or the DCR's own logs ingestion endpoint). */
  SENTINEL_DCE_URL: z.string().optional(),
  SENTINEL_DCR_ID: z
    .string()
    .regex(/^dcr-[0-9a-f]{32}$/, 'must be a DCR immutable id (dcr- and 32 hex digits)')
    .optional(),
  SENTINEL_STREAM: z.string().regex(STREAM, 'must be a stream name such as Custom-VigilSecurityEvents_CL').optional(),
  SENTINEL_ALERT_STREAM: z.string().regex(STREAM, 'must be a stream name such as Custom-VigilAlerts_CL').optional(),
  SENTINEL_TENANT_ID: z
    .string()
    .regex(/^[A-Za-z0-9.-]{1,255}$/, 'must be a tenant id (GUID) or domain')
    .optional(),
  SENTINEL_CLIENT_ID: z.string().regex(GUID, 'must be the application (client) id GUID').optional(),
  SENTINEL_AUTHORITY_URL: z.string().default('https://login.microsoftonline.com'),
  SENTINEL_SCOPE: z
    .string()
    .regex(/^https:\/\/[A-Za-z0-9.-]+\/\.default$/, 'must be a resource scope ending in /.default')
    .default('https://monitor.azure.com/.default'),
  SENTINEL_BATCH_MAX_BYTES: envInt(1_000_000, 16 * 1024, LOGS_INGESTION_MAX_BYTES),
  SENTINEL_GZIP: envBool(true),
  /** zlib level for gzip bodies: 1 is the fastest (docs/performance.md has the measured trade). */
  SENTINEL_GZIP_LEVEL: envInt(1, 1, 9),
  /** Renew the token when less than this is left of its lifetime. */
  SENTINEL_TOKEN_REFRESH_MARGIN_S: envInt(300, 0, 3000),
  SENTINEL_TLS_CA_FILE: z.string().optional(),
  SENTINEL_TLS_CERT_FILE: z.string().optional(),
  SENTINEL_TLS_KEY_FILE: z.string().optional(),
  SENTINEL_TLS_INSECURE_SKIP_VERIFY: envBool(false),
};
export const SentinelEnvSchema = z.object(sentinelEnvShape);
export type SentinelEnv = z.infer<typeof SentinelEnvSchema>;

export interface SentinelSettings {
  dceUrl: string;
  dcrId: string;
  stream: string;
  alertStream?: string | undefined;
  tenantId: string;
  clientId: string;
  clientSecret: string;
  authorityUrl: string;
  scope: string;
  maxBytes: number;
  gzip: boolean;
  gzipLevel: number;
  refreshMarginMs: number;
  tls: TlsSettings;
  warnings: string[];
}

function required<T>(variable: string, v: T | undefined): T {
  if (v === undefined) throw new ConfigError(variable, 'is required for the sentinel sink');
  return v;
}

export function sentinelSettings(
  env: SentinelEnv,
  allowPlaintext: boolean,
  forwardAlerts: boolean,
  raw: Record<string, string | undefined>,
): SentinelSettings {
  const dceUrl = sinkUrl('SENTINEL_DCE_URL', env.SENTINEL_DCE_URL, allowPlaintext);
  const authorityUrl = sinkUrl('SENTINEL_AUTHORITY_URL', env.SENTINEL_AUTHORITY_URL, allowPlaintext);
  const clientSecret = readSecret(raw, 'SENTINEL_CLIENT_SECRET');
  if (!clientSecret) throw new ConfigError('SENTINEL_CLIENT_SECRET', 'is required for the sentinel sink');
  if (forwardAlerts && !env.SENTINEL_ALERT_STREAM)
    throw new ConfigError('SENTINEL_ALERT_STREAM', 'is required when SIEM_FORWARD_ALERTS=true');
  const tls = tlsSettings('SENTINEL', {
    caFile: env.SENTINEL_TLS_CA_FILE,
    certFile: env.SENTINEL_TLS_CERT_FILE,
    keyFile: env.SENTINEL_TLS_KEY_FILE,
    insecureSkipVerify: env.SENTINEL_TLS_INSECURE_SKIP_VERIFY,
  });
  return {
    dceUrl,
    dcrId: required('SENTINEL_DCR_ID', env.SENTINEL_DCR_ID),
    stream: required('SENTINEL_STREAM', env.SENTINEL_STREAM),
    alertStream: env.SENTINEL_ALERT_STREAM,
    tenantId: required('SENTINEL_TENANT_ID', env.SENTINEL_TENANT_ID),
    clientId: required('SENTINEL_CLIENT_ID', env.SENTINEL_CLIENT_ID),
    clientSecret,
    authorityUrl,
    scope: env.SENTINEL_SCOPE,
    maxBytes: env.SENTINEL_BATCH_MAX_BYTES,
    gzip: env.SENTINEL_GZIP,
    gzipLevel: env.SENTINEL_GZIP_LEVEL,
    refreshMarginMs: env.SENTINEL_TOKEN_REFRESH_MARGIN_S * 1000,
    tls,
    warnings: [
      ...transportWarnings('SENTINEL', dceUrl, tls),
      ...transportWarnings('SENTINEL_AUTHORITY', authorityUrl, tls).filter((w) => w.includes('plaintext')),
    ],
  };
}
