import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { ConfigError, envBool, envInt, readSecret } from '@vigil/runtime';
import type { TlsSettings } from '../../http/client';
import { sinkUrl, tlsSettings, transportWarnings } from '../../http/endpoint';
import { DOCUMENT_FORMATS } from '@vigil/schema-mapping';
import type { SplunkFormat } from '../../domain/splunk';

const SPLUNK_NAME = /^[A-Za-z0-9_:.\-/]{1,256}$/;
const INDEX_NAME = /^[a-z0-9_][a-z0-9_-]{0,79}$/;
const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** Splunk HEC variables (docs/siem-forwarder.md). SPLUNK_HEC_TOKEN (or _FILE) is read as a secret. */
export const splunkEnvShape = {
  SPLUNK_HEC_URL: z.string().optional(),
  SPLUNK_INDEX: z.string().regex(INDEX_NAME, 'must be a Splunk index name').optional(),
  SPLUNK_ALERT_INDEX: z.string().regex(INDEX_NAME, 'must be a Splunk index name').optional(),
  SPLUNK_SOURCE: z.string().regex(SPLUNK_NAME).default('vigil'),
  SPLUNK_SOURCETYPE: z.string().regex(SPLUNK_NAME).default('vigil:security:event'),
  SPLUNK_ALERT_SOURCETYPE: z.string().regex(SPLUNK_NAME).default('vigil:security:alert'),
  SPLUNK_HOST: z.string().regex(SPLUNK_NAME).optional(),
  /** Shape of each HEC event's `event` field: vigil (own field names), ecs or ocsf. */
  SPLUNK_EVENT_FORMAT: z.enum(DOCUMENT_FORMATS, { message: `must be one of ${DOCUMENT_FORMATS.join(', ')}` }).default('vigil'),
  SPLUNK_BATCH_MAX_BYTES: envInt(1024 * 1024, 16 * 1024, 64 * 1024 * 1024),
  /** Indexer acknowledgement: offsets advance only once HEC says the events are indexed. */
  SPLUNK_ACK: envBool(false),
  SPLUNK_CHANNEL: z.string().regex(GUID, 'must be a GUID').optional(),
  SPLUNK_ACK_POLL_MS: envInt(1_000, 50, 60_000),
  SPLUNK_ACK_TIMEOUT_MS: envInt(120_000, 1_000, 3_600_000),
  SPLUNK_TLS_CA_FILE: z.string().optional(),
  SPLUNK_TLS_CERT_FILE: z.string().optional(),
  SPLUNK_TLS_KEY_FILE: z.string().optional(),
  SPLUNK_TLS_INSECURE_SKIP_VERIFY: envBool(false),
};
export const SplunkEnvSchema = z.object(splunkEnvShape);
export type SplunkEnv = z.infer<typeof SplunkEnvSchema>;

export interface SplunkSettings {
  url: string;
  token: string;
  format: SplunkFormat;
  maxBytes: number;
  ack: boolean;
  /** Channel id sent with every request (required by HEC when acknowledgement is on). */
  channel: string;
  ackPollMs: number;
  ackTimeoutMs: number;
  tls: TlsSettings;
  warnings: string[];
}

export function splunkSettings(env: SplunkEnv, allowPlaintext: boolean, raw: Record<string, string | undefined>): SplunkSettings {
  const url = sinkUrl('SPLUNK_HEC_URL', env.SPLUNK_HEC_URL, allowPlaintext);
  const token = readSecret(raw, 'SPLUNK_HEC_TOKEN');
  if (!token) throw new ConfigError('SPLUNK_HEC_TOKEN', 'is required for the splunk sink');
  if (/\s/.test(token)) throw new ConfigError('SPLUNK_HEC_TOKEN', 'must not contain whitespace');
  const tls = tlsSettings('SPLUNK', {
    caFile: env.SPLUNK_TLS_CA_FILE,
    certFile: env.SPLUNK_TLS_CERT_FILE,
    keyFile: env.SPLUNK_TLS_KEY_FILE,
    insecureSkipVerify: env.SPLUNK_TLS_INSECURE_SKIP_VERIFY,
  });
  return {
    url,
    token,
    format: {
      index: env.SPLUNK_INDEX,
      alertIndex: env.SPLUNK_ALERT_INDEX,
      source: env.SPLUNK_SOURCE,
      sourcetype: env.SPLUNK_SOURCETYPE,
      alertSourcetype: env.SPLUNK_ALERT_SOURCETYPE,
      host: env.SPLUNK_HOST,
      format: env.SPLUNK_EVENT_FORMAT,
    },
    maxBytes: env.SPLUNK_BATCH_MAX_BYTES,
    ack: env.SPLUNK_ACK,
    channel: env.SPLUNK_CHANNEL ?? randomUUID(),
    ackPollMs: env.SPLUNK_ACK_POLL_MS,
    ackTimeoutMs: env.SPLUNK_ACK_TIMEOUT_MS,
    tls,
    warnings: transportWarnings('SPLUNK', url, tls),
  };
}
