import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ConfigError, parseEnv } from '@vigil/runtime';
import { SoarEnvSchema, hashToken, parseApiTokens, soarConfig } from './config';

const dir = mkdtempSync(join(tmpdir(), 'soar-cfg-'));
writeFileSync(join(dir, 'p.yaml'), 'id: p\ntrigger: { rule_id: r }\nsteps:\n  - action: notify\n    message: m\n');
const withPlaybooks = (env: Record<string, string>) => ({ SOAR_PLAYBOOKS_DIR: dir, ...env });

describe('soar config', () => {
  it('reads token hashes with names and roles, never the tokens', () => {
    const tokens = parseApiTokens(`carol:analyst:${hashToken('t1')}, dan:admin:sha256:${hashToken('t2').toUpperCase()}`);
    expect(tokens.map((t) => [t.name, t.role, t.sha256.toString('hex')])).toEqual([
      ['carol', 'analyst', hashToken('t1')],
      ['dan', 'admin', hashToken('t2')],
    ]);
  });

  it.each([
    ['carol:analyst:abc', 'name:role:sha256hex'],
    [`carol:root:${hashToken('x')}`, 'must be analyst or admin'],
    [`a:admin:${hashToken('x')},b:analyst:${hashToken('x')}`, 'appears twice'],
  ])('refuses SOAR_API_TOKENS=%s', (text, message) => {
    expect(() => parseApiTokens(text)).toThrow(message);
  });

  it('always keeps loopback and link-local on the never-block list and adds the configured CIDRs', () => {
    const c = soarConfig(parseEnv(SoarEnvSchema, withPlaybooks({ SOAR_NEVER_BLOCK: '10.0.0.0/8' })), {});
    expect(c.policy.ip.neverBlock.length).toBe(7);
    expect(c.defaultConnectors.block_ip).toBe('denylist');
    expect(c.playbooks.map((p) => p.id)).toEqual(['p']);
  });

  it.each<[Record<string, string>, string]>([
    [{ SOAR_NEVER_BLOCK: '10.0.0.1/8' }, 'SOAR_NEVER_BLOCK'],
    [{ SCIM_URL: 'https://idp.example.com/scim/v2' }, 'SCIM_TOKEN'],
    [{ EDR_ISOLATE_PATH: '/hosts/{id}/isolate' }, 'EDR_ISOLATE_PATH'],
    [{ FIREWALL_URL: 'ftp://fw' }, 'FIREWALL_URL'],
    [{ SOAR_PLAYBOOKS_DIR: resolve(__dirname, '../playbooks') }, 'SOAR_PLAYBOOKS_DIR'],
  ])('stops at boot on %j naming %s', (env, variable) => {
    const err = (() => {
      try {
        soarConfig(parseEnv(SoarEnvSchema, withPlaybooks(env)), env);
      } catch (e) {
        return e as ConfigError;
      }
      return null;
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect(err!.variable).toBe(variable);
  });
});
