import { randomBytes } from 'node:crypto';
import { accessSync, constants, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { kafkaEnvShape, kafkaSettings } from '@vigil/kafka';
import { RedisEnvSchema } from '@vigil/redis';
import { ConfigError, parseEnv, readSecret } from '@vigil/runtime';
import { IngestEnvSchema, ingestConfig } from '@vigil/ingest/dist/config';
import { CorrelationEnvSchema } from '@vigil/correlation/dist/config';
import { loadRules } from '@vigil/correlation/dist/rules/loader';
import { ForwarderEnvSchema, forwarderConfig } from '@vigil/siem-forwarder/dist/config';
import { RouterEnvSchema, routerConfig } from '@vigil/alert-router/dist/config';
import { loadRoutesFile } from '@vigil/alert-router/dist/routing/config-file';
import { SoarEnvSchema, soarConfig } from '@vigil/soar/dist/config';
import { CheckError } from './proc';

/**
 * The configuration contract between a deployment (a rendered Helm Deployment or Job, a compose
 * service) and the code it runs: the container's environment, with its mounted files laid out in a
 * sandbox, goes through the service's own zod schema and config builder, and the rules, routes and
 * playbooks it mounts through the service's own loaders. A variable the service does not accept, a
 * value out of range, a missing required secret or a rule file that would stop start-up fails here
 * instead of in a crash-looping pod.
 */
export type Component = 'ingest' | 'correlation' | 'siem-forwarder' | 'alert-router' | 'soar' | 'topics';
export const COMPONENTS: readonly Component[] = ['ingest', 'correlation', 'siem-forwarder', 'alert-router', 'soar', 'topics'];

/** Stand-in values for secrets, shaped like the real ones so format checks run. */
export function sampleSecret(variable: string): string {
  const hex = randomBytes(32).toString('hex');
  switch (variable) {
    case 'INGEST_HMAC_KEYS':
      return `ci-key=${randomBytes(32).toString('base64')}`;
    case 'ROUTER_API_TOKENS':
      return `ci:${hex}`;
    case 'SOAR_API_TOKENS':
      return `ci:admin:${hex}`;
    case 'PAGERDUTY_ROUTING_KEY':
      return hex.slice(0, 32);
    case 'SLACK_WEBHOOK_URL':
      return 'https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX';
    case 'ROUTER_WEBHOOK_URL':
      return 'https://receiver.example.com/vigil';
    case 'ES_API_KEY':
      return Buffer.from('ci:api-key').toString('base64');
    default:
      return `ci-secret-${hex}`;
  }
}

const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

/** A container's file system as far as its configuration reads it, laid out under a sandbox folder. */
export class Sandbox {
  private readonly mounts: Array<{ at: string; to: string }> = [];
  constructor(readonly root: string) {
    mkdirSync(root, { recursive: true });
  }

  /** Where container path `p` lives in the sandbox. */
  path(p: string): string {
    const m = this.mounts.filter((x) => p === x.at || p.startsWith(`${x.at}/`)).sort((a, b) => b.at.length - a.at.length)[0];
    return m ? m.to + p.slice(m.at.length) : join(this.root, 'fs', p);
  }

  /** Maps a container folder (or file) to an existing host path, like a bind mount. */
  bind(containerPath: string, hostPath: string): void {
    this.mounts.push({ at: containerPath.replace(/\/$/, ''), to: hostPath });
  }

  /** Writes a file at a container path. */
  write(containerPath: string, content: string): void {
    const p = this.path(containerPath);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, content);
  }

  /**
   * The environment as the service would see it: absolute paths that exist in the container point
   * into the sandbox. A *_FILE or *_CA_FILE-like path with nothing mounted there gets a placeholder
   * (the value was a Secret: its content is not ours to know).
   */
  env(env: Record<string, string>): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(env)) {
      if (!v.startsWith('/')) {
        out[k] = v;
        continue;
      }
      const p = this.path(v);
      if (!existsSync(p) && /_FILE$/.test(k)) {
        mkdirSync(dirname(p), { recursive: true });
        writeFileSync(p, /(CA|CERT|KEY)_FILE$/.test(k) ? PEM : sampleSecret(k.replace(/_FILE$/, '')));
      }
      out[k] = p;
    }
    return out;
  }
}

function fail(where: string, err: unknown): never {
  const msg = err instanceof Error ? err.message : String(err);
  throw new CheckError(`${where}: the service would refuse this configuration: ${msg}`);
}

function checkKafka(env: Record<string, string>): void {
  kafkaSettings(parseEnv(z.object(kafkaEnvShape), env), 'deploy-check', env);
}

function checkRedis(env: Record<string, string>): void {
  const r = parseEnv(RedisEnvSchema, env);
  readSecret(env, 'REDIS_PASSWORD');
  if (r.REDIS_TLS_CA_FILE) accessSync(r.REDIS_TLS_CA_FILE, constants.R_OK);
  if (r.REDIS_TLS_CA_FILE && !r.REDIS_URL.startsWith('rediss://'))
    throw new ConfigError('REDIS_TLS_CA_FILE', 'set without a rediss:// REDIS_URL');
}

/**
 * Validates one container's environment (paths already mapped into a sandbox) with the code of
 * `component`. Returns a one-line summary of what was loaded.
 */
export async function checkComponent(component: Component, env: Record<string, string>, where: string): Promise<string> {
  try {
    switch (component) {
      case 'topics':
        checkKafka(env);
        return 'kafka settings';
      case 'ingest': {
        checkKafka(env);
        const c = ingestConfig(parseEnv(IngestEnvSchema, env), env);
        return `integrity ${c.integrity}, ${c.keys.size} HMAC key(s)`;
      }
      case 'correlation': {
        checkKafka(env);
        checkRedis(env);
        const e = parseEnv(CorrelationEnvSchema, env);
        const rules = await loadRules(e.CORRELATION_RULES_DIR);
        if (!rules.ok)
          throw new Error(
            `rules in ${e.CORRELATION_RULES_DIR}: ${rules.errors.map((x) => `${x.file} ${x.rule} ${x.field}: ${x.message}`).join('; ')}`,
          );
        return `${rules.ruleSet.rules.length} rules`;
      }
      case 'siem-forwarder': {
        checkKafka(env);
        const c = forwarderConfig(parseEnv(ForwarderEnvSchema, env), env);
        return `sinks ${c.sinks.join(', ')}`;
      }
      case 'alert-router': {
        checkKafka(env);
        checkRedis(env);
        const e = parseEnv(RouterEnvSchema, env);
        const c = routerConfig(e, env);
        const routing = loadRoutesFile(e.ROUTER_ROUTES_FILE, c.readSecret);
        return `routes ${routing.version} with ${routing.receivers.size} receivers, ${c.apiTokens.length} API token(s)`;
      }
      case 'soar': {
        checkKafka(env);
        checkRedis(env);
        const c = soarConfig(parseEnv(SoarEnvSchema, env), env);
        return `${c.playbooks.length} playbooks, connectors ${[...c.connectors].sort().join(', ')}`;
      }
    }
  } catch (err) {
    fail(where, err);
  }
}
