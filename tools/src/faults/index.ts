import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { PrivateInfra } from './infra';
import { BASELINE, DEFAULT_SUITE, FAULTS, runFault, type FaultResult, type SuiteOptions } from './suite';

export { runFault, FAULTS, BASELINE, DEFAULT_SUITE, type FaultResult, type SuiteOptions } from './suite';

const USAGE = `usage: faults [--only name,...] [--rate N] [--seconds S] [--siem-down S] [--shared-infra] [--write-docs]
  Runs the fault-injection suite: for each fault, the five built services against stand-ins under a
  steady generated load (its own process), the fault injected mid-load, then every event, alert,
  notification and action accounted for by id. Faults: none (reference), ${FAULTS.map((f) => f.name).join(', ')}.
  Uses its own Kafka (127.0.0.1:19092) and Redis (16399, AOF) from the infra script, never the shared ones;
  --shared-infra runs on KAFKA_BROKERS/REDIS_URL instead and skips the faults that stop them.
  --write-docs  puts the measured tables into docs/faults.md (between the faults:table markers)
  Results: .cache/faults/results-<time>.json`;

function arg(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

const n = (x: number) => x.toLocaleString('en-US');
const pair = (a: number, b: number) => `${n(a)} / ${n(b)}`;

/** The measured tables, as docs/faults.md shows them. */
export function renderTables(results: FaultResult[]): string {
  const uptime = results.map((r) => r.loadAverage.start[0]!.toFixed(1));
  const head1 = [
    '| fault | events produced (+ malformed) | raw topic msgs | validated: distinct / dup / lost | DLQ records | ES docs / dup (409s) | Splunk distinct / dup | Sentinel distinct / dup | drained after load |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  const rows1 = results.map((r) => {
    const a = r.account;
    return `| ${r.name} | ${n(a.produced.events)} (+${a.produced.junk}) | ${a.produced.rawMessages === null ? 'n/a' : n(a.produced.rawMessages)} | ${n(a.validated.distinct)} / ${n(a.validated.duplicates)} / ${n(a.validated.missing)} | ${pair(a.dlq.records, a.dlq.expected)} | ${n(a.elasticsearch.distinct)} / ${n(a.elasticsearch.duplicates)} (${n(a.elasticsearch.conflicts409)}) | ${n(a.splunk.distinct)} / ${n(a.splunk.duplicates)} | ${n(a.sentinel.distinct)} / ${n(a.sentinel.duplicates)} | ${r.complete ? `${r.drainSeconds.toFixed(0)} s` : `INCOMPLETE (${r.drainSeconds.toFixed(0)} s)`} |`;
  });
  const head2 = [
    '| fault | alerts expected / raised | duplicate alerts (same attack, new id) | republished (same id) | Slack: notified / dup / missing | PagerDuty: notified / dup / missing | webhook: notified / dup / missing | blocks expected / done | actions run twice | SOAR notify steps / dup | load avg at start |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  const rows2 = results.map((r, i) => {
    const a = r.account;
    const c = (x: { distinct: number; duplicates: number; missing: number }) => `${n(x.distinct)} / ${n(x.duplicates)} / ${n(x.missing)}`;
    return `| ${r.name} | ${pair(a.alerts.expected, a.alerts.raised)} | ${a.alerts.duplicateAlerts} | ${a.alerts.republished} | ${c(a.notifications.slack)} | ${c(a.notifications.pagerduty)} | ${c(a.notifications.webhook)} | ${pair(a.actions.blocksExpected, a.actions.blocksDone)} | ${a.actions.runTwice} | ${n(a.actions.soarNotifications.distinct)} / ${a.actions.soarNotifications.duplicates} | ${uptime[i]} |`;
  });
  return [...head1, ...rows1, '', ...head2, ...rows2].join('\n');
}

/** "ingest 2, soar 1" from per-service counts. */
function perService(counts: Record<string, number>): string {
  return Object.entries(counts)
    .map(([service, n]) => `${service} ${n}`)
    .join(', ');
}

function renderTimelines(results: FaultResult[]): string {
  return results
    .map((r) => {
      const errors = perService(r.serviceErrors);
      const replaced = perService(r.consumersReplaced);
      return (
        `- **${r.name}** (${r.title}): ${r.timeline.join('; ')}` +
        (errors ? `. Error lines logged: ${errors}` : '') +
        (replaced ? `. Consumers replaced after kafkajs gave up on them: ${replaced}` : '')
      );
    })
    .join('\n');
}

const START = '<!-- faults:table -->';
const END = '<!-- /faults:table -->';

function writeDocs(root: string, results: FaultResult[], opts: SuiteOptions): void {
  const file = join(root, 'docs', 'faults.md');
  const text = readFileSync(file, 'utf8');
  const a = text.indexOf(START);
  const b = text.indexOf(END);
  if (a < 0 || b < a) throw new Error(`${file} has no ${START} ... ${END} markers`);
  const body = [
    START,
    '',
    `Measured ${new Date().toISOString().slice(0, 16)}Z on ${cpus().length} cores, ${n(opts.rate)} events/s for ${opts.seconds} s per fault ` +
      `(\`./vigil faults --write-docs\`). Columns are explained below the tables.`,
    '',
    renderTables(results),
    '',
    'Timelines (seconds from the start of the load):',
    '',
    renderTimelines(results),
    '',
    END,
  ].join('\n');
  writeFileSync(file, text.slice(0, a) + body + text.slice(b + END.length));
  // The tables as written are valid Markdown but not Prettier's layout, which the lint step checks.
  const prettier = join(root, 'node_modules', '.bin', 'prettier');
  if (existsSync(prettier)) execFileSync(prettier, ['--write', file], { stdio: 'ignore' });
}

export async function faultsMain(root: string, args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const only = arg(args, '--only')?.split(',');
  const shared = args.includes('--shared-infra');
  const all = [BASELINE, ...FAULTS];
  const chosen = only ? all.filter((f) => only.includes(f.name)) : all;
  if (only && chosen.length !== only.length) {
    process.stderr.write(`unknown fault in --only; available: ${all.map((f) => f.name).join(', ')}\n`);
    return 2;
  }
  const infra = shared ? null : new PrivateInfra(root);
  const say = (line: string) => process.stdout.write(`[faults] ${line}\n`);
  const opts: SuiteOptions = {
    ...DEFAULT_SUITE,
    root,
    brokers: infra?.brokers ?? process.env.KAFKA_BROKERS ?? '127.0.0.1:9092',
    redisUrl: infra?.redisUrl ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    infra,
    say,
  };
  if (arg(args, '--rate')) opts.rate = Number(arg(args, '--rate'));
  if (arg(args, '--seconds')) opts.seconds = Number(arg(args, '--seconds'));
  if (arg(args, '--siem-down')) opts.siemDownSeconds = Number(arg(args, '--siem-down'));
  const results: FaultResult[] = [];
  mkdirSync(join(root, '.cache', 'faults'), { recursive: true });
  const out = join(root, '.cache', 'faults', `results-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  try {
    if (infra) await infra.up();
    for (const spec of chosen) {
      if (spec.needsPrivateInfra && !infra) {
        say(`${spec.name}: skipped (needs the suite's own Kafka and Redis; drop --shared-infra)`);
        continue;
      }
      say(`── ${spec.name}: ${spec.title} (load average ${loadavg()[0]!.toFixed(2)})`);
      const r = await runFault(spec, opts);
      results.push(r);
      writeFileSync(out, JSON.stringify(results, null, 2));
      say(renderTables([r]).split('\n').join('\n[faults] '));
      for (const [service, count] of Object.entries(r.consumersReplaced)) {
        say(`${service}: ${count} consumer(s) replaced after kafkajs gave up on them (log: ${r.logFile})`);
      }
    }
  } finally {
    if (infra) await infra.down();
  }
  process.stdout.write(`\n${renderTables(results)}\n\nresults: ${out}\n`);
  if (args.includes('--write-docs')) {
    writeDocs(root, results, opts);
    say('docs/faults.md updated');
  }
  return results.every((r) => r.complete) ? 0 : 1;
}
