import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { InfraError, say } from './proc';

/** Where Debian's chromium package puts the browser; the console's browser test launches it from here. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

function run(cmd: string, args: string[]): { ok: boolean; output: string } {
  const r = spawnSync(cmd, args, {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  const output = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim();
  return { ok: r.status === 0, output: r.error ? r.error.message : output };
}

/**
 * Makes sure headless Chromium is installed for the browser tests: installs Debian's `chromium`
 * through apt-get, as root or with passwordless sudo, when /usr/bin/chromium is missing. Throws an
 * InfraError that says what to do when it cannot.
 */
export function ensureChromium(): void {
  if (existsSync(CHROMIUM_PATH)) return;
  if (!run('sh', ['-c', 'command -v apt-get']).ok) {
    throw new InfraError(`${CHROMIUM_PATH} is missing and apt-get is not available: install Chromium so that ${CHROMIUM_PATH} exists`);
  }
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  let prefix: string[] = [];
  if (!isRoot) {
    if (!run('sudo', ['-n', 'true']).ok) {
      throw new InfraError(`${CHROMIUM_PATH} is missing; install it as root: apt-get update && apt-get install -y chromium`);
    }
    prefix = ['sudo', '-n'];
  }
  const cmd = (args: string[]) => (prefix.length ? run(prefix[0]!, [...prefix.slice(1), ...args]) : run(args[0]!, args.slice(1)));
  say('chromium', 'installing Debian chromium for the browser tests (first run only)');
  const update = cmd(['apt-get', 'update', '-qq']);
  if (!update.ok) throw new InfraError(`apt-get update failed:\n${update.output.slice(-2000)}`);
  const install = cmd(['apt-get', 'install', '-y', '-qq', '--no-install-recommends', 'chromium']);
  if (!install.ok) throw new InfraError(`apt-get install chromium failed:\n${install.output.slice(-2000)}`);
  if (!existsSync(CHROMIUM_PATH)) throw new InfraError(`apt-get installed chromium but ${CHROMIUM_PATH} is still missing`);
  say('chromium', `installed at ${CHROMIUM_PATH}`);
}
