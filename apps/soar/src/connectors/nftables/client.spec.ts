import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConnectorError, type ActionRequest } from '../types';
import { NftablesConnector } from './client';
import type { NftConfig } from './config';

const base: Omit<ActionRequest, 'action' | 'target'> = { alertId: 'a-1', runId: 'r-1', playbookId: 'p', reason: 'x' };
const config = (binary = 'nft'): NftConfig => ({
  binary,
  family: 'inet',
  table: 'vigil',
  setV4: 'blocked4',
  setV6: 'blocked6',
  timeoutMs: 3_000,
});

/** A fake `nft` first on PATH: records each argv (one argument per line) and answers like nft would. */
function fakeNft(script = ''): { dir: string; log: string } {
  const dir = mkdtempSync(join(tmpdir(), 'fake-nft-'));
  const log = join(dir, 'argv.log');
  writeFileSync(
    join(dir, 'nft'),
    `#!/bin/sh\nfor a in "$@"; do printf '%s\\n' "$a" >> "${log}"; done\nprintf -- '--\\n' >> "${log}"\n${script}\nexit 0\n`,
  );
  chmodSync(join(dir, 'nft'), 0o755);
  return { dir, log };
}

function calls(log: string): string[][] {
  if (!existsSync(log)) return [];
  return readFileSync(log, 'utf8')
    .split('--\n')
    .filter(Boolean)
    .map((c) => c.trimEnd().split('\n'));
}

describe('NftablesConnector with a fake nft on PATH', () => {
  const savedPath = process.env.PATH;
  afterEach(() => {
    process.env.PATH = savedPath;
  });

  it('runs nft with an argument array: one set element per call, timeout from the duration, IPv6 to its own set', async () => {
    const { dir, log } = fakeNft();
    process.env.PATH = `${dir}:${savedPath}`;
    const c = new NftablesConnector(config());
    await c.execute({ ...base, action: 'block_ip', target: '203.0.113.7', durationMs: 3_600_000 });
    await c.execute({ ...base, action: 'block_ip', target: '2001:db8::/64' });
    await c.execute({ ...base, action: 'unblock_ip', target: '203.0.113.7' });
    expect(calls(log)).toEqual([
      ['add', 'element', 'inet', 'vigil', 'blocked4', '{ 203.0.113.7 timeout 3600s }'],
      ['add', 'element', 'inet', 'vigil', 'blocked6', '{ 2001:db8::/64 }'],
      ['delete', 'element', 'inet', 'vigil', 'blocked4', '{ 203.0.113.7 }'],
    ]);
  });

  it('passes shell metacharacters through as one literal argument (no shell ever runs)', async () => {
    // The target is validated long before this point; this proves the connector adds no shell of its own.
    const { dir, log } = fakeNft();
    process.env.PATH = `${dir}:${savedPath}`;
    const marker = join(dir, 'pwned');
    await new NftablesConnector(config()).execute({ ...base, action: 'unblock_ip', target: `1.2.3.4; touch ${marker}` });
    expect(existsSync(marker)).toBe(false);
    expect(calls(log)[0]![5]).toBe(`{ 1.2.3.4; touch ${marker} }`);
  });

  it.each<[string, string, string, boolean | null]>([
    ['an absent element on unblock is success', `echo 'Error: element does not exist' >&2; exit 1`, 'unblock_ip', null],
    ['a missing set is a permanent failure', `echo 'Error: No such file or directory' >&2; exit 1`, 'block_ip', false],
    ['a busy kernel is retriable', `echo 'Error: Could not process rule: Device or resource busy' >&2; exit 1`, 'block_ip', true],
  ])('%s', async (_name, script, action, retriable) => {
    const { dir } = fakeNft(script);
    process.env.PATH = `${dir}:${savedPath}`;
    const r = await new NftablesConnector(config())
      .execute({ ...base, action: action as 'block_ip', target: '203.0.113.7' })
      .then(() => null)
      .catch((e: unknown) => e as ConnectorError);
    expect(r === null ? null : r.retriable).toBe(retriable);
  });

  it('reports a missing binary as a permanent failure', async () => {
    const err = (await new NftablesConnector(config('/nonexistent/nft'))
      .execute({ ...base, action: 'block_ip', target: '203.0.113.7' })
      .catch((e: unknown) => e)) as ConnectorError;
    expect(err.message).toContain('ENOENT');
    expect(err.retriable).toBe(false);
  });
});

const canUseRealNft =
  spawnSync('sh', ['-c', 'command -v nft && command -v unshare && command -v nsenter'], { encoding: 'utf8' }).status === 0 &&
  spawnSync('unshare', ['-rn', 'nft', 'list', 'ruleset']).status === 0;

// Real nft needs CAP_NET_ADMIN: it runs in a private user+network namespace, so the host's firewall is untouched.
(canUseRealNft ? describe : describe.skip)('NftablesConnector with the real nft in a private network namespace', () => {
  let ns: ChildProcess;
  let wrapper: string;
  beforeAll(async () => {
    ns = spawn('unshare', ['-rn', 'sleep', '300'], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 300));
    const dir = mkdtempSync(join(tmpdir(), 'real-nft-'));
    wrapper = join(dir, 'nft-in-ns');
    writeFileSync(wrapper, `#!/bin/sh\nexec nsenter -t ${ns.pid} -U -n --preserve-credentials nft "$@"\n`);
    chmodSync(wrapper, 0o755);
    const setup = [
      ['add', 'table', 'inet', 'vigil'],
      ['add', 'set', 'inet', 'vigil', 'blocked4', '{ type ipv4_addr; flags interval, timeout; }'],
      ['add', 'set', 'inet', 'vigil', 'blocked6', '{ type ipv6_addr; flags interval, timeout; }'],
    ];
    for (const args of setup) expect(spawnSync(wrapper, args, { encoding: 'utf8' }).stderr).toBe('');
  });
  afterAll(() => {
    ns.kill();
  });

  const listSet = (set: string) => spawnSync(wrapper, ['list', 'set', 'inet', 'vigil', set], { encoding: 'utf8' }).stdout;

  it('adds and deletes elements in the kernel set, and finds a deleted one already gone', async () => {
    const c = new NftablesConnector(config(wrapper));
    await c.execute({ ...base, action: 'block_ip', target: '203.0.113.7', durationMs: 600_000 });
    await c.execute({ ...base, action: 'block_ip', target: '198.51.100.0/24' });
    await c.execute({ ...base, action: 'block_ip', target: '2001:db8:1::/48' });
    expect(listSet('blocked4')).toMatch(/203\.0\.113\.7 timeout 10m/);
    expect(listSet('blocked4')).toContain('198.51.100.0/24');
    expect(listSet('blocked6')).toContain('2001:db8:1::/48');
    await c.execute({ ...base, action: 'unblock_ip', target: '203.0.113.7' });
    expect(listSet('blocked4')).not.toContain('203.0.113.7');
    const again = await c.execute({ ...base, action: 'unblock_ip', target: '203.0.113.7' });
    expect(again.summary).toContain('was not in the set');
  });

  it('gets a syntax error, not a second command, from a target with nft syntax in it', async () => {
    const err = (await new NftablesConnector(config(wrapper))
      .execute({ ...base, action: 'block_ip', target: '1.2.3.4; flush ruleset' })
      .catch((e: unknown) => e)) as ConnectorError;
    expect(err.message).toContain('syntax error');
    expect(listSet('blocked4')).toContain('198.51.100.0/24');
  });
});
