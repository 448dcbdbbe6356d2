import { TopicIds, TopicSpecs, awaitLeaders, topicNames, type TopicId } from '@vigil/contracts';
import type { Kafka } from 'kafkajs';
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
