import { ControllableServer, headerOf, type StandinReply, type StandinRequest } from '../controllable/server';

/** Field types of the stand-in's dynamic mapping (a subset of Elasticsearch's). */
export type EsFieldType = 'long' | 'double' | 'boolean' | 'keyword' | 'text' | 'date' | 'object';

export interface EsStandinOptions {
  port?: number;
  /** Accepted API keys, as the `encoded` value (base64 of id:key) sent in `Authorization: ApiKey`. */
  apiKeys?: string[];
  /** Accepted users for basic auth. */
  users?: Record<string, string>;
  /** http.max_content_length (default 100mb): larger requests get 413. */
  maxContentLength?: number;
  /** Explicit mappings by dotted field path, applied to every index (like an index template). */
  mappings?: Record<string, EsFieldType>;
  /** Keep document sources (tests) or only ids (benchmarks). */
  keepSource?: boolean;
}

export interface EsStoredDoc {
  index: string;
  id: string;
  version: number;
  source: Record<string, unknown> | null;
}

/** What happened to one bulk item, as the stand-in answered it. */
export interface EsItemRecord {
  action: string;
  index: string;
  id: string | undefined;
  status: number;
}

const DATE_RE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;
const ACTIONS = new Set(['create', 'index', 'update', 'delete']);
const META_KEYS = new Set([
  '_index',
  '_id',
  'routing',
  'pipeline',
  'require_alias',
  'if_seq_no',
  'if_primary_term',
  'version',
  'version_type',
  'dynamic_templates',
  'op_type',
]);

function esError(status: number, type: string, reason: string, extra: Record<string, unknown> = {}): StandinReply {
  return { status, body: { error: { root_cause: [{ type, reason, ...extra }], type, reason, ...extra }, status } };
}

function itemError(type: string, reason: string, index: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { type, reason, index_uuid: 'standin-uuid', shard: '0', index, ...extra };
}

/** Elasticsearch's index-name rules; null when valid. */
function indexNameProblem(name: string): string | null {
  if (name !== name.toLowerCase()) return 'must be lowercase';
  if (/[\\/*?"<>| ,#:]/.test(name)) return 'must not contain the following characters [ , ", *, \\, <, |, ,, >, /, ?, #, :]';
  if (/^[-_+]/.test(name)) return "must not start with '_', '-', or '+'";
  if (name === '.' || name === '..') return "must not be '.' or '..'";
  if (Buffer.byteLength(name) > 255) return 'index name is too long';
  return null;
}

/**
 * Elasticsearch/OpenSearch `_bulk` stand-in: POST /_bulk and /<index>/_bulk with NDJSON. Strict like
 * the real thing: authentication (ApiKey or Basic; 401 security_exception otherwise), Content-Type
 * (406), the trailing newline (400), malformed action lines (400 for the whole request), invalid
 * index names and mapping conflicts per item (400 in the item), `create` on an existing _id (409 in
 * the item), HTTP 200 with `errors: true` for partial failure, 413 over http.max_content_length.
 * Controls: failNextItems (per-item 429/5xx/400), the server's goDown/comeBack/latency/failNext/
 * holdAnswersMs, and read access to stored documents.
 */
export class ElasticsearchStandin {
  readonly server: ControllableServer;
  /** index → id → document */
  private readonly indices = new Map<string, Map<string, EsStoredDoc>>();
  private readonly fieldTypes = new Map<string, Map<string, EsFieldType>>();
  private readonly itemFailures: Array<{ remaining: number; status: number }> = [];
  private seqNo = 0;
  /** Every bulk request answered: the items and their statuses, in order. */
  readonly log: EsItemRecord[][] = [];
  /** `create` items refused with 409 because the document was already there. */
  conflicts = 0;

  private constructor(
    server: ControllableServer,
    private readonly opts: EsStandinOptions,
  ) {
    this.server = server;
  }

  static async start(opts: EsStandinOptions): Promise<ElasticsearchStandin> {
    const holder: { s?: ElasticsearchStandin } = {};
    const server = await ControllableServer.start((req) => holder.s!.handle(req), {
      port: opts.port,
      maxBody: opts.maxContentLength ?? 100 * 1024 * 1024,
      // Elasticsearch answers an over-limit request with a bare 413.
      tooLarge: () => ({ status: 413 }),
    });
    const s = new ElasticsearchStandin(server, opts);
    holder.s = s;
    return s;
  }

  get url(): string {
    return this.server.url;
  }

  /** The next `n` create/index items fail with `status` (429 rejected execution, 5xx, or 400) and are not stored. */
  failNextItems(n: number, status: number): void {
    this.itemFailures.push({ remaining: n, status });
  }

  /** Finds a document by id in any index. */
  doc(id: string): EsStoredDoc | undefined {
    for (const docs of this.indices.values()) {
      const d = docs.get(id);
      if (d) return d;
    }
    return undefined;
  }

  /** Documents stored, over all indices (or in one). */
  count(index?: string): number {
    if (index) return this.indices.get(index)?.size ?? 0;
    let n = 0;
    for (const docs of this.indices.values()) n += docs.size;
    return n;
  }

  indexNames(): string[] {
    return [...this.indices.keys()];
  }

  /** Item statuses answered so far for this id, in order (e.g. [201] or [429, 201] or [201, 409]). */
  statusesOf(id: string): number[] {
    const out: number[] = [];
    for (const req of this.log) for (const it of req) if (it.id === id) out.push(it.status);
    return out;
  }

  async close(): Promise<void> {
    await this.server.close();
  }

  private authenticate(req: StandinRequest): StandinReply | null {
    const auth = headerOf(req, 'authorization');
    const challenge = { 'WWW-Authenticate': 'Basic realm="security", charset="UTF-8", ApiKey' };
    const path = req.path;
    if (!auth) {
      const r = esError(401, 'security_exception', `missing authentication credentials for REST request [${path}]`);
      return { ...r, headers: challenge };
    }
    const [scheme, value = ''] = auth.split(/\s+/, 2);
    if (scheme === 'ApiKey' && this.opts.apiKeys?.includes(value)) return null;
    if (scheme === 'Basic') {
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      const user = colon > 0 ? decoded.slice(0, colon) : '';
      if (colon > 0 && this.opts.users?.[user] === decoded.slice(colon + 1)) return null;
      return {
        ...esError(401, 'security_exception', `unable to authenticate user [${user}] for REST request [${path}]`),
        headers: challenge,
      };
    }
    return {
      ...esError(
        401,
        'security_exception',
        `unable to authenticate with provided credentials and anonymous access is not allowed for this request`,
      ),
      headers: challenge,
    };
  }

  private handle(req: StandinRequest): StandinReply {
    const m = /^\/(?:([^/_][^/]*)\/)?_bulk$/.exec(req.path);
    if (!m) return { status: 400, body: { error: `no handler found for uri [${req.path}] and method [${req.method}]`, status: 400 } };
    if (req.method !== 'POST' && req.method !== 'PUT') {
      return {
        status: 405,
        body: { error: `Incorrect HTTP method for uri [${req.path}] and method [${req.method}], allowed: [POST, PUT]`, status: 405 },
      };
    }
    const denied = this.authenticate(req);
    if (denied) return denied;
    const ct = headerOf(req, 'content-type');
    const mediaType = ct?.split(';')[0]!.trim().toLowerCase();
    if (
      !mediaType ||
      ![
        'application/json',
        'application/x-ndjson',
        'application/vnd.elasticsearch+x-ndjson',
        'application/vnd.elasticsearch+json',
      ].includes(mediaType)
    ) {
      return { status: 406, body: { error: `Content-Type header [${ct ?? ''}] is not supported`, status: 406 } };
    }
    const pathIndex = m[1] ? decodeURIComponent(m[1]) : undefined;
    const text = req.body.toString('utf8');
    if (text.length === 0) return esError(400, 'action_request_validation_exception', 'Validation Failed: 1: no requests added;');
    if (!text.endsWith('\n')) return esError(400, 'illegal_argument_exception', 'The bulk request must be terminated by a newline [\\n]');

    // Parse the whole request first: a malformed action line fails the request, not an item.
    const lines = text.split('\n');
    lines.pop();
    const ops: Array<{ action: string; index: string | undefined; id: string | undefined; source?: string }> = [];
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!;
      if (line.trim() === '') continue;
      let meta: unknown;
      try {
        meta = JSON.parse(line);
      } catch {
        return esError(400, 'x_content_parse_exception', `[1:1] Unexpected character in action/metadata line [${i + 1}]`);
      }
      if (meta === null || typeof meta !== 'object' || Array.isArray(meta)) {
        return esError(
          400,
          'illegal_argument_exception',
          `Malformed action/metadata line [${i + 1}], expected START_OBJECT or END_OBJECT but found [VALUE_STRING]`,
        );
      }
      const keys = Object.keys(meta);
      const action = keys[0];
      if (keys.length !== 1 || !action || !ACTIONS.has(action)) {
        return esError(
          400,
          'illegal_argument_exception',
          `Malformed action/metadata line [${i + 1}], expected one of [create, delete, index, update] but found [${keys[0] ?? ''}]`,
        );
      }
      const params = (meta as Record<string, unknown>)[action];
      if (params === null || typeof params !== 'object' || Array.isArray(params)) {
        return esError(
          400,
          'illegal_argument_exception',
          `Malformed action/metadata line [${i + 1}], expected START_OBJECT but found [${typeof params}]`,
        );
      }
      for (const k of Object.keys(params)) {
        if (!META_KEYS.has(k))
          return esError(400, 'illegal_argument_exception', `Action/metadata line [${i + 1}] contains an unknown parameter [${k}]`);
      }
      const p = params as { _index?: unknown; _id?: unknown };
      const index = typeof p._index === 'string' ? p._index : pathIndex;
      const id = p._id === undefined ? undefined : String(p._id);
      if (action === 'delete') {
        ops.push({ action, index, id });
        continue;
      }
      const source = lines[i + 1];
      if (source === undefined) return esError(400, 'illegal_argument_exception', `Validation Failed: 1: source is missing;`);
      i++;
      ops.push({ action, index, id, source });
    }
    if (ops.length === 0) return esError(400, 'action_request_validation_exception', 'Validation Failed: 1: no requests added;');
    const missing = ops.findIndex((o) => !o.index);
    if (missing >= 0) return esError(400, 'action_request_validation_exception', `Validation Failed: ${missing + 1}: index is missing;`);
    if (ops.some((o) => o.action === 'delete' && !o.id))
      return esError(400, 'action_request_validation_exception', 'Validation Failed: 1: id is missing;');

    const started = Date.now();
    const items: Array<Record<string, unknown>> = [];
    const record: EsItemRecord[] = [];
    for (const op of ops) {
      const r = this.apply(op as { action: string; index: string; id: string | undefined; source?: string });
      items.push({ [op.action]: r });
      record.push({ action: op.action, index: op.index!, id: (r._id as string | undefined) ?? op.id, status: r.status as number });
    }
    this.log.push(record);
    const errors = record.some((r) => r.status >= 300);
    return { status: 200, body: { errors, took: Date.now() - started, items } };
  }

  private apply(op: { action: string; index: string; id: string | undefined; source?: string }): Record<string, unknown> {
    const { action, index } = op;
    const problem = indexNameProblem(index);
    if (problem) {
      return {
        _index: index,
        _id: op.id,
        status: 400,
        error: itemError('invalid_index_name_exception', `Invalid index name [${index}], ${problem}`, index),
      };
    }
    if (action === 'update') {
      return {
        _index: index,
        _id: op.id,
        status: 400,
        error: itemError('illegal_argument_exception', 'the stand-in does not implement update', index),
      };
    }
    const docs = this.indices.get(index) ?? new Map<string, EsStoredDoc>();
    if (action === 'delete') {
      const existed = docs.delete(op.id!);
      return {
        _index: index,
        _id: op.id,
        _version: 1,
        result: existed ? 'deleted' : 'not_found',
        status: existed ? 200 : 404,
        ...this.shards(),
      };
    }
    const failure = this.itemFailures.find((f) => f.remaining > 0);
    if (failure) {
      failure.remaining--;
      return { _index: index, _id: op.id, status: failure.status, error: this.injectedError(failure.status, index) };
    }
    let source: unknown;
    try {
      source = JSON.parse(op.source!);
    } catch (err) {
      return {
        _index: index,
        _id: op.id,
        status: 400,
        error: itemError('document_parsing_exception', `[1:1] failed to parse: ${(err as Error).message}`, index),
      };
    }
    if (source === null || typeof source !== 'object' || Array.isArray(source)) {
      return {
        _index: index,
        _id: op.id,
        status: 400,
        error: itemError('document_parsing_exception', '[1:1] failed to parse: source is not an object', index),
      };
    }
    const id = op.id ?? `standin-${++this.seqNo}`;
    const existing = docs.get(id);
    if (existing && action === 'create') {
      this.conflicts++;
      return {
        _index: index,
        _id: id,
        status: 409,
        error: itemError(
          'version_conflict_engine_exception',
          `[${id}]: version conflict, document already exists (current version [${existing.version}])`,
          index,
        ),
      };
    }
    const mappingProblem = this.checkMapping(index, source as Record<string, unknown>, id);
    if (mappingProblem) return { _index: index, _id: id, status: 400, error: mappingProblem };
    const version = existing ? existing.version + 1 : 1;
    docs.set(id, { index, id, version, source: this.opts.keepSource === false ? null : (source as Record<string, unknown>) });
    this.indices.set(index, docs);
    return {
      _index: index,
      _id: id,
      _version: version,
      result: existing ? 'updated' : 'created',
      ...this.shards(),
      _seq_no: this.seqNo++,
      _primary_term: 1,
      status: existing ? 200 : 201,
    };
  }

  private shards(): Record<string, unknown> {
    return { _shards: { total: 2, successful: 1, failed: 0 } };
  }

  private injectedError(status: number, index: string): Record<string, unknown> {
    if (status === 429) {
      return itemError(
        'es_rejected_execution_exception',
        'rejected execution of coordinating operation [coordinating_and_primary_bytes=0, replica_bytes=0, all_bytes=0]',
        index,
      );
    }
    if (status === 400) return itemError('document_parsing_exception', '[1:2] failed to parse field [injected] of type [long]', index);
    if (status === 503) return itemError('unavailable_shards_exception', `[${index}][0] primary shard is not active Timeout: [1m]`, index);
    return itemError('exception', 'injected failure', index);
  }

  /** Dynamic mapping: the first value of a field fixes its type; a later incompatible value fails the item. */
  private checkMapping(index: string, doc: Record<string, unknown>, id: string): Record<string, unknown> | null {
    let types = this.fieldTypes.get(index);
    if (!types) {
      types = new Map(Object.entries(this.opts.mappings ?? {}));
      this.fieldTypes.set(index, types);
    }
    const added = new Map<string, EsFieldType>();
    const stack: Array<[string, unknown]> = Object.entries(doc);
    while (stack.length > 0) {
      const [path, raw] = stack.pop()!;
      const values = Array.isArray(raw) ? raw : [raw];
      for (const value of values) {
        if (value === null || value === undefined) continue;
        const known = types.get(path) ?? added.get(path);
        const isObject = typeof value === 'object' && !Array.isArray(value);
        if (isObject) {
          if (known && known !== 'object') {
            return itemError(
              'document_parsing_exception',
              `[1:1] failed to parse field [${path}] of type [${known}] in document with id '${id}'. Preview of field's value: '{...}'`,
              index,
            );
          }
          if (!known) added.set(path, 'object');
          for (const [k, v] of Object.entries(value as Record<string, unknown>)) stack.push([`${path}.${k}`, v]);
          continue;
        }
        if (known === 'object') {
          return itemError(
            'document_parsing_exception',
            `[1:1] object mapping for [${path}] tried to parse field [${path}] as object, but found a concrete value`,
            index,
          );
        }
        if (!known) {
          added.set(
            path,
            typeof value === 'boolean'
              ? 'boolean'
              : typeof value === 'number'
                ? Number.isInteger(value)
                  ? 'long'
                  : 'double'
                : DATE_RE.test(String(value))
                  ? 'date'
                  : 'text',
          );
          continue;
        }
        if (!accepts(known, value)) {
          const preview = String(typeof value === 'object' ? JSON.stringify(value) : value).slice(0, 20);
          return itemError(
            'document_parsing_exception',
            `[1:1] failed to parse field [${path}] of type [${known}] in document with id '${id}'. Preview of field's value: '${preview}'`,
            index,
          );
        }
      }
    }
    for (const [p, t] of added) if (!types.has(p)) types.set(p, t);
    return null;
  }
}

function accepts(type: EsFieldType, value: unknown): boolean {
  switch (type) {
    case 'long':
    case 'double':
      return typeof value === 'number' || (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value)));
    case 'boolean':
      return typeof value === 'boolean' || value === 'true' || value === 'false' || value === '';
    case 'date':
      return (typeof value === 'string' && DATE_RE.test(value)) || typeof value === 'number';
    case 'keyword':
    case 'text':
      return typeof value !== 'object';
    case 'object':
      return false;
  }
}
