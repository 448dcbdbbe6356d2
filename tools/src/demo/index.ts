import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { topicNames, type TopicNames } from '@vigil/contracts';
import { infraDown, infraUp } from '../infra/cli';
import { infraSettings } from '../infra/settings';
import { ServiceSet, type ServiceSpec } from './processes';
import { runScenario } from './scenario';
import { Feed } from './feed';

const NAMESPACE = 'demo';

/** The services the demo starts, in order. */
function services(root: string, brokers: string, redisUrl: string): ServiceSpec[] {
  const common = { KAFKA_BROKERS: brokers, REDIS_URL: redisUrl, VIGIL_TOPIC_NAMESPACE: NAMESPACE, LOG_LEVEL: 'info' };
  return [{ name: 'ingest', script: join(root, 'apps/ingest/dist/main.js'), env: { ...common, HTTP_PORT: '8081' }, port: 8081 }];
}

/**
 * `./vigil demo`: Kafka + Redis, the services, a replayed attack with benign traffic and some
 * malformed input, and a live feed of what crosses each topic. Ctrl-C stops everything it started.
 * `--once` exits after the scenario has been seen end to end (used by the tests).
 */
export async function demoMain(root: string, args: string[]): Promise<number> {
  const once = args.includes('--once');
  const settings = infraSettings(root);
  const up = await infraUp(settings);
  const set = new ServiceSet();
  const topics: TopicNames = topicNames(NAMESPACE);
  const kafka = new Kafka({ clientId: 'vigil-demo', brokers: up.env.KAFKA_BROKERS!.split(','), logLevel: logLevel.NOTHING });
  const feed = new Feed(kafka, topics);
  let stopping = false;
  const shutdown = async (code: number): Promise<number> => {
    if (stopping) return code;
    stopping = true;
    process.stdout.write('\n[demo] stopping what the demo started...\n');
    await feed.stop().catch(() => undefined);
    await set.stopAll();
    await infraDown(settings, { kafka: up.kafka.startedHere, redis: up.redis.startedHere });
    return code;
  };
  const onSignal = () => void shutdown(130).then((c) => process.exit(c));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const specs = services(root, up.env.KAFKA_BROKERS!, up.env.REDIS_URL!);
    for (const spec of specs) set.start(spec, (name, line) => feed.serviceLog(name, line));
    process.stdout.write(`[demo] starting ${specs.map((s) => s.name).join(', ')} (topic namespace "${NAMESPACE}")\n`);
    await set.waitReady(90_000);
    process.stdout.write(`[demo] services ready: ${specs.map((s) => `${s.name} http://127.0.0.1:${s.port}/metrics`).join('  ')}\n`);
    await feed.start();
    const expected = await runScenario(kafka, topics, up.env.KAFKA_BROKERS!);
    const seen = await feed.waitFor(expected, 60_000);
    process.stdout.write(`[demo] scenario replayed: ${seen.events} events validated, ${seen.rejected} rejected to the DLQ with reasons\n`);
    if (once) return shutdown(seen.events >= expected.events && seen.rejected >= expected.rejected ? 0 : 1);
    process.stdout.write('[demo] watching; press Ctrl-C to stop everything\n');
    await new Promise(() => undefined);
    return 0;
  } catch (err) {
    process.stderr.write(`[demo] ${err instanceof Error ? err.message : String(err)}\n`);
    return shutdown(1);
  }
}
