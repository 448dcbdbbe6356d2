import { TopicIds, TopicSpecs, topicNames, type TopicId } from '@vigil/contracts';
import type { Admin, Kafka } from 'kafkajs';
import type { Logger } from 'pino';

export interface EnsureTopicsOptions {
  namespace?: string | undefined;
  partitions: number;
  replication: number;
  /** Which topics; default all of them. */
  only?: readonly TopicId[];
}

/**
 * The admin step: creates Vigil's topics with the configured partitions and replication factor
 * (brokers run with auto-create off). Existing topics are left as they are and reported.
 */
export async function ensureTopics(kafka: Kafka, logger: Logger, opts: EnsureTopicsOptions): Promise<string[]> {
  const names = topicNames(opts.namespace);
  const ids = opts.only ?? TopicIds;
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = ids.filter((id) => !existing.has(names[id]));
    if (missing.length > 0) {
      await admin.createTopics({
        waitForLeaders: false, // kafkajs' own wait gives up too early on a broker still starting: see awaitLeaders
        topics: missing.map((id) => ({
          topic: names[id],
          numPartitions: opts.partitions,
          replicationFactor: opts.replication,
          configEntries: [
            { name: 'retention.ms', value: String(TopicSpecs[id].retentionMs) },
            { name: 'max.message.bytes', value: String(TopicSpecs[id].maxMessageBytes) },
            { name: 'min.insync.replicas', value: String(Math.max(1, Math.min(2, opts.replication - 1))) },
          ],
        })),
      });
      await awaitLeaders(
        admin,
        missing.map((id) => names[id]),
      );
    }
    const created = missing.map((id) => names[id]);
    logger.info({ created, existing: ids.length - missing.length }, 'topics ensured');
    return created;
  } finally {
    await admin.disconnect();
  }
}

const LEADER_TIMEOUT_MS = 30_000;

/**
 * Waits until every partition of `topics` has a leader. kafkajs' `createTopics({ waitForLeaders })`
 * fails on the first "This server does not host this topic-partition" that a broker answers while
 * it is still loading (first start after `infra up` with many partitions on disk), although the
 * topics were created; that stopped `./vigil demo`. Retriable errors are waited out here, bounded;
 * any other error is thrown as it is.
 */
export async function awaitLeaders(
  admin: Pick<Admin, 'fetchTopicMetadata'>,
  topics: string[],
  timeoutMs = LEADER_TIMEOUT_MS,
  everyMs = 100,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  let last = 'no metadata yet';
  for (;;) {
    try {
      const meta = await admin.fetchTopicMetadata({ topics });
      const waiting = topics.filter((name) => {
        const t = meta.topics.find((m) => m.name === name);
        return !t || t.partitions.length === 0 || t.partitions.some((p) => p.leader < 0);
      });
      if (waiting.length === 0) return;
      last = `no leader yet for ${waiting.join(', ')}`;
    } catch (err) {
      if ((err as { retriable?: boolean }).retriable !== true) throw err;
      last = (err as Error).message;
    }
    if (Date.now() >= until) throw new Error(`topics created but not ready after ${timeoutMs / 1000} s: ${last}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
