import { hostname } from 'node:os';
import { z } from 'zod';
import { CHAIN_KEY_ID_RE, parseChainKeys } from '@vigil/contracts';
import { ConfigError, envInt, readSecret } from '@vigil/runtime';
import { DOCUMENT_FORMATS, type DocumentFormat } from '@vigil/schema-mapping';

/** Archive sink variables (docs/tamper-evidence.md). ARCHIVE_KEYS (or _FILE) is a secret. */
export const archiveEnvShape = {
  ARCHIVE_DIR: z.string().min(1).optional(),
  /** Names this writer's chains; two processes never share one (a lock file guards it). */
  ARCHIVE_INSTANCE: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be 1-64 of A-Z a-z 0-9 . _ -')
    .optional(),
  /** The key id new records are signed with (one of ARCHIVE_KEYS). */
  ARCHIVE_KEY_ID: z.string().regex(CHAIN_KEY_ID_RE, 'must be 1-64 of A-Z a-z 0-9 . _ -').optional(),
  ARCHIVE_DOCUMENT_FORMAT: z.enum(DOCUMENT_FORMATS, { message: `must be one of ${DOCUMENT_FORMATS.join(', ')}` }).default('vigil'),
  ARCHIVE_BATCH_MAX_BYTES: envInt(4 * 1024 * 1024, 16 * 1024, 256 * 1024 * 1024),
};
export const ArchiveEnvSchema = z.object(archiveEnvShape);
export type ArchiveEnv = z.infer<typeof ArchiveEnvSchema>;

export interface ArchiveSettings {
  dir: string;
  instance: string;
  keys: Map<string, Buffer>;
  keyId: string;
  format: DocumentFormat;
  maxBytes: number;
}

export function archiveSettings(env: ArchiveEnv, raw: Record<string, string | undefined>): ArchiveSettings {
  if (!env.ARCHIVE_DIR) throw new ConfigError('ARCHIVE_DIR', 'is required for the archive sink');
  const text = readSecret(raw, 'ARCHIVE_KEYS');
  if (!text) throw new ConfigError('ARCHIVE_KEYS', 'is required for the archive sink (key_id=base64secret, comma-separated)');
  let keys: Map<string, Buffer>;
  try {
    keys = parseChainKeys(text);
  } catch (err) {
    throw new ConfigError('ARCHIVE_KEYS', (err as Error).message);
  }
  if (keys.size === 0) throw new ConfigError('ARCHIVE_KEYS', 'holds no key');
  const keyId = env.ARCHIVE_KEY_ID ?? (keys.size === 1 ? [...keys.keys()][0]! : undefined);
  if (!keyId) throw new ConfigError('ARCHIVE_KEY_ID', 'is required when ARCHIVE_KEYS holds several keys');
  if (!keys.has(keyId)) throw new ConfigError('ARCHIVE_KEY_ID', `"${keyId}" is not one of the ARCHIVE_KEYS ids`);
  const instance =
    env.ARCHIVE_INSTANCE ??
    hostname()
      .replace(/[^A-Za-z0-9._-]/g, '-')
      .slice(0, 64);
  return { dir: env.ARCHIVE_DIR, instance, keys, keyId, format: env.ARCHIVE_DOCUMENT_FORMAT, maxBytes: env.ARCHIVE_BATCH_MAX_BYTES };
}
