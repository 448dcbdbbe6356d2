import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { InfraError, say, which } from './proc';

/** A Debian package the tests or the infra need, and the file that proves it is installed. */
export interface DebianNeed {
  pkg: string;
  /** An absolute path, or a command name looked up on PATH. */
  provides: string;
  why: string;
}

export const CHROMIUM: DebianNeed = { pkg: 'chromium', provides: '/usr/bin/chromium', why: 'the analyst console browser test' };
export const NFTABLES: DebianNeed = { pkg: 'nftables', provides: 'nft', why: 'the nftables connector test in a private network namespace' };
export const REDIS: DebianNeed = { pkg: 'redis-server', provides: 'redis-server', why: 'Redis for the services and tests' };

function present(need: DebianNeed): boolean {
  return need.provides.startsWith('/') ? existsSync(need.provides) : which(need.provides) !== null;
}

/**
 * Installs missing Debian packages with apt-get, as root or through passwordless sudo, with one
 * progress line each; throws an InfraError that says what to run when it cannot.
 */
export function ensureDebianPackages(needs: readonly DebianNeed[]): void {
  const missing = needs.filter((n) => !present(n));
  if (missing.length === 0) return;
  const names = missing.map((n) => n.pkg).join(' ');
  if (!which('apt-get'))
    throw new InfraError(`missing ${names} and apt-get is not available; install them (${missing.map((n) => n.why).join('; ')})`);
  const asRoot = process.getuid?.() === 0;
  const prefix = asRoot ? [] : ['sudo', '-n'];
  if (!asRoot && spawnSync('sudo', ['-n', 'true']).status !== 0) {
    throw new InfraError(`missing ${names} and this user cannot install packages; run: sudo apt-get install -y ${names}`);
  }
  const apt = (args: string[]) => {
    const [cmd, ...rest] = [...prefix, 'apt-get', ...args];
    return spawnSync(cmd!, rest, {
      encoding: 'utf8',
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  };
  for (const n of missing) say('packages', `installing ${n.pkg} from Debian packages for ${n.why} (first run only)`);
  let r = apt(['install', '-y', '-qq', '--no-install-recommends', ...missing.map((n) => n.pkg)]);
  if (r.status !== 0) {
    apt(['update', '-qq']);
    r = apt(['install', '-y', '-qq', '--no-install-recommends', ...missing.map((n) => n.pkg)]);
  }
  const still = missing.filter((n) => !present(n));
  if (r.status !== 0 || still.length > 0) {
    throw new InfraError(`apt-get could not install ${still.map((n) => n.pkg).join(' ') || names}:\n${(r.stderr ?? '').slice(-1500)}`);
  }
}
