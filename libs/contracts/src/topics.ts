/**
 * Every Kafka topic Vigil uses. Services import these names; none spells a topic as a literal.
 *
 * A namespace (VIGIL_TOPIC_NAMESPACE) prefixes every name so that tests, demos and several
 * environments can share one cluster without touching each other's data.
 */
export const TopicIds = [
  'eventsRaw',
  'events',
  'eventsDlq',
  'alerts',
  'alertsDlq',
  'responses',
  'forwardDlq',
  'forwardSpill',
  'notifications',
  'notificationsDlq',
] as const;
export type TopicId = (typeof TopicIds)[number];

export interface TopicSpec {
  /** Base name; the namespace, when set, is prepended with a dot. */
  readonly name: string;
  /** What the topic carries, for docs and the admin step's log line. */
  readonly carries: string;
  /** Retention in milliseconds; DLQs keep longer so an operator has time to look. */
  readonly retentionMs: number;
  /** Largest record the broker accepts on this topic (max.message.bytes). */
  readonly maxMessageBytes: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;
const MIB = 1024 * 1024;
/**
 * Event topics accept records above ingest's largest accepted event (4 MiB at most), so an oversized
 * event reaches ingest and is dead-lettered with its reason instead of failing at the producer.
 */
export const EVENT_TOPIC_MAX_BYTES = 5 * MIB;

export const TopicSpecs: Readonly<Record<TopicId, TopicSpec>> = {
  eventsRaw: {
    name: 'security.events.raw',
    carries: 'events as producers wrote them',
    retentionMs: 3 * DAY_MS,
    maxMessageBytes: EVENT_TOPIC_MAX_BYTES,
  },
  events: {
    name: 'security.events.v1',
    carries: 'validated, normalised SecurityEvent v1',
    retentionMs: 7 * DAY_MS,
    maxMessageBytes: EVENT_TOPIC_MAX_BYTES,
  },
  eventsDlq: {
    name: 'security.events.dlq',
    carries: 'raw events ingest rejected, with the reason',
    retentionMs: 14 * DAY_MS,
    maxMessageBytes: MIB,
  },
  alerts: { name: 'security.alerts.v1', carries: 'Alert v1 raised by correlation', retentionMs: 30 * DAY_MS, maxMessageBytes: 2 * MIB },
  alertsDlq: {
    name: 'security.alerts.dlq',
    carries: 'alerts or validated events a consumer could not read',
    retentionMs: 14 * DAY_MS,
    maxMessageBytes: MIB,
  },
  responses: { name: 'security.responses.v1', carries: 'audit record of every SOAR step', retentionMs: 90 * DAY_MS, maxMessageBytes: MIB },
  forwardDlq: {
    name: 'siem.forward.dlq',
    carries: 'events a SIEM sink refused or gave up on',
    retentionMs: 14 * DAY_MS,
    maxMessageBytes: MIB,
  },
  forwardSpill: {
    name: 'siem.forward.spill.v1',
    carries: "a SIEM sink's share of events and alerts it could not take in time (shared reading); that sink reads it back",
    retentionMs: 7 * DAY_MS,
    maxMessageBytes: EVENT_TOPIC_MAX_BYTES,
  },
  notifications: {
    name: 'security.notifications.v1',
    carries: 'delivery record of every notification',
    retentionMs: 30 * DAY_MS,
    maxMessageBytes: MIB,
  },
  notificationsDlq: {
    name: 'security.notifications.dlq',
    carries: 'notifications given up after retries',
    retentionMs: 14 * DAY_MS,
    maxMessageBytes: MIB,
  },
};

export type TopicNames = Readonly<Record<TopicId, string>>;

const NAMESPACE_RE = /^[a-zA-Z0-9][a-zA-Z0-9._-]{0,100}$/;

/** Resolves every topic name under an optional namespace. */
export function topicNames(namespace?: string): TopicNames {
  if (namespace !== undefined && namespace !== '' && !NAMESPACE_RE.test(namespace)) {
    throw new Error(`topic namespace "${namespace}" must match ${NAMESPACE_RE.source}`);
  }
  const prefix = namespace ? `${namespace}.` : '';
  const out = {} as Record<TopicId, string>;
  for (const id of TopicIds) out[id] = prefix + TopicSpecs[id].name;
  return out;
}

const LEADER_TIMEOUT_MS = 30_000;

/** The two admin calls `awaitLeaders` makes (kafkajs' `Admin` has both); typed here so contracts stay free of a client. */
export interface LeaderSource {
  fetchTopicMetadata(args: { topics: string[] }): Promise<{ topics: Array<{ name: string; partitions: Array<{ leader: number }> }> }>;
  /** ListOffsets, answered by each partition's leader itself; rejects while a leader does not serve the partition yet. */
  fetchTopicOffsets(topic: string): Promise<unknown>;
}

/**
 * Waits until every partition of `topics` has a leader that serves it. Two steps, each waited out
 * while the broker answers with a retriable error, bounded by `timeoutMs`:
 *  - metadata names a leader for every partition. kafkajs' `createTopics({ waitForLeaders })`
 *    instead fails on the first "This server does not host this topic-partition" that a broker
 *    answers while it is still loading (first start after `infra up` with many partitions on disk),
 *    although the topics were created; that stopped `./vigil demo`, and test set-ups;
 *  - each leader answers ListOffsets for the partition. KRaft metadata names the leader a moment
 *    before the leader has the partition ("not the leader for that topic-partition"); a produce in
 *    that moment fails for that partition, and kafkajs retries the whole request, so a producer
 *    that is not idempotent wrote the other partitions' messages twice (seen in 6 of 10 tries
 *    right after creating topics; none once this step was added).
 * Any other error is thrown as it is.
 */
export async function awaitLeaders(admin: LeaderSource, topics: string[], timeoutMs = LEADER_TIMEOUT_MS, everyMs = 100): Promise<void> {
  const until = Date.now() + timeoutMs;
  /** Repeats `check` (what it still waits for, or null once ready) until ready, the deadline, or an error that is not retriable. */
  const step = async (check: () => Promise<string | null>): Promise<void> => {
    for (;;) {
      let waiting: string | null;
      try {
        waiting = await check();
      } catch (err) {
        if ((err as { retriable?: boolean }).retriable !== true) throw err;
        waiting = (err as Error).message;
      }
      if (waiting === null) return;
      if (Date.now() >= until) throw new Error(`topics created but not ready after ${timeoutMs / 1000} s: ${waiting}`);
      await new Promise((r) => setTimeout(r, everyMs));
    }
  };
  await step(async () => {
    const meta = await admin.fetchTopicMetadata({ topics });
    const leaderless = topics.filter((name) => {
      const t = meta.topics.find((m) => m.name === name);
      return !t || t.partitions.length === 0 || t.partitions.some((p) => p.leader < 0);
    });
    return leaderless.length > 0 ? `no leader yet for ${leaderless.join(', ')}` : null;
  });
  await step(async () => {
    for (const topic of topics) await admin.fetchTopicOffsets(topic);
    return null;
  });
}
