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
  type BatchHandler,
  type ConsumedMessage,
  type OutMessage,
  consumerGroup,
} from '@vigil/kafka';
import { TimeSlicer, type Health, type Logger, type Metrics } from '@vigil/runtime';
import type { ForwarderConfig } from './config';
import { readForwardable, type Forwardable } from './domain/forwardable';
import { ForwarderMetrics } from './delivery/metrics';
import { carryReadPosition, retrying, unreadSpill } from './read-position';
import { SinkRunner, type RunnerItem } from './delivery/runner';
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

/**
 * One sink's lane: its client, its delivery engine and its own consumer group. Reading per sink,
 * the group reads the input; reading shared, it reads the sink's spilled share (SPILL_SINK_HEADER).
 */
interface Lane {
  sink: SinkName;
  groupId: string;
  client: SinkClient;
  runner: SinkRunner<EncodedRecord>;
  consumer: BatchConsumer;
  /**
   * Reading shared: the sink did not take a share in time, so new shares go straight to the spill
   * topic until the lane has caught up with it and holds nothing (not waiting SIEM_SPILL_AFTER_MS
   * per batch for a slow sink).
   */
  spilling: boolean;
  /**
   * Reading shared: per spill-topic partition, the records behind the lane's last batch there, and
   * when it was handled (an old entry is ignored: the partition may have moved to another instance).
   */
  spillLag: Map<number, { lag: number; at: number }>;
  /** Reading shared: when a share was last spilled because the sink did not take it in time or its circuit was open. */
  troubleAt: number;
}

/** Spilled records name their sink here; the origin's topic:partition:offset in SPILL_ORIGIN_HEADER. */
export const SPILL_SINK_HEADER = 'vigil-spill-sink';
export const SPILL_ORIGIN_HEADER = 'vigil-spill-origin';

/** A message read once and the item it holds (reading shared, every lane encodes the same item). */
interface Decoded {
  msg: ConsumedMessage;
  item: Forwardable;
}

export interface ForwarderParts {
  config: ForwarderConfig;
  logger: Logger;
  metrics: Metrics;
  health?: Health;
}

/**
 * The forwarder without Nest: per configured sink a delivery engine in front of the sink's client,
 * fed by either a consumer group per sink (SIEM_READ_MODE=per-sink) or one group reading once for
 * every sink (shared), which hands a sink's unsent share to the spill topic when the sink has not
 * taken it in time. Either way one sink down or slow never stalls another.
 */
export class Forwarder {
  readonly topics: TopicNames;
  readonly lanes: Lane[] = [];
  /** Reading shared: the one consumer of the input and its group. */
  readonly shared?: { groupId: string; consumer: BatchConsumer };
  private readonly kafka: ReturnType<typeof createKafka>;
  private readonly producer: Producer;
  /** Consumer groups are named from it: <prefix>-<sink> and, reading shared, <prefix>-shared and <prefix>-<sink>-spill. */
  private readonly groupPrefix: string;
  private readonly input: string[];
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
    this.input = input;
    const shared = env.SIEM_READ_MODE === 'shared';
    const prefix = consumerGroup(env.VIGIL_TOPIC_NAMESPACE, env.SIEM_GROUP_ID_PREFIX, 'vigil-siem-forwarder');
    this.groupPrefix = prefix;
    const consumer = (groupId: string, topics: string[], handler: BatchHandler, log: Logger) =>
      new BatchConsumer(this.kafka, {
        groupId,
        maxWaitTimeMs: env.KAFKA_FETCH_MAX_WAIT_MS,
        minFetchIntervalMs: env.KAFKA_FETCH_MIN_INTERVAL_MS,
        topics,
        handler,
        logger: log,
        metrics,
        partitionsConsumedConcurrently: env.SIEM_PARTITIONS_CONCURRENTLY,
        maxBytesPerPartition: env.SIEM_FETCH_MAX_BYTES_PER_PARTITION,
        sessionTimeoutMs: env.SIEM_SESSION_TIMEOUT_MS,
      });
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
      const groupId = shared ? `${prefix}-${sink}-spill` : `${prefix}-${sink}`;
      const lane: Lane = {
        sink,
        groupId,
        client,
        runner,
        consumer: undefined as unknown as BatchConsumer,
        spilling: false,
        spillLag: new Map(),
        troubleAt: 0,
      };
      lane.consumer = shared
        ? consumer(groupId, [this.topics.forwardSpill], (messages, ctx) => this.handleSpilled(lane, messages, ctx), logger.child({ sink }))
        : consumer(groupId, input, (messages, ctx) => this.handle(lane, messages, ctx), logger.child({ sink }));
      this.lanes.push(lane);
      parts.health?.register(`kafka_consumer_${sink}`, () => lane.consumer.isReady);
    }
    if (shared) {
      const groupId = `${prefix}-shared`;
      this.shared = { groupId, consumer: consumer(groupId, input, (messages, ctx) => this.handleShared(messages, ctx), logger) };
      const c = this.shared.consumer;
      parts.health?.register('kafka_consumer_shared', () => c.isReady);
    }
    parts.health?.register('kafka_producer', () => this.producer.isConnected);
  }

  /** Every consumer this forwarder runs. */
  get consumers(): BatchConsumer[] {
    return [...(this.shared ? [this.shared.consumer] : []), ...this.lanes.map((l) => l.consumer)];
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
        only: ['events', 'alerts', 'alertsDlq', 'forwardDlq', ...(env.SIEM_READ_MODE === 'shared' ? (['forwardSpill'] as const) : [])],
      });
    }
    await this.producer.connect();
    await this.carryReadPositions();
    for (const lane of this.lanes) {
      await lane.consumer.start();
      logger.info({ sink: lane.sink, groupId: lane.groupId, ...lane.client.describe() }, 'sink lane running');
    }
    if (this.shared) await this.shared.consumer.start();
    logger.info(
      {
        sinks: config.sinks,
        alerts: env.SIEM_FORWARD_ALERTS,
        readMode: env.SIEM_READ_MODE,
        ...(this.shared ? { groupId: this.shared.groupId, spill: this.topics.forwardSpill, spillAfterMs: env.SIEM_SPILL_AFTER_MS } : {}),
        dlq: this.topics.forwardDlq,
        unreadableDlq: this.topics.alertsDlq,
      },
      'siem-forwarder running',
    );
  }

  /**
   * Switching SIEM_READ_MODE keeps the read position: before joining, each input group of this mode
   * starts where the other mode's groups have all got to, if that is further (read-position.ts).
   * After a switch to per-sink, spilled records not yet read back are reported: nothing reads them.
   */
  private async carryReadPositions(): Promise<void> {
    const { logger } = this.parts;
    const perSinkGroups = this.lanes.map((l) => `${this.groupPrefix}-${l.sink}`);
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const existing = await retrying('topic list', () => admin.listTopics(), logger);
      if (this.shared) {
        await carryReadPosition(admin, existing, logger, { targets: [this.shared.groupId], sources: perSinkGroups, topics: this.input });
        return;
      }
      const sources = [`${this.groupPrefix}-shared`];
      await carryReadPosition(admin, existing, logger, { targets: perSinkGroups, sources, topics: this.input });
      const spillGroups = perSinkGroups.map((g) => `${g}-spill`);
      const unread = await unreadSpill(admin, existing, logger, this.topics.forwardSpill, spillGroups);
      if (Object.keys(unread).length > 0)
        logger.error(
          { spillTopic: this.topics.forwardSpill, unread },
          'records spilled under SIEM_READ_MODE=shared are not read back in per-sink mode: run shared until these groups have caught up',
        );
    } finally {
      await admin.disconnect();
    }
  }

  /** Stops fetching, lets each lane finish (or give up) its in-flight batch, then closes the sinks. */
  async stop(): Promise<void> {
    await Promise.all(this.consumers.map((c) => c.stop()));
    await Promise.all(this.lanes.map((l) => l.runner.stop()));
    await this.producer.disconnect();
    this.parts.logger.info('siem-forwarder stopped');
  }

  lane(sink: SinkName): Lane | undefined {
    return this.lanes.find((l) => l.sink === sink);
  }

  /** Reading per sink: one lane's batch of the input. */
  private async handle(lane: Lane, messages: ConsumedMessage[], ctx: BatchContext): Promise<void> {
    const read = await this.read(messages, [lane.sink]);
    const { items, dead } = await this.encode(lane, read.items);
    await this.deadLetter([...read.dead, ...dead]);
    if (items.length > 0) await lane.runner.deliver(items, ctx);
  }

  /**
   * Reading shared: a batch of the input, decoded once, each sink's share handed to its lane at once.
   * A lane that has not taken its share within SIEM_SPILL_AFTER_MS hands back what it has not
   * delivered; that share goes to the spill topic (acks=all) for the lane to read back, and the batch
   * commits. A lane whose circuit is not closed, or that is spilling already and still holds items,
   * is not waited for at all: its whole share is spilled.
   */
  private async handleShared(messages: ConsumedMessage[], ctx: BatchContext): Promise<void> {
    const env = this.parts.config.env;
    const read = await this.read(
      messages,
      this.lanes.map((l) => l.sink),
    );
    const shares: Array<{ lane: Lane; spill: ConsumedMessage[]; why?: SpillReason; items: Array<RunnerItem<EncodedRecord>> }> = [];
    const dead: DeadItem[] = [...read.dead];
    for (const lane of this.lanes) {
      if (lane.spilling && this.caughtUp(lane)) lane.spilling = false;
      const open = lane.runner.circuitState !== 'closed';
      if (lane.spilling || open) {
        const why = open ? 'circuit_open' : 'behind';
        if (open) lane.troubleAt = Date.now();
        lane.spilling = true;
        shares.push({ lane, spill: read.items.map((d) => d.msg), why, items: [] });
        continue;
      }
      const encoded = await this.encode(lane, read.items);
      dead.push(...encoded.dead);
      shares.push({ lane, spill: [], items: encoded.items });
    }
    await this.deadLetter(dead);
    await Promise.all(
      shares
        .filter((s) => s.items.length > 0)
        .map(async (s) => {
          const left = await s.lane.runner.deliver(s.items, ctx, env.SIEM_SPILL_AFTER_MS);
          if (left.length === 0) return;
          s.lane.spilling = true;
          s.lane.troubleAt = Date.now();
          s.why = 'timeout';
          for (const x of left) s.spill.push(x.msg);
        }),
    );
    const out: OutMessage[] = [];
    for (const s of shares) for (const m of s.spill) out.push(this.spillMessage(s.lane.sink, m));
    if (out.length === 0) return;
    await this.producer.send(out);
    for (const s of shares) if (s.spill.length > 0) this.metrics.spilled.inc({ sink: s.lane.sink, reason: s.why! }, s.spill.length);
    this.parts.logger.warn(
      {
        spilled: Object.fromEntries(
          shares.filter((s) => s.spill.length > 0).map((s) => [s.lane.sink, { items: s.spill.length, reason: s.why }]),
        ),
        topic: ctx.topic,
        partition: ctx.partition,
      },
      'sink did not take its share in time; spilled for it to read back',
    );
  }

  /** Reading shared: a lane's batch of the spill topic; records spilled for other sinks are skipped. */
  private async handleSpilled(lane: Lane, messages: ConsumedMessage[], ctx: BatchContext): Promise<void> {
    const mine = messages.filter((m) => m.headers[SPILL_SINK_HEADER] === lane.sink).map((m) => this.origin(m));
    if (mine.length > 0) await this.handle(lane, mine, ctx);
    lane.spillLag.set(ctx.partition, { lag: ctx.lag ?? 0, at: Date.now() });
  }

  /**
   * A spilling lane may take shares directly again once its sink is up, it holds nothing, its last
   * trouble is SIEM_SPILL_AFTER_MS old (time for its spill consumer to have fetched what was spilled),
   * and nothing spilled waits behind that consumer's last batches here.
   */
  private caughtUp(lane: Lane): boolean {
    if (lane.runner.circuitState !== 'closed' || lane.runner.queuedItems > 0) return false;
    const recent = Date.now() - this.parts.config.env.SIEM_SPILL_AFTER_MS;
    if (lane.troubleAt > recent) return false;
    for (const { lag, at } of lane.spillLag.values()) if (lag > 0 && at >= recent) return false;
    return true;
  }

  /** The record for the spill topic: the original bytes, key and headers, plus its sink and origin. */
  private spillMessage(sink: SinkName, m: ConsumedMessage): OutMessage {
    return {
      topic: this.topics.forwardSpill,
      key: m.key,
      value: m.value ?? Buffer.alloc(0),
      headers: { ...m.headers, [SPILL_SINK_HEADER]: sink, [SPILL_ORIGIN_HEADER]: `${m.topic}:${m.partition}:${m.offset}` },
    };
  }

  /**
   * A spilled record as it was read from the input, so its kind, its DLQ record's source and the
   * logs name where it came from. A record without a readable origin stays as it is (and is read as
   * an event).
   */
  private origin(m: ConsumedMessage): ConsumedMessage {
    const match = /^([A-Za-z0-9._-]{1,249}):(\d{1,10}):(\d{1,20})$/.exec(m.headers[SPILL_ORIGIN_HEADER] ?? '');
    if (!match) return m;
    const headers = { ...m.headers };
    delete headers[SPILL_SINK_HEADER];
    delete headers[SPILL_ORIGIN_HEADER];
    return { ...m, topic: match[1]!, partition: Number(match[2]), offset: match[3]!, headers };
  }

  /** Decodes a batch; unreadable messages become DLQ records naming `sinks` (comma-separated) as their destination. */
  private async read(messages: ConsumedMessage[], sinks: SinkName[]): Promise<{ items: Decoded[]; dead: DeadItem[] }> {
    const env = this.parts.config.env;
    const destination = sinks.join(',');
    const limits = { maxBytes: env.SIEM_MAX_MESSAGE_BYTES, maxDepth: env.SIEM_MAX_DEPTH };
    const items: Decoded[] = [];
    const dead: DeadItem[] = [];
    const slicer = new TimeSlicer(READ_SLICE_MS);
    for (const m of messages) {
      if (slicer.due()) await slicer.pause();
      const r = readForwardable(m.value, m.topic === this.topics.alerts ? 'alert' : 'event', limits);
      if (r.ok) {
        items.push({ msg: m, item: r.item });
        continue;
      }
      this.parts.logger.warn(
        { sink: destination, topic: m.topic, partition: m.partition, offset: m.offset, kind: r.kind, reason: r.reason },
        'unreadable message to DLQ',
      );
      dead.push({
        sinks,
        topic: this.topics.alertsDlq,
        kind: r.kind,
        message: dlqMessage(this.topics.alertsDlq, SERVICE, m, { kind: r.kind, reason: r.reason, issues: r.issues, destination }),
      });
    }
    return { items, dead };
  }

  /** One lane's wire form of decoded items; an item its client cannot encode becomes a DLQ record. */
  private async encode(lane: Lane, decoded: Decoded[]): Promise<{ items: Array<RunnerItem<EncodedRecord>>; dead: DeadItem[] }> {
    const items: Array<RunnerItem<EncodedRecord>> = [];
    const dead: DeadItem[] = [];
    const slicer = new TimeSlicer(READ_SLICE_MS);
    for (const { msg, item } of decoded) {
      if (slicer.due()) await slicer.pause();
      try {
        items.push({ record: lane.client.encode(item), msg });
      } catch (err) {
        const reason = `could not encode for ${lane.sink}: ${errorMessage(err)}`;
        dead.push({
          sinks: [lane.sink],
          topic: this.topics.forwardDlq,
          kind: 'sink_rejected',
          message: dlqMessage(this.topics.forwardDlq, SERVICE, msg, { kind: 'sink_rejected', reason, destination: lane.sink, attempts: 0 }),
        });
      }
    }
    return { items, dead };
  }

  /** Writes DLQ records (acks=all), then counts them: a batch retried after a failed send counts them once. */
  private async deadLetter(dead: DeadItem[]): Promise<void> {
    if (dead.length === 0) return;
    await this.producer.send(dead.map((d) => d.message));
    for (const d of dead) {
      for (const sink of d.sinks) this.metrics.deadLettered.inc({ sink, kind: d.kind });
      this.parts.metrics.deadLettered.inc({ topic: d.topic, kind: d.kind });
    }
  }
}

/**
 * Why a sink's share was spilled: not taken within SIEM_SPILL_AFTER_MS (the batch waited that
 * long), its circuit not closed, or the lane still behind with earlier spills (not waited for).
 */
type SpillReason = 'timeout' | 'circuit_open' | 'behind';

/** A DLQ record about to be written, and what to count for it. */
interface DeadItem {
  sinks: string[];
  topic: string;
  kind: DlqErrorKind;
  message: OutMessage;
}
