import type { Consumer, Kafka } from 'kafkajs';
import type { TopicNames } from '@vigil/contracts';

export interface Counts {
  events: number;
  rejected: number;
}

const tty = process.stdout.isTTY === true;
const dim = (s: string) => (tty ? `\x1b[2m${s}\x1b[0m` : s);
const color = (code: number, s: string) => (tty ? `\x1b[${code}m${s}\x1b[0m` : s);

/**
 * A live view of what crosses the pipeline's topics during the demo, one line per message, read
 * from Kafka like any other consumer (a fresh group, only messages written since the demo started).
 */
export class Feed {
  private consumer: Consumer | null = null;
  private readonly startedAt = Date.now();
  readonly counts: Counts = { events: 0, rejected: 0 };
  private printedEvents = 0;

  constructor(
    private readonly kafka: Kafka,
    private readonly topics: TopicNames,
  ) {}

  async start(): Promise<void> {
    this.consumer = this.kafka.consumer({ groupId: `vigil-demo-feed-${this.startedAt}`, maxWaitTimeInMs: 100 });
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [this.topics.events, this.topics.eventsDlq], fromBeginning: true });
    await this.consumer.run({
      eachMessage: async ({ topic, message }) => {
        if (Number(message.timestamp) < this.startedAt - 1000 || !message.value) return;
        this.show(topic, JSON.parse(message.value.toString()) as Record<string, unknown>);
      },
    });
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
  }

  async waitFor(expected: Counts, timeoutMs: number): Promise<Counts> {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until && (this.counts.events < expected.events || this.counts.rejected < expected.rejected)) {
      await new Promise((r) => setTimeout(r, 200));
    }
    return { ...this.counts };
  }

  /** Service log lines: warnings and errors only, so the feed stays readable. */
  serviceLog(name: string, line: string): void {
    try {
      const rec = JSON.parse(line) as { level?: string; msg?: string };
      if (rec.level === 'error' || rec.level === 'fatal') process.stdout.write(`${color(31, `[${name}]`)} ${rec.msg ?? line}\n`);
    } catch {
      if (line.trim()) process.stdout.write(`${dim(`[${name}]`)} ${line}\n`);
    }
  }

  private show(topic: string, v: Record<string, unknown>): void {
    if (topic === this.topics.events) {
      this.counts.events++;
      // Benign background traffic is counted, and only the first few lines are shown.
      if (this.printedEvents++ < 12 || v.severity === 'high' || v.severity === 'critical') {
        const src = (v.source as { ip?: string } | undefined)?.ip ?? '-';
        const actor = (v.actor as { user_id?: string } | undefined)?.user_id ?? '-';
        process.stdout.write(
          `${color(32, 'event  ')} ${String(v.event_type).padEnd(20)} ${String(v.outcome).padEnd(8)} ${String(v.severity).padEnd(8)} user=${actor} ip=${src}\n`,
        );
      } else if (this.printedEvents === 13) {
        process.stdout.write(dim('         ... further validated events are counted, not printed\n'));
      }
    } else if (topic === this.topics.eventsDlq) {
      this.counts.rejected++;
      process.stdout.write(`${color(33, 'reject ')} ${String(v.error_kind).padEnd(20)} ${String(v.reason).slice(0, 110)}\n`);
    }
  }
}
