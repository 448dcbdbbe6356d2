import { composeConfig, composeContract, composeRules } from './compose';
import { checkObservability, metricFamilies } from './observability';
import { KUBE_VERSIONS, helmContract, helmLint, helmTemplate, kubeconform, negativeControl } from './helm';
import { CheckError, runOk, say, step } from './proc';
import { ensureSchemas } from './schemas';
import { ensureToolbox } from './tools';

const USAGE = `usage: deploy-check
  Checks what ships for deployment, with real tools and no container engine:
  - Dockerfile: hadolint
  - docker-compose.yml: parsed, interpolated and validated by compose-go (the loader of Docker
    Compose v2), with and without the standins profile; start order, health conditions and
    stand-in credentials checked
  - Helm chart deploy/helm/vigil: helm lint --strict and helm template for the default and the
    production-like values, every manifest through kubeconform -strict against Kubernetes
    ${KUBE_VERSIONS.join(' and ')} schemas (ServiceMonitor included, nothing skipped)
  - every rendered Deployment/Job and compose service: its environment and mounted rules, routes and
    playbooks through the service's own config code
  - the Grafana dashboard queries only metrics the services define; docs/observability.md names them all
  Tools are built or fetched once into .cache/go-bin and .cache/deploy-check (docs/deploy.md).`;

/** `node tools/dist/cli.js deploy-check`: exits 0 when everything holds, 1 with the first problem. */
export async function deployCheckMain(root: string, args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (args.length > 0) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const started = Date.now();
  const timings: Array<[string, number]> = [];
  try {
    const tools = await step('tools (helm, kubeconform, controller-gen, compose checker, hadolint)', () => ensureToolbox(root), timings);
    const schemaDirs = await step(
      `Kubernetes JSON schemas (${KUBE_VERSIONS.join(', ')}) and the ServiceMonitor schema`,
      async () => {
        const dirs: string[] = [];
        for (const v of KUBE_VERSIONS) dirs.push(await ensureSchemas(root, tools, v));
        return dirs;
      },
      timings,
    );

    await step(
      'hadolint Dockerfile',
      async () => void (await runOk('hadolint Dockerfile', tools.hadolint, ['Dockerfile'], { cwd: root })),
      timings,
    );

    await step(
      'docker-compose.yml (compose-go)',
      async () => {
        for (const profiles of [[], ['standins']]) {
          const label = profiles.join(',') || 'default';
          const project = await composeConfig(root, tools, profiles);
          const problems = composeRules(project, profiles.includes('standins'));
          if (problems.length > 0) throw new CheckError(`docker-compose.yml (${label}):\n  ${problems.join('\n  ')}`);
          const lines = await composeContract(root, project, label);
          say(`  compose ${label}: ${Object.keys(project['services'] as object).length} services; ${lines.join('; ')}`);
        }
      },
      timings,
    );

    await step('helm lint', () => helmLint(root, tools), timings);

    const rendered = await step('helm template', () => helmTemplate(root, tools), timings);

    await step(
      'kubeconform -strict',
      async () => {
        for (const [i, v] of KUBE_VERSIONS.entries()) await negativeControl(root, tools, schemaDirs[i]!, v);
        say("  negative control: typo'd Deployment, ServiceMonitor and HPA fields are refused by name");
        for (const [i, v] of KUBE_VERSIONS.entries()) {
          const files = rendered.filter((r) => r.kubeVersion === v);
          const summary = await kubeconform(
            tools,
            schemaDirs[i]!,
            v,
            files.map((r) => r.file),
          );
          say(`  Kubernetes ${v} (${files.map((r) => r.set).join(' + ')}): ${summary}`);
        }
      },
      timings,
    );

    await step(
      "rendered workloads against the services' config code",
      async () => {
        for (const r of rendered.filter((x) => x.kubeVersion === KUBE_VERSIONS[0])) {
          say(`  ${r.set}: ${(await helmContract(root, r)).join('; ')}`);
        }
      },
      timings,
    );

    await step(
      'metric names: dashboard and docs against the code',
      async () => {
        const families = await metricFamilies();
        const r = checkObservability(root, families);
        say(`  ${families.size} metric families in the code; dashboard: ${r.queries} queries over ${r.used} families, all defined`);
      },
      timings,
    );
  } catch (err) {
    if (err instanceof CheckError) {
      process.stderr.write(`[deploy-check] FAILED: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
  const total = (Date.now() - started) / 1000;
  say(
    `all checks passed in ${total.toFixed(1)} s (${timings.map(([n, ms]) => `${n.split(' (')[0]} ${(ms / 1000).toFixed(1)} s`).join(', ')})`,
  );
  return 0;
}
