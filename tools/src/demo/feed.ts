import type { Consumer, Kafka } from 'kafkajs';
import {
  AlertSchema,
  NotificationRecordSchema,
  ResponseRecordSchema,
  type Alert,
  type NotificationRecord,
  type ResponseRecord,
  type TopicNames,
} from '@vigil/contracts';
import { alertKey } from './scenario';

const tty = process.stdout.isTTY === true;
const dim = (s: string) => (tty ? `\x1b[2m${s}\x1b[0m` : s);
const color = (code: number, s: string) => (tty ? `\x1b[${code}m${s}\x1b[0m` : s);
const SEVERITY_COLOR: Record<string, number> = { critical: 31, high: 35, medium: 33, low: 36, info: 37 };

/** Everything the feed has seen since it started, for summaries and the end-to-end test. */
export interface Seen {
  events: Set<string>;
  eventMessages: number;
  rejected: number;
  alerts: Alert[];
  notifications: NotificationRecord[];
  responses: ResponseRecord[];
}

function groupText(group: Record<string, string>): string {
  return Object.entries(group)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
}

/**
 * A live view of what crosses the pipeline's topics, read from Kafka like any other consumer
 * (a fresh group on a fresh namespace, so it sees exactly this run).
 */
export class Feed {
  private consumer: Consumer | null = null;
  private ticker: NodeJS.Timeout | null = null;
  private lastTick = '';
  /** Highest offset shown per topic/partition (kafkajs hands a partition's records in order). */
  private readonly shownUpTo = new Map<string, bigint>();
  readonly seen: Seen = { events: new Set(), eventMessages: 0, rejected: 0, alerts: [], notifications: [], responses: [] };

  constructor(
    private readonly kafka: Kafka,
    private readonly topics: TopicNames,
    private readonly print: (line: string) => void = (l) => process.stdout.write(`${l}\n`),
  ) {}

  async start(): Promise<void> {
    const t = this.topics;
    this.consumer = this.kafka.consumer({ groupId: `vigil-feed-${Date.now()}`, maxWaitTimeInMs: 100 });
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [t.events, t.eventsDlq, t.alerts, t.notifications, t.responses], fromBeginning: true });
    await this.consumer.run({
      eachMessage: async ({ topic, partition, message }) => {
        if (!message.value) return;
        // The feed's own consumer re-reads what it had not committed when the broker restarts:
        // a record is counted once by its position, so only real copies on a topic count twice.
        const key = `${topic}/${partition}`;
        const offset = BigInt(message.offset);
        const upTo = this.shownUpTo.get(key);
        if (upTo !== undefined && offset <= upTo) return;
        this.shownUpTo.set(key, offset);
        try {
          this.show(topic, JSON.parse(message.value.toString()) as unknown);
        } catch {
          // the feed only displays; a message it cannot read is not its business
        }
      },
    });
    this.ticker = setInterval(() => this.tick(), 2000);
    this.ticker.unref();
  }

  async stop(): Promise<void> {
    if (this.ticker) clearInterval(this.ticker);
    await this.consumer?.disconnect();
  }

  /** Resolves once `done(seen)` holds, or throws after the timeout saying what is missing. */
  async until(what: string, done: (s: Seen) => boolean, timeoutMs: number): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (!done(this.seen)) {
      if (Date.now() > until) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** Service log lines: errors only, so the feed stays readable. */
  serviceLog(name: string, line: string): void {
    try {
      const rec = JSON.parse(line) as { level?: string; msg?: string };
      if (rec.level === 'error' || rec.level === 'fatal') this.print(`${color(31, `[${name}]`)} ${rec.msg ?? line}`);
    } catch {
      if (line.trim()) this.print(`${dim(`[${name}]`)} ${line}`);
    }
  }

  private tick(): void {
    const line = `events: ${this.seen.events.size} validated, ${this.seen.rejected} rejected · alerts: ${this.seen.alerts.length} · notifications: ${this.seen.notifications.length} · responses: ${this.seen.responses.length}`;
    if (line !== this.lastTick) this.print(dim(line));
    this.lastTick = line;
  }

  private show(topic: string, v: unknown): void {
    const t = this.topics;
    if (topic === t.events) {
      this.seen.eventMessages++;
      this.seen.events.add((v as { event_id: string }).event_id);
    } else if (topic === t.eventsDlq) {
      this.seen.rejected++;
      const r = v as { error_kind: string; reason: string };
      this.print(`${color(33, 'REJECT ')} ${r.error_kind.padEnd(18)} ${r.reason.slice(0, 100)}`);
    } else if (topic === t.alerts) {
      const a = AlertSchema.parse(v);
      this.seen.alerts.push(a);
      const count = a.distinct_count !== undefined ? `${a.distinct_count} distinct` : `${a.event_count} events`;
      this.print(
        `${color(SEVERITY_COLOR[a.severity] ?? 37, 'ALERT  ')} ${a.severity.padEnd(8)} ${a.rule.id.padEnd(24)} ${groupText(a.group)} (${count})`,
      );
    } else if (topic === t.notifications) {
      const n = NotificationRecordSchema.parse(v);
      this.seen.notifications.push(n);
      const labels = Object.entries(n.group_labels)
        .filter(([k]) => k.startsWith('group.'))
        .map(([k, val]) => `${k.slice(6)}=${val}`)
        .join(' ');
      this.print(
        `${color(34, 'NOTIFY ')} ${n.channel.padEnd(9)} ${n.outcome.padEnd(9)} ${n.rule_ids.join(',')} ${labels} (${n.alert_count} alert${n.alert_count === 1 ? '' : 's'})`,
      );
    } else if (topic === t.responses) {
      const r = ResponseRecordSchema.parse(v);
      this.seen.responses.push(r);
      const shown: Partial<Record<ResponseRecord['event'], string>> = {
        step_succeeded: `${r.action} ${r.target ?? ''} via ${r.connector ?? '?'}: done${r.undo_at ? ` (undo at ${r.undo_at.slice(11, 19)} UTC)` : ''}`,
        approval_requested: `${r.action} ${r.target ?? ''} WAITING for an analyst's approval in the console`,
        approved: `${r.action} ${r.target ?? ''} approved by ${r.actor.name}`,
        rejected: `${r.action} ${r.target ?? ''} rejected by ${r.actor.name}`,
        step_refused: `${r.action} ${r.target ?? ''} refused: ${r.reason ?? ''}`,
        step_failed: `${r.action} ${r.target ?? ''} failed: ${r.error ?? ''}`,
        undo_succeeded: `${r.action} ${r.target ?? ''} undone (time was up)`,
      };
      const text = shown[r.event];
      if (text) this.print(`${color(32, 'RESPOND')} ${text}`);
    }
  }
}

export { alertKey };
