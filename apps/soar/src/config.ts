import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { z } from 'zod';
import { ResponderRoleSchema, type ResponderRole, type ResponseAction } from '@vigil/contracts';
import { kafkaEnvShape } from '@vigil/kafka';
import { redisEnvShape } from '@vigil/redis';
import { ConfigError, envBool, envInt, envList, envLogLevel, envPort, readSecret } from '@vigil/runtime';
import { DEFAULT_DENYLIST_KEY } from '@vigil/security-logger';
import type { ConnectorName, Playbook } from './domain/playbook';
import { parseNetworks, type TargetPolicy } from './domain/targets';
import { PlaybookError, loadPlaybooks } from './playbooks/loader';

/** The playbooks shipped with the service (apps/soar/playbooks), relative to dist/ or src/. */
export const SHIPPED_PLAYBOOKS_DIR = join(__dirname, '..', 'playbooks');

const DAY_S = 86_400;
const HttpUrl = z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' }).optional();
const HttpMethod = z.enum(['POST', 'PUT', 'PATCH', 'DELETE']);
const PathTemplate = z
  .string()
  .max(512)
  .regex(/^\/[A-Za-z0-9/_.~{}-]*$/, 'must be a path starting with / (letters, digits, / _ . ~ - and {host})')
  .refine((p) => p.includes('{host}') && p.replace('{host}', '').match(/[{}]/) === null, {
    message: 'must contain {host} once and no other placeholder',
  });

/** Every soar setting, from the environment, validated once at boot (docs/soar.md). */
export const SoarEnvSchema = z.object({
  ...kafkaEnvShape,
  ...redisEnvShape,
  LOG_LEVEL: envLogLevel,
  HTTP_HOST: z.string().default('0.0.0.0'),
  HTTP_PORT: envPort(8085),
  /** Consumer group; default vigil-soar (under VIGIL_TOPIC_NAMESPACE when set). */
  SOAR_GROUP_ID: z.string().min(1).max(200).optional(),
  SOAR_PLAYBOOKS_DIR: z.string().min(1).default(SHIPPED_PLAYBOOKS_DIR),
  SOAR_DRY_RUN: envBool(false),
  /** CIDRs never blocked: own infrastructure. Loopback and link-local are always added. */
  SOAR_NEVER_BLOCK: envList(''),
  SOAR_NEVER_DISABLE: envList(''),
  SOAR_NEVER_ISOLATE: envList(''),
  SOAR_MIN_PREFIX_V4: envInt(16, 0, 32),
  SOAR_MIN_PREFIX_V6: envInt(48, 0, 128),
  SOAR_APPROVAL_TTL_SECONDS: envInt(4 * 3600, 1, 30 * DAY_S),
  SOAR_OFFENDER_WINDOW_SECONDS: envInt(7 * DAY_S, 1, 365 * DAY_S),
  SOAR_STEP_MAX_ATTEMPTS: envInt(5, 1, 50),
  SOAR_RETRY_BASE_MS: envInt(1_000, 10, 3_600_000),
  SOAR_RETRY_MAX_MS: envInt(60_000, 10, 86_400_000),
  SOAR_LEASE_MS: envInt(60_000, 1_000, 3_600_000),
  SOAR_POLL_MS: envInt(500, 10, 60_000),
  SOAR_RUNNER_CONCURRENCY: envInt(8, 1, 256),
  SOAR_RUN_RETENTION_SECONDS: envInt(7 * DAY_S, 60, 365 * DAY_S),
  SOAR_IDEMPOTENCY_TTL_SECONDS: envInt(30 * DAY_S, 60, 365 * DAY_S),
  SOAR_CONNECTOR_IP: z.enum(['firewall', 'nftables', 'denylist']).default('denylist'),
  SOAR_CONNECTOR_USER: z.enum(['scim']).default('scim'),
  SOAR_CONNECTOR_HOST: z.enum(['edr']).default('edr'),
  SOAR_DENYLIST_KEY: z
    .string()
    .regex(/^[A-Za-z0-9:._-]{1,128}$/)
    .default(DEFAULT_DENYLIST_KEY),
  SOAR_CONSOLE: envBool(true),
  FIREWALL_URL: HttpUrl,
  FIREWALL_TIMEOUT_MS: envInt(5_000, 100, 120_000),
  NFT_BINARY: z.string().min(1).max(256).default('nft'),
  NFT_FAMILY: z.enum(['inet', 'ip', 'ip6', 'bridge', 'netdev']).default('inet'),
  NFT_TABLE: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9_]{0,63}$/)
    .default('vigil'),
  NFT_SET_V4: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9_]{0,63}$/)
    .default('blocked4'),
  NFT_SET_V6: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9_]{0,63}$/)
    .default('blocked6'),
  NFT_TIMEOUT_MS: envInt(5_000, 100, 60_000),
  SCIM_URL: HttpUrl,
  SCIM_TIMEOUT_MS: envInt(5_000, 100, 120_000),
  SCIM_USER_LOOKUP: z.enum(['id', 'userName']).default('userName'),
  EDR_URL: HttpUrl,
  EDR_TIMEOUT_MS: envInt(5_000, 100, 120_000),
  EDR_AUTH: z.enum(['bearer', 'header', 'basic']).default('bearer'),
  EDR_AUTH_HEADER: z
    .string()
    .regex(/^[A-Za-z0-9-]{1,64}$/)
    .default('X-Api-Key'),
  EDR_ISOLATE_METHOD: HttpMethod.default('POST'),
  EDR_ISOLATE_PATH: PathTemplate.default('/hosts/{host}/isolate'),
  EDR_RELEASE_METHOD: HttpMethod.default('POST'),
  EDR_RELEASE_PATH: PathTemplate.default('/hosts/{host}/release'),
});
export type SoarEnv = z.infer<typeof SoarEnvSchema>;

/** An API token as configured: who holds it, the role, and only the SHA-256 of the token. */
export interface ApiToken {
  name: string;
  role: ResponderRole;
  sha256: Buffer;
}

export interface SoarConfig {
  env: SoarEnv;
  policy: TargetPolicy;
  tokens: ApiToken[];
  defaultConnectors: Record<ResponseAction, ConnectorName>;
  secrets: { firewallToken?: string; scimToken?: string; edrToken?: string };
  /** Connectors this configuration enables (HTTP ones only with their URL). */
  connectors: ReadonlySet<ConnectorName>;
  /** Validated playbooks, loaded at boot: a bad file is a configuration error naming it. */
  playbooks: Playbook[];
}

/** Always refused, whatever SOAR_NEVER_BLOCK says: blocking these cuts the host off from itself. */
export const ALWAYS_NEVER_BLOCK = ['127.0.0.0/8', '::1/128', '169.254.0.0/16', 'fe80::/10', '0.0.0.0/32', '::/128'];

/**
 * SOAR_API_TOKENS (or SOAR_API_TOKENS_FILE): comma-separated `name:role:sha256hex`. Only hashes are
 * configured, so a leaked config does not leak a usable token. `sha256:<hex>` is accepted too.
 */
export function parseApiTokens(text: string | undefined): ApiToken[] {
  const out: ApiToken[] = [];
  if (!text) return out;
  for (const entry of text
    .split(/[,\n]/)
    .map((s) => s.trim())
    .filter(Boolean)) {
    const m = /^([A-Za-z0-9._@-]{1,64}):([a-z]+):(?:sha256:)?([0-9a-fA-F]{64})$/.exec(entry);
    if (!m) throw new ConfigError('SOAR_API_TOKENS', 'each entry must be name:role:sha256hex');
    const role = ResponderRoleSchema.safeParse(m[2]);
    if (!role.success) throw new ConfigError('SOAR_API_TOKENS', `role "${m[2]}" must be analyst or admin`);
    out.push({ name: m[1]!, role: role.data, sha256: Buffer.from(m[3]!, 'hex') });
  }
  if (new Set(out.map((t) => t.sha256.toString('hex'))).size !== out.length)
    throw new ConfigError('SOAR_API_TOKENS', 'a token hash appears twice');
  return out;
}

/** The hash an operator puts in SOAR_API_TOKENS for a token. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function soarConfig(env: SoarEnv, raw: Record<string, string | undefined> = process.env): SoarConfig {
  const nets = parseNetworks([...ALWAYS_NEVER_BLOCK, ...env.SOAR_NEVER_BLOCK]);
  if (!nets.ok) throw new ConfigError('SOAR_NEVER_BLOCK', nets.reason);
  if (env.SOAR_RETRY_MAX_MS < env.SOAR_RETRY_BASE_MS) throw new ConfigError('SOAR_RETRY_MAX_MS', 'must be at least SOAR_RETRY_BASE_MS');
  const ip = env.SOAR_CONNECTOR_IP;
  const secrets = {
    firewallToken: readSecret(raw, 'FIREWALL_TOKEN'),
    scimToken: readSecret(raw, 'SCIM_TOKEN'),
    edrToken: readSecret(raw, 'EDR_TOKEN'),
  };
  if (env.SCIM_URL && !secrets.scimToken) throw new ConfigError('SCIM_TOKEN', 'is required when SCIM_URL is set');
  if (env.EDR_URL && !secrets.edrToken) throw new ConfigError('EDR_TOKEN', 'is required when EDR_URL is set');
  const connectors = new Set<ConnectorName>(['denylist', 'nftables', 'alert_router']);
  if (env.FIREWALL_URL) connectors.add('firewall');
  if (env.SCIM_URL) connectors.add('scim');
  if (env.EDR_URL) connectors.add('edr');
  const defaultConnectors: Record<ResponseAction, ConnectorName> = {
    block_ip: ip,
    unblock_ip: ip,
    disable_user: env.SOAR_CONNECTOR_USER,
    enable_user: env.SOAR_CONNECTOR_USER,
    isolate_host: env.SOAR_CONNECTOR_HOST,
    release_host: env.SOAR_CONNECTOR_HOST,
    notify: 'alert_router',
  };
  let playbooks: Playbook[];
  try {
    playbooks = loadPlaybooks(env.SOAR_PLAYBOOKS_DIR, { available: connectors, defaults: defaultConnectors });
  } catch (err) {
    if (err instanceof PlaybookError) throw new ConfigError('SOAR_PLAYBOOKS_DIR', err.message);
    throw err;
  }
  return {
    env,
    policy: {
      ip: { neverBlock: nets.value, minPrefixV4: env.SOAR_MIN_PREFIX_V4, minPrefixV6: env.SOAR_MIN_PREFIX_V6 },
      neverDisable: new Set(env.SOAR_NEVER_DISABLE.map((u) => u.toLowerCase())),
      neverIsolate: new Set(env.SOAR_NEVER_ISOLATE.map((h) => h.toLowerCase())),
    },
    tokens: parseApiTokens(readSecret(raw, 'SOAR_API_TOKENS')),
    defaultConnectors,
    secrets,
    connectors,
    playbooks,
  };
}
