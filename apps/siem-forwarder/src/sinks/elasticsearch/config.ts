import { z } from 'zod';
import { ConfigError, envBool, envInt, readSecret } from '@vigil/runtime';
import type { TlsSettings } from '../../http/client';
import { sinkUrl, tlsSettings, transportWarnings } from '../../http/endpoint';
import { DOCUMENT_FORMATS, type DocumentFormat } from '@vigil/schema-mapping';
import { parseIndexPattern, type EsFormat, type IndexPattern } from '../../domain/elasticsearch';

/** Elasticsearch / OpenSearch variables. ES_API_KEY or ES_PASSWORD (or their _FILE) are secrets. */
export const elasticsearchEnvShape = {
  ES_URL: z.string().optional(),
  /** Index name, with the event date in braces; no braces = one index or a data stream. */
  ES_INDEX: z.string().default('vigil-events-{yyyy.MM.dd}'),
  ES_ALERT_INDEX: z.string().default('vigil-alerts-{yyyy.MM.dd}'),
  /** Deprecated alias: ES_ECS=true is ES_DOCUMENT_FORMAT=ecs. */
  ES_ECS: envBool(false),
  /** Document shape: vigil (own field names), ecs or ocsf. */
  ES_DOCUMENT_FORMAT: z.enum(DOCUMENT_FORMATS, { message: `must be one of ${DOCUMENT_FORMATS.join(', ')}` }).optional(),
  ES_USERNAME: z.string().min(1).max(1024).optional(),
  ES_BATCH_MAX_BYTES: envInt(5 * 1024 * 1024, 16 * 1024, 100 * 1024 * 1024),
  ES_TLS_CA_FILE: z.string().optional(),
  ES_TLS_CERT_FILE: z.string().optional(),
  ES_TLS_KEY_FILE: z.string().optional(),
  ES_TLS_INSECURE_SKIP_VERIFY: envBool(false),
};
export const ElasticsearchEnvSchema = z.object(elasticsearchEnvShape);
export type ElasticsearchEnv = z.infer<typeof ElasticsearchEnvSchema>;

export interface ElasticsearchSettings {
  url: string;
  /** The Authorization header value: `ApiKey <base64 id:key>` or `Basic <base64 user:password>`. */
  authorization: string;
  authKind: 'api_key' | 'basic';
  format: EsFormat;
  maxBytes: number;
  tls: TlsSettings;
  warnings: string[];
}

function pattern(variable: string, text: string): IndexPattern {
  const r = parseIndexPattern(text);
  if (!r.ok) throw new ConfigError(variable, r.problem);
  return r.pattern;
}

export function elasticsearchSettings(
  env: ElasticsearchEnv,
  allowPlaintext: boolean,
  raw: Record<string, string | undefined>,
): ElasticsearchSettings {
  const url = sinkUrl('ES_URL', env.ES_URL, allowPlaintext);
  const apiKey = readSecret(raw, 'ES_API_KEY');
  const password = readSecret(raw, 'ES_PASSWORD');
  let authorization: string;
  let authKind: ElasticsearchSettings['authKind'];
  if (apiKey) {
    if (env.ES_USERNAME || password) throw new ConfigError('ES_API_KEY', 'use either an API key or ES_USERNAME/ES_PASSWORD, not both');
    // Accepts the "encoded" form Elasticsearch returns, or id:key.
    authorization = `ApiKey ${apiKey.includes(':') ? Buffer.from(apiKey).toString('base64') : apiKey}`;
    authKind = 'api_key';
  } else if (env.ES_USERNAME && password) {
    if (env.ES_USERNAME.includes(':')) throw new ConfigError('ES_USERNAME', 'must not contain ":"');
    authorization = `Basic ${Buffer.from(`${env.ES_USERNAME}:${password}`).toString('base64')}`;
    authKind = 'basic';
  } else {
    throw new ConfigError('ES_API_KEY', 'is required for the elasticsearch sink (or ES_USERNAME with ES_PASSWORD)');
  }
  const tls = tlsSettings('ES', {
    caFile: env.ES_TLS_CA_FILE,
    certFile: env.ES_TLS_CERT_FILE,
    keyFile: env.ES_TLS_KEY_FILE,
    insecureSkipVerify: env.ES_TLS_INSECURE_SKIP_VERIFY,
  });
  if (env.ES_ECS && env.ES_DOCUMENT_FORMAT !== undefined && env.ES_DOCUMENT_FORMAT !== 'ecs')
    throw new ConfigError('ES_ECS', `true contradicts ES_DOCUMENT_FORMAT=${env.ES_DOCUMENT_FORMAT}; set only ES_DOCUMENT_FORMAT`);
  const documentFormat: DocumentFormat = env.ES_DOCUMENT_FORMAT ?? (env.ES_ECS ? 'ecs' : 'vigil');
  return {
    url,
    authorization,
    authKind,
    format: { index: pattern('ES_INDEX', env.ES_INDEX), alertIndex: pattern('ES_ALERT_INDEX', env.ES_ALERT_INDEX), format: documentFormat },
    maxBytes: env.ES_BATCH_MAX_BYTES,
    tls,
    warnings: transportWarnings('ES', url, tls),
  };
}
