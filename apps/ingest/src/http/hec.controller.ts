import { randomUUID } from 'node:crypto';
import { Controller, Get, Inject, Post, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { errorMessage, type OutMessage } from '@vigil/kafka';
import { CONFIG, LOGGER, METRICS, type Counter, type Logger, type Metrics } from '@vigil/runtime';
import { HttpIngestMetrics } from '../metrics';
import type { IngestConfig } from '../config';
import { HEC, envelopeToRawEvent, ndjsonLines, splitConcatenatedJson, type HecAnswerName, type TokenScope } from '../domain/hec';
import { validateRawEvent, type ValidateOptions } from '../domain/validate';
import { readBody } from './body';
import { RawEventProducer } from './raw-producer';
import { TokenStore, bearerAuth, hecAuth } from './tokens';

const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

type Endpoint = 'hec' | 'ndjson';

/**
 * HTTP ingest: a Splunk HEC-compatible endpoint (so Vector, Fluent Bit, the OpenTelemetry
 * Collector and Splunk's logging libraries can send without new code) and plain NDJSON. Events go
 * to the raw topic with acks=all before the answer says so, then through the same validation as
 * every producer's events. Bodies are read here, bounded (the JSON body parser skips these paths).
 */
@Controller()
export class HttpIngestController {
  private readonly tokens: TokenStore;
  private inFlight = 0;
  private readonly requests: Counter<'endpoint' | 'code'>;
  private readonly refused: Counter<'endpoint' | 'reason'>;
  private readonly events: Counter<'endpoint' | 'outcome'>;

  constructor(
    @Inject(CONFIG) private readonly config: IngestConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(METRICS) metrics: Metrics,
    private readonly producer: RawEventProducer,
  ) {
    this.tokens = new TokenStore(config.http!.tokens);
    const m = new HttpIngestMetrics(metrics);
    this.requests = m.requests;
    this.refused = m.refused;
    this.events = m.events;
  }

  @Get(['services/collector/health', 'services/collector/health/1.0'])
  health(@Res() res: Response): void {
    this.answer(res, 'hec', this.producer.healthy ? 'healthy' : 'unhealthy', {}, false);
  }

  @Post('services/collector/ack')
  ack(@Req() req: Request, @Res() res: Response): void {
    const auth = hecAuth(req.headers.authorization, this.tokens);
    // A 200 from this endpoint already means "stored" (acks=all), so indexer acknowledgement is off.
    this.answer(res, 'hec', auth.ok ? 'ackDisabled' : auth.answer);
  }

  @Post(['services/collector/event', 'services/collector/event/1.0', 'services/collector'])
  async hec(@Req() req: Request, @Res() res: Response): Promise<void> {
    const auth = hecAuth(req.headers.authorization, this.tokens);
    if (!auth.ok) return this.answer(res, 'hec', auth.answer, {}, true);
    const channel = req.headers['x-splunk-request-channel'] ?? (typeof req.query.channel === 'string' ? req.query.channel : undefined);
    if (channel !== undefined && (typeof channel !== 'string' || !GUID.test(channel)))
      return this.answer(res, 'hec', 'invalidChannel', {}, true);
    await this.bounded(res, 'hec', async () => {
      const text = await this.text(req, res, 'hec');
      if (text === null) return;
      if (text.trim() === '') return this.answer(res, 'hec', 'noData');
      const http = this.config.http!;
      const parts = splitConcatenatedJson(text, http.maxEvents + 1);
      const scope: TokenScope = { name: auth.token.name, indexes: auth.token.indexes, sources: auth.token.sources };
      const now = Date.now();
      const opts = this.validateOptions(now);
      const out: OutMessage[] = [];
      let stop: { index: number; answer: HecAnswerName; reason: string } | null = null;
      for (let i = 0; i < parts.length; i++) {
        const p = parts[i]!;
        if (i >= http.maxEvents) {
          stop = { index: i, answer: 'invalidDataFormat', reason: `more than ${http.maxEvents} events in one request` };
          break;
        }
        if (!p.ok) {
          stop = { index: i, answer: 'invalidDataFormat', reason: 'not a JSON object' };
          break;
        }
        const env = envelopeToRawEvent(p.value, scope, opts.receivedAt);
        if (!env.ok) {
          stop = { index: i, answer: env.answer, reason: env.reason };
          break;
        }
        const msg = this.checked(env.raw, opts, auth.token.name, 'hec');
        if (!msg.ok) {
          stop = { index: i, answer: 'invalidDataFormat', reason: msg.reason };
          break;
        }
        out.push(msg.message);
      }
      // As HEC does: the events before an invalid one are kept (here: stored before answering), the rest not read.
      if (!(await this.store(res, 'hec', out))) return;
      if (!stop) return this.answer(res, 'hec', 'success');
      this.events.inc({ endpoint: 'hec', outcome: 'refused' });
      this.refused.inc({ endpoint: 'hec', reason: stop.answer });
      this.logger.debug({ token: auth.token.name, index: stop.index, reason: stop.reason, stored: out.length }, 'hec event refused');
      this.answer(res, 'hec', stop.answer, { 'invalid-event-number': stop.index }, false);
    });
  }

  @Post('api/v1/events')
  async ndjson(@Req() req: Request, @Res() res: Response): Promise<void> {
    const auth = bearerAuth(req.headers.authorization, this.tokens);
    if (!auth.ok) {
      const status = auth.answer === 'invalidToken' ? 403 : 401;
      this.count('ndjson', status, auth.answer);
      res.status(status).setHeader('WWW-Authenticate', 'Bearer');
      res.json({ error: auth.answer === 'invalidToken' ? 'invalid token' : 'a bearer token is required' });
      return;
    }
    await this.bounded(res, 'ndjson', async () => {
      const text = await this.text(req, res, 'ndjson');
      if (text === null) return;
      const http = this.config.http!;
      const lines = ndjsonLines(text, http.maxEvents);
      if (lines === null) return this.fail(res, 'ndjson', 413, 'too_many_events', `more than ${http.maxEvents} lines in one request`);
      if (lines.length === 0) return this.fail(res, 'ndjson', 400, 'no_data', 'the body holds no events');
      const scope: TokenScope = { name: auth.token.name, indexes: [], sources: auth.token.sources };
      const opts = this.validateOptions(Date.now());
      const out: OutMessage[] = [];
      const results: Array<Record<string, unknown>> = [];
      for (const { line, text: t } of lines) {
        let value: unknown;
        try {
          value = JSON.parse(t);
        } catch (err) {
          results.push({ line, status: 'refused', reason: `not JSON: ${errorMessage(err).slice(0, 200)}` });
          continue;
        }
        const app = (value as { source?: { application?: unknown } } | null)?.source?.application;
        if (scope.sources.length > 0 && (typeof app !== 'string' || !scope.sources.includes(app))) {
          results.push({
            line,
            status: 'refused',
            reason: `token "${scope.name}" may not send events of source.application ${JSON.stringify(app ?? null)}`,
          });
          continue;
        }
        const msg = this.checked(value as Record<string, unknown>, opts, auth.token.name, 'ndjson', Buffer.from(t, 'utf8'));
        if (!msg.ok) {
          results.push({ line, status: 'refused', reason: msg.reason, issues: msg.issues });
          continue;
        }
        out.push(msg.message);
        results.push({ line, status: 'accepted' });
      }
      if (!(await this.store(res, 'ndjson', out, true))) return;
      const refused = results.length - out.length;
      if (refused > 0) {
        this.events.inc({ endpoint: 'ndjson', outcome: 'refused' }, refused);
        this.refused.inc({ endpoint: 'ndjson', reason: 'invalid_event' }, refused);
      }
      const status = refused === 0 ? 200 : out.length === 0 ? 400 : 207;
      this.requests.inc({ endpoint: 'ndjson', code: String(status) });
      res.status(status).json({ accepted: out.length, refused, results });
    });
  }

  /** Validation options as the pipeline uses them (the id is a placeholder: the pipeline assigns the real one). */
  private validateOptions(nowMs: number): ValidateOptions {
    const env = this.config.env;
    return {
      limits: { maxBytes: env.INGEST_MAX_MESSAGE_BYTES, maxDepth: env.INGEST_MAX_DEPTH },
      nowMs,
      receivedAt: new Date(nowMs).toISOString(),
      futureToleranceMs: env.INGEST_FUTURE_TOLERANCE_SECONDS * 1000,
      fallbackEventId: () => randomUUID(),
      integrity: this.config.integrity,
      keys: this.config.keys,
    };
  }

  /** The raw event as it goes on the raw topic, if the ingest pipeline would accept it. */
  private checked(
    raw: Record<string, unknown>,
    opts: ValidateOptions,
    token: string,
    via: Endpoint,
    bytes: Buffer = Buffer.from(JSON.stringify(raw), 'utf8'),
  ): { ok: true; message: OutMessage } | { ok: false; reason: string; issues: unknown } {
    const r = validateRawEvent(bytes, opts);
    if (!r.ok) return { ok: false, reason: `${r.kind}: ${r.reason}`, issues: r.issues };
    // Same partition key as the SDK uses: the source address, else the user, else spread.
    const key = r.event.source.ip ?? r.event.actor?.user_id ?? null;
    return {
      ok: true,
      message: { topic: this.producer.topics.eventsRaw, key, value: bytes, headers: { 'vigil-via': via, 'vigil-token': token } },
    };
  }

  /** Stores accepted events (acks=all); on failure answers busy and returns false. */
  private async store(res: Response, endpoint: Endpoint, out: OutMessage[], json = false): Promise<boolean> {
    if (out.length === 0) return true;
    try {
      await this.producer.send(out);
      this.events.inc({ endpoint, outcome: 'accepted' }, out.length);
      return true;
    } catch (err) {
      this.logger.warn({ endpoint, events: out.length, err: errorMessage(err) }, 'http ingest could not store events; answered busy');
      if (json) this.fail(res, endpoint, 503, 'server_busy', 'Kafka is unavailable; retry later', true);
      else this.answer(res, endpoint, 'serverBusy', {}, true);
      return false;
    }
  }

  /** Runs a request within the in-flight bound, and only while Kafka is reachable. */
  private async bounded(res: Response, endpoint: Endpoint, work: () => Promise<void>): Promise<void> {
    if (!this.producer.canSend || this.inFlight >= this.config.http!.maxInFlight) {
      if (endpoint === 'hec') return this.answer(res, endpoint, 'serverBusy', {}, true, true);
      return this.fail(res, endpoint, 503, 'server_busy', 'Kafka is unavailable or the service is busy; retry later', true, true);
    }
    this.inFlight++;
    try {
      await work();
    } catch (err) {
      this.logger.error({ endpoint, err: errorMessage(err) }, 'http ingest request failed');
      if (!res.headersSent)
        res.status(500).json(endpoint === 'hec' ? { text: 'Internal server error', code: 8 } : { error: 'internal error' });
    } finally {
      this.inFlight--;
    }
  }

  /** The body as text, or null after answering (too large, bad encoding, not UTF-8). */
  private async text(req: Request, res: Response, endpoint: Endpoint): Promise<string | null> {
    const max = this.config.http!.maxBodyBytes;
    const body = await readBody(req, max);
    if (!body.ok) {
      if (body.problem === 'aborted') {
        this.refused.inc({ endpoint, reason: 'aborted' });
        res.destroy();
        return null;
      }
      if (body.problem === 'too_large') {
        this.refused.inc({ endpoint, reason: 'too_large' });
        this.requests.inc({ endpoint, code: '413' });
        res.status(413).setHeader('Connection', 'close');
        res.json(
          endpoint === 'hec'
            ? { text: `Content-Length of ${body.size ?? 'the body'} too large (maximum is ${max})`, code: 413 }
            : { error: `the body is over ${max} bytes` },
        );
        return null;
      }
      if (endpoint === 'hec') this.answer(res, endpoint, 'invalidDataFormat', { 'invalid-event-number': 0 }, true);
      else this.fail(res, endpoint, 415, 'bad_encoding', 'Content-Encoding must be gzip or none');
      return null;
    }
    try {
      return utf8.decode(body.bytes);
    } catch {
      if (endpoint === 'hec') this.answer(res, endpoint, 'invalidDataFormat', { 'invalid-event-number': 0 }, true);
      else this.fail(res, endpoint, 400, 'invalid_utf8', 'the body is not UTF-8');
      return null;
    }
  }

  private answer(
    res: Response,
    endpoint: Endpoint,
    name: HecAnswerName,
    extra: Record<string, unknown> = {},
    countRefusal = name !== 'success' && name !== 'healthy',
    close = false,
  ): void {
    const a = HEC[name];
    if (countRefusal && a.status >= 400) this.refused.inc({ endpoint, reason: name });
    this.requests.inc({ endpoint, code: String(a.status) });
    if (close) res.setHeader('Connection', 'close');
    res.status(a.status).json({ text: a.text, code: a.code, ...extra });
  }

  private fail(res: Response, endpoint: Endpoint, status: number, reason: string, message: string, retry = false, close = false): void {
    this.count(endpoint, status, reason);
    if (retry) res.setHeader('Retry-After', '1');
    if (close) res.setHeader('Connection', 'close');
    res.status(status).json({ error: message });
  }

  private count(endpoint: Endpoint, status: number, reason: string): void {
    this.refused.inc({ endpoint, reason });
    this.requests.inc({ endpoint, code: String(status) });
  }
}
