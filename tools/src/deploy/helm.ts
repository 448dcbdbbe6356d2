import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { COMPONENTS, Sandbox, checkComponent, sampleSecret, type Component } from './contract';
import { CheckError, run, say, tail } from './proc';
import type { Toolbox } from './tools';

export const CHART = 'deploy/helm/vigil';
/** The values files deploy-check renders: the defaults and a production-like installation. */
export const VALUE_SETS: ReadonlyArray<{ name: string; files: string[] }> = [
  { name: 'default values', files: [] },
  { name: 'production values', files: [`${CHART}/ci/production-values.yaml`] },
];
/** The oldest Kubernetes the chart supports (Chart.yaml kubeVersion) and the newest with schemas. */
export const KUBE_VERSIONS = ['1.30.0', '1.37.0'] as const;

type Obj = Record<string, unknown>;
const asObj = (v: unknown): Obj => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : {});
const asArr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

function helmEnv(root: string): Record<string, string> {
  const home = join(root, '.cache', 'deploy-check', 'helm');
  return { HELM_CACHE_HOME: join(home, 'cache'), HELM_CONFIG_HOME: join(home, 'config'), HELM_DATA_HOME: join(home, 'data') };
}

/** Drops helm's note about the chart's symbolic links (files/ links to the repository's config). */
function helmNoise(stderr: string): string {
  return stderr
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.includes('found symbolic link in path'))
    .join('\n');
}

export async function helmLint(root: string, tools: Toolbox): Promise<void> {
  for (const set of VALUE_SETS) {
    const args = ['lint', '--strict', '--kube-version', KUBE_VERSIONS[0], CHART, ...set.files.flatMap((f) => ['-f', f])];
    const r = await run(tools.helm, args, { cwd: root, env: helmEnv(root) });
    if (r.code !== 0) throw new CheckError(`helm lint (${set.name}) failed:\n${tail(r.stdout + helmNoise(r.stderr), 40)}`);
    say(`  helm lint --strict, ${set.name}: ${r.stdout.match(/\d+ chart\(s\) linted, \d+ chart\(s\) failed/)?.[0] ?? 'ok'}`);
  }
}

export interface Rendered {
  set: string;
  kubeVersion: string;
  file: string;
  docs: Obj[];
}

export async function helmTemplate(root: string, tools: Toolbox): Promise<Rendered[]> {
  const outDir = join(root, '.cache', 'deploy-check', 'rendered');
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const out: Rendered[] = [];
  for (const set of VALUE_SETS) {
    for (const kubeVersion of KUBE_VERSIONS) {
      const args = [
        'template',
        'vigil',
        CHART,
        '--namespace',
        'vigil',
        '--kube-version',
        kubeVersion,
        ...set.files.flatMap((f) => ['-f', f]),
      ];
      const r = await run(tools.helm, args, { cwd: root, env: helmEnv(root) });
      if (r.code !== 0)
        throw new CheckError(`helm template (${set.name}, Kubernetes ${kubeVersion}) failed:\n${tail(helmNoise(r.stderr), 40)}`);
      const file = join(outDir, `${set.name.replace(/\W+/g, '-')}-k8s-${kubeVersion}.yaml`);
      writeFileSync(file, r.stdout);
      const docs = parseAllDocuments(r.stdout)
        .map((d) => {
          if (d.errors.length > 0) throw new CheckError(`helm template (${set.name}) produced invalid YAML: ${d.errors[0]!.message}`);
          return asObj(d.toJS());
        })
        .filter((d) => Object.keys(d).length > 0);
      out.push({ set: set.name, kubeVersion, file, docs });
    }
  }
  return out;
}

export async function kubeconform(tools: Toolbox, schemaDir: string, kubeVersion: string, files: string[]): Promise<string> {
  const args = [
    '-strict',
    '-summary',
    '-kubernetes-version',
    kubeVersion,
    '-schema-location',
    join(schemaDir, '{{ .ResourceKind }}{{ .KindSuffix }}.json'),
    ...files,
  ];
  const r = await run(tools.kubeconform, args);
  if (r.code !== 0) throw new CheckError(`kubeconform (Kubernetes ${kubeVersion}) rejected the chart:\n${tail(r.stdout + r.stderr, 40)}`);
  return r.stdout.trim().split('\n').pop() ?? '';
}

/**
 * Proves the schemas are live: kubeconform passes a resource it has no usable schema for only
 * when told to ignore missing ones (never here), and a typo'd field must be refused by name.
 */
export async function negativeControl(root: string, tools: Toolbox, schemaDir: string, kubeVersion: string): Promise<void> {
  const dir = join(root, '.cache', 'deploy-check', 'negative');
  mkdirSync(dir, { recursive: true });
  const cases: Array<[string, string, string]> = [
    [
      'deployment',
      'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec:\n  selector: {matchLabels: {a: b}}\n  template:\n    metadata: {labels: {a: b}}\n    spec:\n      containers:\n        - {name: c, image: i, readinessProbe: {httpGet: {path: /readyz, port: http}, periodSecond: 10}}\n',
      'periodSecond',
    ],
    [
      'servicemonitor',
      'apiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata: {name: x}\nspec:\n  selector: {matchLabels: {a: b}}\n  endpoints:\n    - {port: http, intervall: 30s}\n',
      'intervall',
    ],
    [
      'hpa',
      'apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: x}\nspec:\n  maxReplicas: "six"\n  scaleTargetRef: {kind: Deployment, name: x}\n',
      'maxReplicas',
    ],
  ];
  const files = cases.map(([name, manifest]) => {
    const file = join(dir, `${name}.yaml`);
    writeFileSync(file, manifest);
    return file;
  });
  // One run for all three: kubeconform compiles each kind's schema once per run.
  const r = await run(tools.kubeconform, [
    '-strict',
    '-output',
    'json',
    '-schema-location',
    join(schemaDir, '{{ .ResourceKind }}{{ .KindSuffix }}.json'),
    '-kubernetes-version',
    kubeVersion,
    ...files,
  ]);
  const results = (JSON.parse(r.stdout) as { resources?: Array<{ filename: string; status: string; msg: string }> }).resources ?? [];
  cases.forEach(([name, , field], i) => {
    const res = results.find((x) => x.filename === files[i]);
    if (!res || res.status !== 'statusInvalid' || !res.msg.includes(field)) {
      throw new CheckError(
        `negative control: kubeconform should refuse ${name} for "${field}" with a schema error, got ${res ? `${res.status}: ${res.msg}` : 'no result'}`,
      );
    }
  });
}

/** Every Deployment and Job the chart renders, checked against the code it runs (contract.ts). */
export async function helmContract(root: string, rendered: Rendered): Promise<string[]> {
  const byKind = (kind: string) => rendered.docs.filter((d) => d['kind'] === kind);
  const configMaps = new Map(byKind('ConfigMap').map((c) => [String(asObj(c['metadata'])['name']), asObj(c['data'])]));
  const lines: string[] = [];
  const workloads = [...byKind('Deployment'), ...byKind('Job')];
  const seen = new Set<string>();
  for (const w of workloads) {
    const name = String(asObj(w['metadata'])['name']);
    const pod = asObj(asObj(asObj(w['spec'])['template'])['spec']);
    const volumes = new Map(asArr(pod['volumes']).map((v) => [String(asObj(v)['name']), asObj(v)]));
    for (const c of asArr(pod['containers']).map(asObj)) {
      const component = String(asArr(c['args'])[0] ?? '') as Component;
      if (!COMPONENTS.includes(component)) throw new CheckError(`${rendered.set}: ${name} runs "${component}", not a Vigil component`);
      seen.add(component);
      const sandbox = new Sandbox(join(root, '.cache', 'deploy-check', 'sandbox', rendered.set.replace(/\W+/g, '-'), name));
      for (const m of asArr(c['volumeMounts']).map(asObj)) {
        const v = volumes.get(String(m['name']));
        if (!v) throw new CheckError(`${rendered.set}: ${name} mounts volume ${String(m['name'])}, which the pod does not define`);
        const at = String(m['mountPath']);
        if (v['configMap']) {
          const cmName = String(asObj(v['configMap'])['name']);
          const data = configMaps.get(cmName);
          if (!data) throw new CheckError(`${rendered.set}: ${name} mounts ConfigMap ${cmName}, which the chart does not render`);
          for (const [key, content] of Object.entries(data)) sandbox.write(`${at}/${key}`, String(content));
        }
        const secretSources = [asObj(v['secret']), ...asArr(asObj(v['projected'])['sources']).map((s) => asObj(asObj(s)['secret']))];
        for (const s of secretSources)
          for (const item of asArr(s['items']).map(asObj)) {
            const path = String(item['path']);
            sandbox.write(
              `${at}/${path}`,
              /\.(crt|key|pem)$/.test(path) ? '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n' : sampleSecret(path),
            );
          }
      }
      const env: Record<string, string> = {};
      for (const e of asArr(c['env']).map(asObj)) {
        if (typeof e['value'] === 'string') env[String(e['name'])] = e['value'];
        else if (e['valueFrom']) env[String(e['name'])] = sampleSecret(String(e['name']));
      }
      const summary = await checkComponent(component, sandbox.env(env), `${rendered.set}: ${name}`);
      lines.push(`${component}: ${summary}`);
    }
  }
  for (const c of COMPONENTS) if (!seen.has(c)) throw new CheckError(`${rendered.set}: the chart renders no workload running ${c}`);
  return lines;
}
