import { parseEnv } from '@vigil/runtime';
import { infraDown, infraUp } from '../infra/cli';
import { infraSettings } from '../infra/settings';
import { StandinsEnvSchema, startStandins, type RunningStandins } from '../standins';
import { Feed, alertKey } from './feed';
import { DEMO_TOKENS, demoKafka, startPipeline, type RunningPipeline } from './pipeline';
import { runScenario } from './scenario';

const say = (line: string) => process.stdout.write(`[demo] ${line}\n`);

/**
 * `./vigil demo`: Kafka and Redis, the SaaS stand-ins, the five services, a replayed attack, and a
 * live feed of events, alerts, notifications and responses. Ctrl-C stops everything it started.
 * `--once` exits after the scenario has been seen end to end (a smoke test of the whole pipeline).
 */
export async function demoMain(root: string, args: string[]): Promise<number> {
  const once = args.includes('--once');
  const settings = infraSettings(root);
  const up = await infraUp(settings);
  const namespace = `demo-${Date.now().toString(36)}`;
  let standins: RunningStandins | undefined;
  let pipeline: RunningPipeline | undefined;
  let feed: Feed | undefined;
  let stopping = false;
  const shutdown = async (code: number): Promise<number> => {
    if (stopping) return code;
    stopping = true;
    say('stopping the services, the stand-ins, and the Kafka and Redis it started...');
    await feed?.stop().catch(() => undefined);
    await pipeline?.stop();
    await standins?.close();
    await infraDown(settings, { kafka: up.kafka.startedHere, redis: up.redis.startedHere });
    say('stopped');
    return code;
  };
  process.once('SIGINT', () => void shutdown(130).then((c) => process.exit(c)));
  process.once('SIGTERM', () => void shutdown(143).then((c) => process.exit(c)));
  try {
    standins = await startStandins(parseEnv(StandinsEnvSchema));
    say(
      `SaaS stand-ins up (Splunk, Elasticsearch, Sentinel, Slack, PagerDuty, Twilio, webhook, firewall, SCIM, EDR): ${standins.statusUrl}`,
    );
    say(`starting ingest, correlation, siem-forwarder, alert-router and soar (topic namespace "${namespace}")`);
    let feedRef: Feed | undefined;
    pipeline = await startPipeline({
      root,
      brokers: up.env.KAFKA_BROKERS!,
      redisUrl: up.env.REDIS_URL!,
      namespace,
      standinsEnv: standins.env,
      onLog: (name, line) => feedRef?.serviceLog(name, line),
    });
    const kafka = demoKafka(up.env.KAFKA_BROKERS!);
    feed = feedRef = new Feed(kafka, pipeline.topics);
    await feed.start();
    say('all five services ready; replaying the attack scenario');
    const expected = await runScenario(kafka, pipeline.topics, up.env.KAFKA_BROKERS!, (l) => say(`  ${l}`));
    const f = feed;
    await f.until(
      'every scenario event to be validated',
      (s) => expected.eventIds.every((id) => s.events.has(id)) && s.rejected >= expected.rejected,
      60_000,
    );
    await f.until(
      'the expected alerts',
      (s) => expected.alerts.every((k) => s.alerts.some((a) => alertKey(a.rule.id, a.group) === k)),
      90_000,
    );
    await f.until(
      'the blocks and the approval requests',
      (s) => {
        const blocked = new Set(s.responses.filter((r) => r.event === 'step_succeeded' && r.action === 'block_ip').map((r) => r.target));
        const waiting = new Set(s.responses.filter((r) => r.event === 'approval_requested').map((r) => r.target));
        return expected.blockedIps.every((ip) => blocked.has(ip)) && expected.approvalsFor.every((u) => waiting.has(u));
      },
      90_000,
    );
    await f.until(
      'a notification for every alert group',
      (s) => {
        const notified = new Set(s.notifications.filter((n) => n.outcome === 'delivered').flatMap((n) => n.alert_ids));
        return s.alerts.filter((a) => !a.rule.id.startsWith('soar:')).every((a) => notified.has(a.alert_id));
      },
      90_000,
    );
    const st = standins.status() as { firewall: { blocks: string[] }; elasticsearch: { documents: number }; splunk: { events: number } };
    say(
      `scenario seen end to end: ${f.seen.events.size} events validated, ${f.seen.rejected} rejected, ${f.seen.alerts.length} alerts, ${f.seen.notifications.length} notifications`,
    );
    say(
      `firewall stand-in blocks: ${st.firewall.blocks.join(', ')}; Elasticsearch documents: ${st.elasticsearch.documents}; Splunk events: ${st.splunk.events}`,
    );
    const console = `http://127.0.0.1:${pipeline.ports.soar}/`;
    say(`analyst console: ${console}  (log in with "${DEMO_TOKENS.admin}" as admin or "${DEMO_TOKENS.analyst}" as analyst)`);
    say(`disabling ${expected.approvalsFor.join(', ')} waits for your approval there`);
    if (once) return shutdown(0);
    say('watching; press Ctrl-C to stop everything');
    await new Promise(() => undefined);
    return 0;
  } catch (err) {
    process.stderr.write(`[demo] ${err instanceof Error ? err.message : String(err)}\n`);
    return shutdown(1);
  }
}
