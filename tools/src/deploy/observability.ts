import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RedisMetrics } from '@vigil/redis';
import { Metrics } from '@vigil/runtime';
import { RouterMetrics } from '@vigil/alert-router/dist/metrics';
import { HttpIngestMetrics, IngestMetrics } from '@vigil/ingest/dist/metrics';
import { CorrelationMetrics } from '@vigil/correlation/dist/metrics';
import { ForwarderMetrics } from '@vigil/siem-forwarder/dist/delivery/metrics';
import { SoarMetrics } from '@vigil/soar/dist/metrics';
import { CheckError } from './proc';

export const DASHBOARD = 'deploy/grafana/vigil-dashboard.json';
export const OBSERVABILITY_DOC = 'docs/observability.md';

export interface Family {
  name: string;
  type: string;
  labels: string[];
  help: string;
}

/**
 * Every metric family the services register, read from the code itself: the shared families and
 * prom-client's process metrics (Metrics), the Redis families (RedisMetrics) and each service's
 * metrics classes.
 */
export async function metricFamilies(): Promise<Map<string, Family>> {
  const m = new Metrics('deploy-check');
  RedisMetrics.for(m);
  new IngestMetrics(m);
  new HttpIngestMetrics(m);
  new RouterMetrics(m);
  new CorrelationMetrics(m);
  new ForwarderMetrics(m);
  new SoarMetrics(m);
  const out = new Map<string, Family>();
  for (const json of await m.registry.getMetricsAsJSON()) {
    const metric = m.registry.getSingleMetric(json.name) as unknown as { labelNames?: string[] } | undefined;
    const labels = (metric?.labelNames ?? []).filter((l) => l !== 'service');
    out.set(json.name, { name: json.name, type: String(json.type), labels, help: json.help });
  }
  return out;
}

/** The dashboard queries only metrics that exist, and the doc names every family the services expose. */
export function checkObservability(root: string, families: Map<string, Family>): { queries: number; used: number } {
  const problems: string[] = [];
  const dash = JSON.parse(readFileSync(join(root, DASHBOARD), 'utf8')) as {
    panels: Array<{ title?: string; targets?: Array<{ expr?: string }> }>;
  };
  const used = new Set<string>();
  let queries = 0;
  for (const p of dash.panels) {
    for (const t of p.targets ?? []) {
      queries += 1;
      for (const id of (t.expr ?? '').match(/\bvigil_[a-z0-9_]+/g) ?? []) {
        const base = id.replace(/_(bucket|sum|count)$/, '');
        const f = families.get(id) ?? families.get(base);
        if (!f) problems.push(`${DASHBOARD}: panel "${p.title}" queries ${id}, which no service exposes`);
        else if (f.name !== id && f.type !== 'histogram')
          problems.push(`${DASHBOARD}: panel "${p.title}" queries ${id}, but ${f.name} is a ${f.type}`);
        else used.add(f.name);
      }
    }
  }
  const doc = readFileSync(join(root, OBSERVABILITY_DOC), 'utf8');
  for (const f of families.values()) {
    if (f.name.startsWith('vigil_process_')) continue; // prom-client's defaults, documented as a group
    if (!doc.includes(`\`${f.name}\``)) problems.push(`${OBSERVABILITY_DOC} does not document ${f.name} (${f.type})`);
  }
  if (problems.length > 0) throw new CheckError(problems.join('\n'));
  return { queries, used: used.size };
}
