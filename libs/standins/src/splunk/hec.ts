import { ControllableServer, headerOf, type StandinReply, type StandinRequest } from '../controllable/server';

/** A HEC token as configured in Splunk (inputs.conf [http://<name>]). */
export interface HecTokenSpec {
  /** Disabled tokens answer 403 code 1. */
  enabled?: boolean;
  /** useACK: indexer acknowledgement on this token. */
  ack?: boolean;
  /** Indexes the token may write to; empty/absent = any. */
  indexes?: string[];
  /** Where events without an index go. */
  defaultIndex?: string;
}

export interface SplunkStandinOptions {
  port?: number;
  tokens: Record<string, HecTokenSpec>;
  /** [http] max_content_length: larger requests get 413. */
  maxContentLength?: number;
  /** Keep event bodies (tests) or only count and index ids (benchmarks). */
  keepEvents?: boolean;
}

/** One event as HEC indexed it. */
export interface HecStoredEvent {
  token: string;
  channel?: string | undefined;
  index: string;
  time?: number | undefined;
  host?: string | undefined;
  source?: string | undefined;
  sourcetype?: string | undefined;
  event: unknown;
}

/** The documented HEC answers (Splunk docs, "Troubleshoot HTTP Event Collector", status codes). */
const HEC = {
  success: { status: 200, code: 0, text: 'Success' },
  tokenDisabled: { status: 403, code: 1, text: 'Token disabled' },
  tokenRequired: { status: 401, code: 2, text: 'Token is required' },
  invalidAuthorization: { status: 401, code: 3, text: 'Invalid authorization' },
  invalidToken: { status: 403, code: 4, text: 'Invalid token' },
  noData: { status: 400, code: 5, text: 'No data' },
  invalidDataFormat: { status: 400, code: 6, text: 'Invalid data format' },
  incorrectIndex: { status: 400, code: 7, text: 'Incorrect index' },
  internalError: { status: 500, code: 8, text: 'Internal server error' },
  serverBusy: { status: 503, code: 9, text: 'Server is busy' },
  channelMissing: { status: 400, code: 10, text: 'Data channel is missing' },
  invalidChannel: { status: 400, code: 11, text: 'Invalid data channel' },
  eventRequired: { status: 400, code: 12, text: 'Event field is required' },
  eventBlank: { status: 400, code: 13, text: 'Event field cannot be blank' },
  ackDisabled: { status: 400, code: 14, text: 'ACK is disabled' },
} as const;
type HecAnswer = (typeof HEC)[keyof typeof HEC];

function answer(a: HecAnswer, extra: Record<string, unknown> = {}): StandinReply {
  return { status: a.status, body: { text: a.text, code: a.code, ...extra } };
}

const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** Splits a body of concatenated JSON values ("{...}{...}" or one per line) without trusting it. */
function splitConcatenatedJson(text: string): Array<{ ok: true; value: unknown } | { ok: false }> {
  const out: Array<{ ok: true; value: unknown } | { ok: false }> = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    while (i < n && /\s/.test(text[i]!)) i++;
    if (i >= n) break;
    if (text[i] !== '{') {
      out.push({ ok: false });
      return out;
    }
    let depth = 0;
    let inString = false;
    let j = i;
    for (; j < n; j++) {
      const c = text[j];
      if (inString) {
        if (c === '\\') j++;
        else if (c === '"') inString = false;
      } else if (c === '"') inString = true;
      else if (c === '{' || c === '[') depth++;
      else if (c === '}' || c === ']') {
        depth--;
        if (depth === 0) break;
      }
    }
    if (j >= n) {
      out.push({ ok: false });
      return out;
    }
    try {
      out.push({ ok: true, value: JSON.parse(text.slice(i, j + 1)) });
    } catch {
      out.push({ ok: false });
      return out;
    }
    i = j + 1;
  }
  return out;
}

/**
 * Splunk HTTP Event Collector stand-in: POST /services/collector/event (several event objects per
 * body), /services/collector/ack, /services/collector/health. Faithful to the documented answers:
 * token checks (401 code 2/3, 403 code 1/4), channel rules when acknowledgement is on (400 code
 * 10/11), per-event validation that stops at the first bad event with `invalid-event-number` (the
 * events before it are indexed), ackIds per channel that read true once indexed and are then
 * forgotten, 413 over max_content_length. Controls: busyNext, holdAcks/releaseAcks, disableToken,
 * plus the server's goDown/comeBack/latency/failNext.
 */
export class SplunkStandin {
  readonly server: ControllableServer;
  private readonly stored: HecStoredEvent[] = [];
  private storedCount = 0;
  private readonly indexed = new Map<string, number>(); // event id (when the event has one) → times indexed
  /** Per channel: next ack id, and ack ids not yet reported (id → indexed?). */
  private readonly channels = new Map<string, { next: number; pending: Map<number, boolean> }>();
  private acksHeld = false;
  private readonly tokens: Map<string, HecTokenSpec>;

  private constructor(
    server: ControllableServer,
    private readonly opts: SplunkStandinOptions,
  ) {
    // Copies: controls like disableToken() must not change the caller's object.
    this.tokens = new Map(Object.entries(opts.tokens).map(([k, v]) => [k, { ...v }]));
    this.server = server;
  }

  static async start(opts: SplunkStandinOptions): Promise<SplunkStandin> {
    const holder: { s?: SplunkStandin } = {};
    const max = opts.maxContentLength ?? 838_860_800; // Splunk's default [http] max_content_length
    const server = await ControllableServer.start((req) => holder.s!.handle(req), {
      port: opts.port,
      maxBody: max,
      tooLarge: (size) => ({ status: 413, body: { text: `Content-Length of ${size} too large (maximum is ${max})`, code: 413 } }),
    });
    const standin = new SplunkStandin(server, opts);
    holder.s = standin;
    return standin;
  }

  get url(): string {
    return this.server.url;
  }

  /** Events indexed so far (bodies kept only with keepEvents, the default). */
  events(): readonly HecStoredEvent[] {
    return this.stored;
  }

  get eventCount(): number {
    return this.storedCount;
  }

  /** How many times an event with this event_id / alert_id was indexed (HEC has no dedup). */
  timesIndexed(id: string): number {
    return this.indexed.get(id) ?? 0;
  }

  /** The next `n` event requests answer 503 code 9 "Server is busy". */
  busyNext(n: number): void {
    this.server.failNext(
      n,
      answer(HEC.serverBusy),
      (r) => r.path.startsWith('/services/collector/event') || r.path === '/services/collector',
    );
  }

  /** Acks stay false (events accepted but not reported indexed) until releaseAcks(). */
  holdAcks(): void {
    this.acksHeld = true;
  }

  releaseAcks(): void {
    this.acksHeld = false;
    for (const ch of this.channels.values()) for (const id of ch.pending.keys()) ch.pending.set(id, true);
  }

  /** Acks issued and not yet reported true to the client. */
  get unreportedAcks(): number {
    let n = 0;
    for (const ch of this.channels.values()) n += ch.pending.size;
    return n;
  }

  disableToken(token: string): void {
    const t = this.tokens.get(token);
    if (t) t.enabled = false;
  }

  async close(): Promise<void> {
    await this.server.close();
  }

  private handle(req: StandinRequest): StandinReply {
    if (req.path === '/services/collector/health' || req.path === '/services/collector/health/1.0') {
      return { status: 200, body: { text: 'HEC is healthy', code: 17 } };
    }
    const isEvent =
      req.path === '/services/collector/event' || req.path === '/services/collector/event/1.0' || req.path === '/services/collector';
    const isAck = req.path === '/services/collector/ack';
    if (!isEvent && !isAck) return { status: 404, body: { text: 'The requested URL was not found on this server.', code: 404 } };
    if (req.method !== 'POST') return { status: 405, body: { text: 'Method Not Allowed', code: 405 } };

    // Authorization: Splunk <token> (HEC also takes Basic with the token as password).
    const auth = headerOf(req, 'authorization');
    if (!auth) return answer(HEC.tokenRequired);
    let token: string | undefined;
    const m = /^Splunk\s+(\S+)$/.exec(auth);
    if (m) token = m[1];
    else if (/^Basic\s+/i.test(auth)) {
      const decoded = Buffer.from(auth.replace(/^Basic\s+/i, ''), 'base64').toString('utf8');
      token = decoded.includes(':') ? decoded.slice(decoded.indexOf(':') + 1) : undefined;
    }
    if (!token) return answer(HEC.invalidAuthorization);
    const spec = this.tokens.get(token);
    if (!spec) return answer(HEC.invalidToken);
    if (spec.enabled === false) return answer(HEC.tokenDisabled);

    const channel = headerOf(req, 'x-splunk-request-channel') ?? req.query.get('channel') ?? undefined;
    if (channel !== undefined && !GUID.test(channel)) return answer(HEC.invalidChannel);
    if (isAck) return this.ackQuery(spec, channel, req.body);
    if (spec.ack && channel === undefined) return answer(HEC.channelMissing);

    const text = req.body.toString('utf8');
    if (text.trim().length === 0) return answer(HEC.noData);
    const parts = splitConcatenatedJson(text);
    let accepted = 0;
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      const problem = p.ok ? this.validate(p.value, spec) : HEC.invalidDataFormat;
      if (problem) return answer(problem, { 'invalid-event-number': i });
      this.index(p.ok ? (p.value as Record<string, unknown>) : {}, token, channel, spec);
      accepted++;
    }
    if (accepted === 0) return answer(HEC.noData);
    if (!spec.ack) return answer(HEC.success);
    const ch = this.channel(channel!);
    const ackId = ch.next++;
    ch.pending.set(ackId, !this.acksHeld);
    return answer(HEC.success, { ackId });
  }

  /** The checks HEC applies to each event object, in order; null when it is fine. */
  private validate(v: unknown, spec: HecTokenSpec): HecAnswer | null {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return HEC.invalidDataFormat;
    const e = v as Record<string, unknown>;
    if (!('event' in e)) return HEC.eventRequired;
    if (
      e.event === null ||
      e.event === '' ||
      (typeof e.event === 'object' && !Array.isArray(e.event) && Object.keys(e.event as object).length === 0)
    ) {
      return HEC.eventBlank;
    }
    if (
      e.time !== undefined &&
      !(typeof e.time === 'number' && Number.isFinite(e.time)) &&
      !(typeof e.time === 'string' && /^\d+(\.\d+)?$/.test(e.time))
    ) {
      return HEC.invalidDataFormat;
    }
    for (const k of ['host', 'source', 'sourcetype', 'index'] as const)
      if (e[k] !== undefined && typeof e[k] !== 'string') return HEC.invalidDataFormat;
    if (e.fields !== undefined) {
      if (e.fields === null || typeof e.fields !== 'object' || Array.isArray(e.fields)) return HEC.invalidDataFormat;
      for (const fv of Object.values(e.fields as object)) {
        if (fv !== null && typeof fv === 'object' && !Array.isArray(fv)) return HEC.invalidDataFormat; // indexed fields are flat
      }
    }
    if (typeof e.index === 'string' && spec.indexes && spec.indexes.length > 0 && !spec.indexes.includes(e.index))
      return HEC.incorrectIndex;
    return null;
  }

  private index(e: Record<string, unknown>, token: string, channel: string | undefined, spec: HecTokenSpec): void {
    this.storedCount++;
    const ev = e.event as Record<string, unknown> | null;
    const id = ev && typeof ev === 'object' ? (ev.event_id ?? ev.alert_id) : undefined;
    if (typeof id === 'string') this.indexed.set(id, (this.indexed.get(id) ?? 0) + 1);
    if (this.opts.keepEvents === false) return;
    this.stored.push({
      token,
      channel,
      index: typeof e.index === 'string' ? e.index : (spec.defaultIndex ?? 'main'),
      time: typeof e.time === 'number' ? e.time : typeof e.time === 'string' ? Number(e.time) : undefined,
      host: e.host as string | undefined,
      source: e.source as string | undefined,
      sourcetype: e.sourcetype as string | undefined,
      event: e.event,
    });
  }

  private channel(id: string): { next: number; pending: Map<number, boolean> } {
    let ch = this.channels.get(id);
    if (!ch) {
      ch = { next: 0, pending: new Map() };
      this.channels.set(id, ch);
    }
    return ch;
  }

  /** POST /services/collector/ack {"acks":[ids]} → {"acks":{"id":bool}}; a true is reported once. */
  private ackQuery(spec: HecTokenSpec, channel: string | undefined, body: Buffer): StandinReply {
    if (!spec.ack) return answer(HEC.ackDisabled);
    if (channel === undefined) return answer(HEC.channelMissing);
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      return answer(HEC.invalidDataFormat);
    }
    const ids = (parsed as { acks?: unknown } | null)?.acks;
    if (!Array.isArray(ids) || !ids.every((x) => Number.isInteger(x) && x >= 0)) return answer(HEC.invalidDataFormat);
    const ch = this.channel(channel);
    const acks: Record<string, boolean> = {};
    for (const id of ids as number[]) {
      const done = ch.pending.get(id) === true;
      acks[String(id)] = done;
      if (done) ch.pending.delete(id);
    }
    return { status: 200, body: { acks } };
  }
}
