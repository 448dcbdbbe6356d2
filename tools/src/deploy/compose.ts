import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnv } from '@vigil/runtime';
import { StandinsEnvSchema, standinsServiceEnv, standinsUrls } from '../standins';
import { COMPONENTS, Sandbox, checkComponent, type Component } from './contract';
import { CheckError, run, tail } from './proc';
import type { Toolbox } from './tools';

export const COMPOSE_FILE = 'docker-compose.yml';

type Obj = Record<string, unknown>;
const asObj = (v: unknown): Obj => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : {});
const asArr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** `docker compose config`, through compose-go: parses, interpolates, validates against the spec. */
export async function composeConfig(root: string, tools: Toolbox, profiles: string[]): Promise<Obj> {
  const args = ['-f', COMPOSE_FILE, '-format', 'json', '-dotenv=false', ...profiles.flatMap((p) => ['-profile', p])];
  // Only the file's own defaults: a developer's .env or exported variables must not change the check.
  const env: Record<string, string | undefined> = { PATH: process.env.PATH, HOME: process.env.HOME };
  const r = await run(tools.composecheck, args, { cwd: root, env, cleanEnv: true });
  if (r.code !== 0) throw new CheckError(`compose config (${profiles.join(',') || 'no profile'}) failed:\n${tail(r.stderr, 30)}`);
  return JSON.parse(r.stdout) as Obj;
}

/** The image's own environment (ENV lines of the Dockerfile's last stage), e.g. SOAR_PLAYBOOKS_DIR. */
export function imageEnv(root: string): Record<string, string> {
  const text = readFileSync(join(root, 'Dockerfile'), 'utf8').replace(/\\\n/g, ' ');
  const stages = text.split(/^FROM\s/m);
  const last = stages[stages.length - 1] ?? '';
  const env: Record<string, string> = {};
  for (const line of last.split('\n')) {
    const m = /^ENV\s+(.*)$/.exec(line.trim());
    if (!m) continue;
    for (const kv of m[1]!.trim().split(/\s+/)) {
      const eq = kv.indexOf('=');
      if (eq > 0) env[kv.slice(0, eq)] = kv.slice(eq + 1);
    }
  }
  return env;
}

function envOf(svc: Obj): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(asObj(svc['environment']))) if (v !== null && v !== undefined) out[k] = String(v);
  return out;
}

/**
 * What `docker compose up` relies on beyond parsing: start order by health, the topics job first,
 * no broker-side auto-creation, and the stand-ins' credentials equal to what the services are given.
 */
export function composeRules(project: Obj, withStandins: boolean): string[] {
  const services = asObj(project['services']);
  const problems: string[] = [];
  const kafka = asObj(services['kafka']);
  if (!String(kafka['image'] ?? '').startsWith('apache/kafka:')) problems.push('kafka must use the official apache/kafka image');
  if (envOf(kafka)['KAFKA_AUTO_CREATE_TOPICS_ENABLE'] !== 'false')
    problems.push('kafka must run with KAFKA_AUTO_CREATE_TOPICS_ENABLE=false');
  for (const [name, raw] of Object.entries(services)) {
    const svc = asObj(raw);
    const component = String(asArr(svc['command'])[0] ?? '');
    if (!COMPONENTS.includes(component as Component)) continue;
    const deps = asObj(svc['depends_on']);
    const cond = (d: string) => String(asObj(deps[d])['condition'] ?? '');
    if (component === 'topics') {
      if (cond('kafka') !== 'service_healthy') problems.push(`${name}: must wait for kafka to be healthy`);
      continue;
    }
    if (!asObj(svc['healthcheck'])['test']) problems.push(`${name}: has no healthcheck`);
    if (cond('topics') !== 'service_completed_successfully') problems.push(`${name}: must start after the topics job succeeded`);
    const env = envOf(svc);
    if (env['REDIS_URL'] && cond('redis') !== 'service_healthy')
      problems.push(`${name}: uses Redis but does not wait for it to be healthy`);
    if (env['KAFKA_CREATE_TOPICS'] !== 'false') problems.push(`${name}: should leave topic creation to the topics job`);
  }
  if (withStandins) {
    const standins = asObj(services['standins']);
    if (!standins['image']) problems.push('the standins profile has no standins service');
    const sEnv = parseEnv(StandinsEnvSchema, envOf(standins));
    const expected = standinsServiceEnv(sEnv, standinsUrls(sEnv, sEnv.STANDINS_ADVERTISE_HOST ?? 'standins'));
    for (const [name, raw] of Object.entries(services)) {
      const env = envOf(asObj(raw));
      for (const [k, v] of Object.entries(expected)) {
        if (env[k] !== undefined && env[k] !== v) problems.push(`${name}: ${k} is "${env[k]}" but the stand-ins expect "${v}"`);
      }
    }
  }
  return problems;
}

/** Every Vigil service of the compose project, checked against the code it runs (contract.ts). */
export async function composeContract(root: string, project: Obj, label: string): Promise<string[]> {
  const lines: string[] = [];
  const image = imageEnv(root);
  for (const [name, raw] of Object.entries(asObj(project['services']))) {
    const svc = asObj(raw);
    const component = String(asArr(svc['command'])[0] ?? '') as Component;
    if (!COMPONENTS.includes(component)) continue;
    const sandbox = new Sandbox(join(root, '.cache', 'deploy-check', 'sandbox', `compose-${label}`, name));
    // The image's files: /app is the repository's build output.
    sandbox.bind('/app', root);
    for (const v of asArr(svc['volumes']).map(asObj)) {
      if (v['type'] === 'bind') sandbox.bind(String(v['target']), String(v['source']));
    }
    const summary = await checkComponent(component, sandbox.env({ ...image, ...envOf(svc) }), `compose (${label}): ${name}`);
    lines.push(`${component}: ${summary}`);
  }
  return lines;
}
