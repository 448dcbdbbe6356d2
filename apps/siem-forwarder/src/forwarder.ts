import { topicNames, type DlqErrorKind, type TopicNames } from '@vigil/contracts';
import {
  BatchConsumer,
  Producer,
  createKafka,
  dlqMessage,
  ensureTopics,
  errorMessage,
  kafkaSettings,
  type BatchContext,
  type ConsumedMessage,
  type OutMessage,
  consumerGroup,
} from '@vigil/kafka';
import { TimeSlicer, type Health, type Logger, type Metrics } from '@vigil/runtime';
import type { ForwarderConfig } from './config';
import { readForwardable } from './domain/forwardable';
import { ForwarderMetrics } from './delivery/metrics';
import { SinkRunner } from './delivery/runner';
import type { EncodedRecord, SinkClient, SinkName } from './delivery/sink';
import { ArchiveClient } from './sinks/archive/client';
import { ElasticsearchClient } from './sinks/elasticsearch/client';
import { SentinelClient } from './sinks/sentinel/client';
import { SplunkClient } from './sinks/splunk/client';

export const SERVICE = 'siem-forwarder';

/**
 * Longest a batch handler decodes and encodes before it lets the event loop run: read in one go, a
 * batch of a backlog kept the thread for a hundred milliseconds or more while sink answers,
 * heartbeats and the other lanes waited (docs/performance.md).
 */
export const READ_SLICE_MS = 10;

/** One sink's lane: its client, its delivery engine and its own consumer group. */
interface Lane {
  sink: SinkName;
  groupId: string;
  client: SinkClient;
  runner: SinkRunner<EncodedRecord>;
  consumer: BatchConsumer;
}

export interface ForwarderParts {
  config: ForwarderConfig;
  logger: Logger;
  metrics: Metrics;
  health?: Health;
}

/**
 * The forwarder without Nest: per configured sink, a consumer group reading validated events (and
 * alerts, when enabled) and a delivery engine in front of the sink's client. Sinks share nothing
 * but the DLQ producer, so one sink down or slow never stalls another.
 */
export class Forwarder {
  readonly topics: TopicNames;
  readonly lanes: Lane[] = [];
  private readonly kafka: ReturnType<typeof createKafka>;
  private readonly producer: Producer;
  /** The forwarder's own families; `metrics.shared` holds the shared ones. */
  readonly metrics: ForwarderMetrics;

  constructor(private readonly parts: ForwarderParts) {
    const { config, logger, metrics } = parts;
    const env = config.env;
    const settings = kafkaSettings(env, 'vigil-siem-forwarder');
    this.kafka = createKafka(settings, logger);
    this.topics = topicNames(settings.namespace);
    this.producer = new Producer(this.kafka, logger, metrics);
    this.metrics = new ForwarderMetrics(metrics);
    const input = env.SIEM_FORWARD_ALERTS ? [this.topics.events, this.topics.alerts] : [this.topics.events];
    for (const sink of config.sinks) {
      const client = this.createClient(sink);
      const runner = new SinkRunner<EncodedRecord>({
        client,
        settings: config.runner,
        dlq: this.producer,
        dlqTopic: this.topics.forwardDlq,
        service: SERVICE,
        logger: logger.child({ sink }),
        metrics: this.metrics,
      });
      const prefix = consumerGroup(env.VIGIL_TOPIC_NAMESPACE, env.SIEM_GROUP_ID_PREFIX, 'vigil-siem-forwarder');
      const groupId = `${prefix}-${sink}`;
      const lane: Lane = { sink, groupId, client, runner, consumer: undefined as unknown as BatchConsumer };
      lane.consumer = new BatchConsumer(this.kafka, {
        groupId,
        maxWaitTimeMs: env.KAFKA_FETCH_MAX_WAIT_MS,
        minFetchIntervalMs: env.KAFKA_FETCH_MIN_INTERVAL_MS,
        topics: input,
        handler: (messages, ctx) => this.handle(lane, messages, ctx),
        logger: logger.child({ sink }),
        metrics,
        partitionsConsumedConcurrently: env.SIEM_PARTITIONS_CONCURRENTLY,
        maxBytesPerPartition: env.SIEM_FETCH_MAX_BYTES_PER_PARTITION,
        sessionTimeoutMs: env.SIEM_SESSION_TIMEOUT_MS,
      });
      this.lanes.push(lane);
      parts.health?.register(`kafka_consumer_${sink}`, () => lane.consumer.isReady);
    }
    parts.health?.register('kafka_producer', () => this.producer.isConnected);
  }

  private createClient(sink: SinkName): SinkClient {
    const { config, logger } = this.parts;
    const opts = {
      maxEvents: config.env.SIEM_BATCH_MAX_EVENTS,
      timeoutMs: config.env.SIEM_REQUEST_TIMEOUT_MS,
      maxInFlight: config.env.SIEM_MAX_IN_FLIGHT,
    };
    switch (sink) {
      case 'splunk':
        return new SplunkClient(config.splunk!, opts, logger.child({ sink }), this.metrics);
      case 'elasticsearch':
        return new ElasticsearchClient(config.elasticsearch!, opts);
      case 'sentinel':
        return new SentinelClient(config.sentinel!, opts, logger.child({ sink }), this.metrics);
      case 'archive':
        return new ArchiveClient(config.archive!, opts, logger.child({ sink }), this.metrics.archiveHeadSeq);
    }
  }

  async start(): Promise<void> {
    const { config, logger } = this.parts;
    const env = config.env;
    for (const w of config.warnings) logger.warn({ warning: w }, 'insecure sink transport');
    if (env.KAFKA_CREATE_TOPICS) {
      await ensureTopics(this.kafka, logger, {
        namespace: env.VIGIL_TOPIC_NAMESPACE,
        partitions: env.KAFKA_TOPIC_PARTITIONS,
        replication: env.KAFKA_TOPIC_REPLICATION,
        only: ['events', 'alerts', 'alertsDlq', 'forwardDlq'],
      });
    }
    await this.producer.connect();
    for (const lane of this.lanes) {
      await lane.consumer.start();
      logger.info({ sink: lane.sink, groupId: lane.groupId, ...lane.client.describe() }, 'sink lane running');
    }
    logger.info(
      { sinks: config.sinks, alerts: env.SIEM_FORWARD_ALERTS, dlq: this.topics.forwardDlq, unreadableDlq: this.topics.alertsDlq },
      'siem-forwarder running',
    );
  }

  /** Stops fetching, lets each lane finish (or give up) its in-flight batch, then closes the sinks. */
  async stop(): Promise<void> {
    await Promise.all(this.lanes.map((l) => l.consumer.stop()));
    await Promise.all(this.lanes.map((l) => l.runner.stop()));
    await this.producer.disconnect();
    this.parts.logger.info('siem-forwarder stopped');
  }

  lane(sink: SinkName): Lane | undefined {
    return this.lanes.find((l) => l.sink === sink);
  }

  private async handle(lane: Lane, messages: ConsumedMessage[], ctx: BatchContext): Promise<void> {
    const env = this.parts.config.env;
    const limits = { maxBytes: env.SIEM_MAX_MESSAGE_BYTES, maxDepth: env.SIEM_MAX_DEPTH };
    const items: Array<{ record: EncodedRecord; msg: ConsumedMessage }> = [];
    const unreadable: OutMessage[] = [];
    const dead: Array<{ topic: string; kind: DlqErrorKind }> = [];
    const slicer = new TimeSlicer(READ_SLICE_MS);
    for (const m of messages) {
      if (slicer.due()) await slicer.pause();
      const r = readForwardable(m.value, m.topic === this.topics.alerts ? 'alert' : 'event', limits);
      if (!r.ok) {
        this.parts.logger.warn(
          { sink: lane.sink, topic: m.topic, partition: m.partition, offset: m.offset, kind: r.kind, reason: r.reason },
          'unreadable message to DLQ',
        );
        unreadable.push(
          dlqMessage(this.topics.alertsDlq, SERVICE, m, { kind: r.kind, reason: r.reason, issues: r.issues, destination: lane.sink }),
        );
        dead.push({ topic: this.topics.alertsDlq, kind: r.kind });
        continue;
      }
      try {
        items.push({ record: lane.client.encode(r.item), msg: m });
      } catch (err) {
        const reason = `could not encode for ${lane.sink}: ${errorMessage(err)}`;
        unreadable.push(
          dlqMessage(this.topics.forwardDlq, SERVICE, m, { kind: 'sink_rejected', reason, destination: lane.sink, attempts: 0 }),
        );
        dead.push({ topic: this.topics.forwardDlq, kind: 'sink_rejected' });
      }
    }
    if (unreadable.length > 0) await this.producer.send(unreadable);
    // Counted once written: a batch retried after a failed DLQ send counts them once.
    for (const { topic, kind } of dead) {
      this.metrics.deadLettered.inc({ sink: lane.sink, kind });
      this.parts.metrics.deadLettered.inc({ topic, kind });
    }
    if (items.length > 0) await lane.runner.deliver(items, ctx);
  }
}
