import { randomUUID } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { hostname as osHostname } from 'node:os';
import { Kafka, Partitioners, logLevel, type Producer } from 'kafkajs';
import {
  EVENT_SCHEMA_VERSION,
  SecurityEventInputSchema,
  computeEventMac,
  describeIssues,
  toIssues,
  topicNames,
  type EventType,
  type Outcome,
  type Severity,
} from '@vigil/contracts';

/** Why an event did not leave the process. */
export type DropReason = 'buffer_full' | 'invalid_event' | 'closed';

export interface DropInfo {
  reason: DropReason;
  eventId: string;
  detail?: string;
}

export interface SecurityLoggerOptions {
  /** Name of the producing application (source.application). */
  application: string;
  environment?: string;
  hostname?: string;
  /** Kafka brokers; omit to write only to `file`. */
  brokers?: string[];
  /** Raw topic override; by default security.events.raw under `topicNamespace`. */
  topic?: string;
  topicNamespace?: string;
  clientId?: string;
  ssl?: boolean;
  sasl?: { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string };
  /** Sign every event with HMAC-SHA256 (ingest verifies it). */
  signing?: { keyId: string; key: Buffer };
  /** Most events held while the broker is unreachable; beyond it new events are dropped. */
  maxBufferedEvents?: number; // default 10 000
  /** Most bytes held while the broker is unreachable. */
  maxBufferedBytes?: number; // default 16 MiB
  batchSize?: number; // default 500 events per send
  flushIntervalMs?: number; // default 200 ms
  /** Also append every event as one JSON line to this file. */
  file?: string;
  /** Called for every dropped event (never throws back into the caller). */
  onDrop?: (info: DropInfo) => void;
  /** Where the SDK reports its own trouble; default console.warn. */
  warn?: (message: string, detail?: Record<string, unknown>) => void;
}

/** What a caller supplies for one event; the SDK fills id, time, source and signature. */
export interface LogEventInput {
  eventType: EventType;
  severity: Severity;
  action: string;
  outcome?: Outcome;
  actor?: { type?: 'user' | 'service' | 'system'; userId?: string; username?: string; ip?: string; sessionId?: string; userAgent?: string };
  /** Source IP of the request (source.ip). */
  sourceIp?: string;
  target?: { type?: string; id?: string; name?: string; resource?: string };
  details?: Record<string, unknown>;
  tags?: string[];
  correlationId?: string;
  /** Event time; default now. */
  timestamp?: Date;
  eventId?: string;
}

export interface LoggerStats {
  buffered: number;
  sent: number;
  dropped: number;
  failedSends: number;
}

interface Pending {
  id: string;
  value: string;
  key: string;
}

const DEFAULTS = {
  maxBufferedEvents: 10_000,
  maxBufferedBytes: 16 * 1024 * 1024, // 16 MiB
  batchSize: 500,
  flushIntervalMs: 200,
};

/**
 * The security logger. `logEvent` is synchronous and cheap: it builds, validates and queues the
 * event and returns its id. A background loop publishes batches; a broker outage costs buffer
 * space (bounded), then counted drops, and never an exception in the caller's request path.
 */
export class SecurityLogger {
  private readonly opts: SecurityLoggerOptions & typeof DEFAULTS;
  private readonly topic: string;
  private readonly producer: Producer | null;
  private readonly file: WriteStream | null;
  private readonly queue: Pending[] = [];
  private queuedBytes = 0;
  private connected = false;
  private closed = false;
  private flushing: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private backoffUntil = 0;
  private backoffMs = 0;
  private readonly counts = { sent: 0, dropped: 0, failedSends: 0 };

  constructor(options: SecurityLoggerOptions) {
    this.opts = { ...DEFAULTS, ...options };
    this.topic = options.topic ?? topicNames(options.topicNamespace).eventsRaw;
    this.producer = options.brokers?.length
      ? new Kafka({
          clientId: options.clientId ?? `security-logger-${options.application}`.slice(0, 100),
          brokers: options.brokers,
          logLevel: logLevel.NOTHING,
          connectionTimeout: 3_000,
          ...(options.ssl ? { ssl: true } : {}),
          ...(options.sasl ? { sasl: options.sasl as never } : {}),
          retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 1_000 },
        }).producer({
          idempotent: true,
          maxInFlightRequests: 1,
          allowAutoTopicCreation: false,
          createPartitioner: Partitioners.DefaultPartitioner,
        })
      : null;
    this.file = options.file ? createWriteStream(options.file, { flags: 'a' }) : null;
    this.file?.on('error', (err) => this.warn('file output failed', { error: err.message }));
    this.timer = setInterval(() => void this.flush(), this.opts.flushIntervalMs);
    this.timer.unref();
  }

  get stats(): LoggerStats {
    return { buffered: this.queue.length, ...this.counts };
  }

  /** Queues one event; returns its id. Never throws. */
  logEvent(input: LogEventInput): string {
    const id = input.eventId ?? randomUUID();
    try {
      if (this.closed) return this.drop({ reason: 'closed', eventId: id });
      const event = this.build(id, input);
      const check = SecurityEventInputSchema.safeParse(event);
      if (!check.success) return this.drop({ reason: 'invalid_event', eventId: id, detail: describeIssues(toIssues(check.error)) });
      const value = JSON.stringify(event);
      this.file?.write(`${value}\n`);
      if (!this.producer) return id;
      if (this.queue.length >= this.opts.maxBufferedEvents || this.queuedBytes + value.length > this.opts.maxBufferedBytes) {
        return this.drop({ reason: 'buffer_full', eventId: id });
      }
      this.queue.push({ id, value, key: input.sourceIp ?? input.actor?.userId ?? id });
      this.queuedBytes += value.length;
      if (this.queue.length >= this.opts.batchSize) void this.flush();
    } catch (err) {
      this.drop({ reason: 'invalid_event', eventId: id, detail: (err as Error).message });
    }
    return id;
  }

  authentication(
    p: { userId?: string; username?: string; outcome: Outcome; sourceIp?: string; method?: string; severity?: Severity } & Extra,
  ): string {
    return this.logEvent({
      ...extra(p),
      eventType: 'authentication',
      severity: p.severity ?? (p.outcome === 'success' ? 'info' : 'medium'),
      action: p.action ?? 'login',
      outcome: p.outcome,
      actor: { type: 'user', ...defined({ userId: p.userId, username: p.username }) },
      ...defined({ sourceIp: p.sourceIp }),
      details: { ...(p.method ? { method: p.method } : {}), ...p.details },
    });
  }

  authorization(
    p: { userId: string; resource: string; permission: string; granted: boolean; sourceIp?: string; severity?: Severity } & Extra,
  ): string {
    return this.logEvent({
      ...extra(p),
      eventType: 'authorization',
      severity: p.severity ?? (p.granted ? 'info' : 'medium'),
      action: p.action ?? p.permission,
      outcome: p.granted ? 'success' : 'denied',
      actor: { type: 'user', userId: p.userId },
      ...defined({ sourceIp: p.sourceIp }),
      target: { resource: p.resource },
      details: { permission: p.permission, ...p.details },
    });
  }

  dataAccess(
    p: {
      userId: string;
      resource: string;
      operation: string;
      records?: number;
      sourceIp?: string;
      outcome?: Outcome;
      severity?: Severity;
    } & Extra,
  ): string {
    return this.logEvent({
      ...extra(p),
      eventType: 'data_access',
      severity: p.severity ?? 'info',
      action: p.action ?? p.operation,
      outcome: p.outcome ?? 'success',
      actor: { type: 'user', userId: p.userId },
      ...defined({ sourceIp: p.sourceIp }),
      target: { resource: p.resource },
      details: { operation: p.operation, ...(p.records !== undefined ? { records: p.records } : {}), ...p.details },
    });
  }

  configurationChange(
    p: { userId: string; setting: string; oldValue?: unknown; newValue?: unknown; sourceIp?: string; severity?: Severity } & Extra,
  ): string {
    return this.logEvent({
      ...extra(p),
      eventType: 'configuration_change',
      severity: p.severity ?? 'medium',
      action: p.action ?? 'update',
      outcome: 'success',
      actor: { type: 'user', userId: p.userId },
      ...defined({ sourceIp: p.sourceIp }),
      target: { type: 'setting', name: p.setting },
      details: { old_value: p.oldValue ?? null, new_value: p.newValue ?? null, ...p.details },
    });
  }

  securityAlert(p: { alertType: string; description: string; severity: Severity; sourceIp?: string; userId?: string } & Extra): string {
    return this.logEvent({
      ...extra(p),
      eventType: 'security_alert',
      severity: p.severity,
      action: p.action ?? p.alertType,
      outcome: 'unknown',
      ...(p.userId ? { actor: { type: 'user' as const, userId: p.userId } } : {}),
      ...defined({ sourceIp: p.sourceIp }),
      details: { alert_type: p.alertType, description: p.description, ...p.details },
    });
  }

  /** Publishes everything queued now (resolves once sent, or once a send attempt failed). */
  flush(): Promise<void> {
    if (!this.flushing) this.flushing = this.drain().finally(() => (this.flushing = null));
    return this.flushing;
  }

  /** Flushes (waiting up to `timeoutMs` for the broker), then disconnects. Safe to call twice. */
  async close(timeoutMs = 10_000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    const until = Date.now() + timeoutMs;
    while (this.queue.length > 0 && Date.now() < until) {
      this.backoffUntil = 0;
      await this.flush();
      if (this.queue.length > 0) await new Promise((r) => setTimeout(r, 200));
    }
    for (const p of this.queue.splice(0)) this.drop({ reason: 'closed', eventId: p.id });
    this.queuedBytes = 0;
    if (this.producer && this.connected) await this.producer.disconnect().catch(() => undefined);
    if (this.file) await new Promise<void>((r) => this.file!.end(r));
  }

  private async drain(): Promise<void> {
    if (!this.producer) return;
    while (this.queue.length > 0 && Date.now() >= this.backoffUntil) {
      const batch = this.queue.slice(0, this.opts.batchSize);
      try {
        if (!this.connected) {
          await this.producer.connect();
          this.connected = true;
        }
        await this.producer.send({ topic: this.topic, acks: -1, messages: batch.map((p) => ({ key: p.key, value: p.value })) });
        this.queue.splice(0, batch.length);
        for (const p of batch) this.queuedBytes -= p.value.length;
        this.counts.sent += batch.length;
        this.backoffMs = 0;
      } catch (err) {
        this.counts.failedSends++;
        this.connected = false;
        await this.producer.disconnect().catch(() => undefined);
        this.backoffMs = Math.min(30_000, this.backoffMs ? this.backoffMs * 2 : 500);
        this.backoffUntil = Date.now() + this.backoffMs;
        this.warn('publishing security events failed; holding them in the buffer', {
          error: (err as Error).message,
          buffered: this.queue.length,
          retryInMs: this.backoffMs,
        });
        return;
      }
    }
  }

  private build(id: string, input: LogEventInput): Record<string, unknown> {
    const a = input.actor;
    const event: Record<string, unknown> = {
      schema_version: EVENT_SCHEMA_VERSION,
      event_id: id,
      timestamp: (input.timestamp ?? new Date()).toISOString(),
      event_type: input.eventType,
      severity: input.severity,
      source: {
        application: this.opts.application,
        ...defined({ environment: this.opts.environment, ip: input.sourceIp }),
        hostname: this.opts.hostname ?? osHostname(),
      },
      ...(a
        ? {
            actor: {
              type: a.type ?? (a.userId || a.username ? 'user' : 'system'),
              ...defined({ user_id: a.userId, username: a.username, ip: a.ip, session_id: a.sessionId, user_agent: a.userAgent }),
            },
          }
        : {}),
      action: input.action,
      outcome: input.outcome ?? 'unknown',
      ...(input.target ? { target: defined(input.target) } : {}),
      details: input.details ?? {},
      tags: input.tags ?? [],
      ...(input.correlationId ? { correlation_id: input.correlationId } : {}),
    };
    if (this.opts.signing) {
      event.integrity = { alg: 'hmac-sha256', key_id: this.opts.signing.keyId, mac: computeEventMac(event, this.opts.signing.key) };
    }
    return event;
  }

  private drop(info: DropInfo): string {
    this.counts.dropped++;
    try {
      this.opts.onDrop?.(info);
    } catch {
      // a throwing callback must not reach the caller either
    }
    if (info.reason === 'invalid_event') this.warn('security event dropped: invalid', { eventId: info.eventId, detail: info.detail });
    return info.eventId;
  }

  private warn(message: string, detail?: Record<string, unknown>): void {
    try {
      if (this.opts.warn) this.opts.warn(message, detail);
      else console.warn(`[security-logger] ${message}`, detail ?? '');
    } catch {
      // ignore
    }
  }
}

type Extra = {
  action?: string;
  details?: Record<string, unknown>;
  tags?: string[];
  correlationId?: string;
  timestamp?: Date;
  eventId?: string;
};

function extra(p: Extra): Partial<LogEventInput> {
  return defined({ tags: p.tags, correlationId: p.correlationId, timestamp: p.timestamp, eventId: p.eventId });
}

/** Drops undefined values so optional fields are absent, not `undefined`. */
function defined<T extends Record<string, unknown>>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}
