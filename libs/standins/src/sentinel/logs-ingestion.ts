import { randomBytes, randomUUID } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { ControllableServer, headerOf, type StandinReply, type StandinRequest } from '../controllable/server';

/** Column types a DCR stream declaration may use. */
export type DcrColumnType = 'string' | 'int' | 'long' | 'real' | 'boolean' | 'dynamic' | 'datetime';

export interface DcrSpec {
  /** streamDeclarations: stream name → its columns. */
  streams: Record<string, ReadonlyArray<{ name: string; type: DcrColumnType }>>;
  /** Applications (client ids) holding "Monitoring Metrics Publisher" on this DCR. */
  publishers: string[];
}

export interface SentinelStandinOptions {
  /** Port of the data collection endpoint (0/absent = any). */
  dcePort?: number;
  /** Port of the Microsoft identity platform token endpoint (0/absent = any). */
  authorityPort?: number;
  tenantId: string;
  /** App registrations: client id → client secret. */
  clients: Record<string, string>;
  /** DCRs by immutable id. */
  dcrs: Record<string, DcrSpec>;
  /** Access token lifetime in seconds (Entra issues ~3599). */
  tokenLifetimeS?: number;
  /** Keep rows (tests) or only count them (benchmarks). */
  keepRows?: boolean;
}

/** The documented ceiling: 1 MB per call, compressed and uncompressed (Azure Monitor service limits). */
export const LOGS_INGESTION_MAX_BYTES = 1024 * 1024;
const API_VERSIONS = new Set(['2023-01-01', '2021-11-01-preview']);
const MONITOR_AUDIENCE = 'https://monitor.azure.com';

function azureError(status: number, code: string, message: string, headers: Record<string, string> = {}): StandinReply {
  return { status, headers: { 'x-ms-error-code': code, ...headers }, body: { error: { code, message } } };
}

function entraError(status: number, error: string, aadsts: number, description: string): StandinReply {
  return {
    status,
    body: {
      error,
      error_description: `AADSTS${aadsts}: ${description} Trace ID: ${randomUUID()} Correlation ID: ${randomUUID()} Timestamp: ${new Date().toISOString()}`,
      error_codes: [aadsts],
      timestamp: new Date().toISOString(),
      trace_id: randomUUID(),
      correlation_id: randomUUID(),
    },
  };
}

function tooLarge(size: number): StandinReply {
  return azureError(
    413,
    'ContentLengthLimitExceeded',
    `Maximum allowed content length: ${LOGS_INGESTION_MAX_BYTES} bytes (1 MB). Provided content length: ${size} bytes.`,
  );
}

/**
 * Azure Monitor Logs Ingestion API stand-in (what Microsoft Sentinel ingests custom logs through),
 * with the Microsoft identity platform's client-credentials token endpoint beside it.
 *
 * Token endpoint (POST /{tenant}/oauth2/v2.0/token, form-encoded): unknown tenant (400 AADSTS90002),
 * missing parameters (400 invalid_request AADSTS900144), unknown client (400 unauthorized_client
 * AADSTS700016), wrong secret (401 invalid_client AADSTS7000215), scope without /.default (400
 * invalid_scope AADSTS1002012); success `{token_type, expires_in, ext_expires_in, access_token}`.
 *
 * DCE (POST /dataCollectionRules/{dcr}/streams/{stream}?api-version=2023-01-01): bearer token for the
 * monitor audience (401), the app's role on the DCR (403 OperationFailed, the documented message),
 * 1 MB per call compressed and uncompressed (413 ContentLengthLimitExceeded, the documented message),
 * gzip bodies, 204 on success. A JSON object instead of an array is answered 204 and silently dropped
 * (as users report of the real service). Error codes other than those two are plausible stand-ins
 * for codes Microsoft does not document. Controls: throttleNext (429 + Retry-After), revokeTokens,
 * and each server's goDown/comeBack/latency/failNext.
 */
export class SentinelStandin {
  readonly dce: ControllableServer;
  readonly authority: ControllableServer;
  private readonly tokens = new Map<string, { clientId: string; audience: string; expiresAt: number }>();
  private readonly rowsByStream = new Map<string, Array<Record<string, unknown>>>();
  private readonly countByStream = new Map<string, number>();
  /** Rows ingested per EventId / AlertId column value (Logs Ingestion has no dedup). */
  private readonly ingestedIds = new Map<string, number>();
  /** Calls answered 204 whose body was not an array (the real service drops them silently). */
  droppedCalls = 0;
  /** Tokens issued so far. */
  tokensIssued = 0;
  /** Bytes of the ingestion calls' bodies as sent (compressed or not) and as read (decompressed). */
  readonly bodyBytes = { sent: 0, read: 0 };

  private constructor(
    private readonly opts: SentinelStandinOptions,
    dce: ControllableServer,
    authority: ControllableServer,
  ) {
    this.dce = dce;
    this.authority = authority;
  }

  static async start(opts: SentinelStandinOptions): Promise<SentinelStandin> {
    const holder: { s?: SentinelStandin } = {};
    const dce = await ControllableServer.start((req) => holder.s!.ingest(req), {
      port: opts.dcePort,
      maxBody: LOGS_INGESTION_MAX_BYTES,
      tooLarge,
    });
    const authority = await ControllableServer.start((req) => holder.s!.token(req), {
      port: opts.authorityPort,
      maxBody: 64 * 1024,
      tooLarge: () => ({ status: 413, body: { error: 'invalid_request', error_description: 'request too large' } }),
    });
    const s = new SentinelStandin(opts, dce, authority);
    holder.s = s;
    return s;
  }

  get dceUrl(): string {
    return this.dce.url;
  }

  get authorityUrl(): string {
    return this.authority.url;
  }

  /** Rows ingested into a stream (kept only with keepRows, the default). */
  rows(stream: string): ReadonlyArray<Record<string, unknown>> {
    return this.rowsByStream.get(stream) ?? [];
  }

  rowCount(stream: string): number {
    return this.countByStream.get(stream) ?? 0;
  }

  /** How many rows carried this EventId or AlertId (kept even without keepRows, for fault tests). */
  timesIngested(id: string): number {
    return this.ingestedIds.get(id) ?? 0;
  }

  /** The next `n` ingestion calls answer 429 with `Retry-After: retryAfterS`. */
  throttleNext(n: number, retryAfterS: number): void {
    this.dce.failNext(
      n,
      azureError(429, 'TooManyRequests', 'Request rate is too large; retry after the duration in Retry-After.', {
        'Retry-After': String(retryAfterS),
      }),
    );
  }

  /** Every token issued so far stops working (as after a secret rotation or revocation). */
  revokeTokens(): void {
    this.tokens.clear();
  }

  async close(): Promise<void> {
    await Promise.all([this.dce.close(), this.authority.close()]);
  }

  // --- Microsoft identity platform ---------------------------------------------------------------

  private token(req: StandinRequest): StandinReply {
    const m = /^\/([^/]+)\/oauth2\/v2\.0\/token$/.exec(req.path);
    if (!m) return { status: 404, body: { error: 'not_found' } };
    if (req.method !== 'POST') return entraError(405, 'invalid_request', 900561, 'The endpoint only accepts POST requests.');
    if (decodeURIComponent(m[1]!) !== this.opts.tenantId) return entraError(400, 'invalid_tenant', 90002, `Tenant '${m[1]}' not found.`);
    const ct = headerOf(req, 'content-type')?.split(';')[0]?.trim().toLowerCase();
    const form = ct === 'application/x-www-form-urlencoded' ? new URLSearchParams(req.body.toString('utf8')) : new URLSearchParams();
    for (const p of ['grant_type', 'client_id']) {
      if (!form.get(p)) return entraError(400, 'invalid_request', 900144, `The request body must contain the following parameter: '${p}'.`);
    }
    if (form.get('grant_type') !== 'client_credentials') {
      return entraError(400, 'unsupported_grant_type', 70003, `The app requested an unsupported grant type '${form.get('grant_type')}'.`);
    }
    const clientId = form.get('client_id')!;
    if (!(clientId in this.opts.clients)) {
      return entraError(
        400,
        'unauthorized_client',
        700016,
        `Application with identifier '${clientId}' was not found in the directory '${this.opts.tenantId}'.`,
      );
    }
    const secret = form.get('client_secret');
    if (!secret)
      return entraError(
        401,
        'invalid_client',
        7000216,
        "'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' grant type.",
      );
    if (secret !== this.opts.clients[clientId]) {
      return entraError(
        401,
        'invalid_client',
        7000215,
        'Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.',
      );
    }
    const scope = form.get('scope');
    if (!scope) return entraError(400, 'invalid_request', 900144, "The request body must contain the following parameter: 'scope'.");
    if (!scope.endsWith('/.default')) {
      return entraError(
        400,
        'invalid_scope',
        1002012,
        `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
      );
    }
    const lifetime = this.opts.tokenLifetimeS ?? 3599;
    const accessToken = `eyJ0eXAiOiJKV1Qi.${randomBytes(24).toString('base64url')}.${randomBytes(16).toString('base64url')}`;
    this.tokens.set(accessToken, { clientId, audience: scope.slice(0, -'/.default'.length), expiresAt: Date.now() + lifetime * 1000 });
    this.tokensIssued++;
    return { status: 200, body: { token_type: 'Bearer', expires_in: lifetime, ext_expires_in: lifetime, access_token: accessToken } };
  }

  // --- Logs Ingestion API -------------------------------------------------------------------------

  private ingest(req: StandinRequest): StandinReply {
    const m = /^\/dataCollectionRules\/([^/]+)\/streams\/([^/]+)$/.exec(req.path);
    if (!m) return azureError(404, 'NotFound', `The requested path ${req.path} was not found.`);
    if (req.method !== 'POST') return azureError(405, 'MethodNotAllowed', `The HTTP method ${req.method} is not supported.`);
    const version = req.query.get('api-version');
    if (!version)
      return azureError(400, 'MissingApiVersionParameter', 'The api-version query parameter (?api-version=) is required for all requests.');
    if (!API_VERSIONS.has(version))
      return azureError(
        400,
        'InvalidApiVersionParameter',
        `The api-version '${version}' is invalid. The supported versions are '2023-01-01'.`,
      );

    const auth = headerOf(req, 'authorization');
    const bearer = auth && /^Bearer\s+(\S+)$/i.exec(auth)?.[1];
    const www = { 'WWW-Authenticate': 'Bearer authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize"' };
    if (!bearer) return azureError(401, 'InvalidAuthenticationToken', 'Authentication token is missing or malformed.', www);
    const tok = this.tokens.get(bearer);
    if (!tok) return azureError(401, 'InvalidAuthenticationToken', 'The access token is invalid.', www);
    if (tok.expiresAt <= Date.now())
      return azureError(401, 'ExpiredAuthenticationToken', 'The access token expiry UTC time is earlier than current UTC time.', www);
    if (tok.audience !== MONITOR_AUDIENCE)
      return azureError(401, 'InvalidAuthenticationTokenAudience', `The access token has an invalid audience '${tok.audience}'.`, www);

    const dcrId = decodeURIComponent(m[1]!);
    const stream = decodeURIComponent(m[2]!);
    const dcr = this.opts.dcrs[dcrId];
    if (!dcr) return azureError(404, 'NotFound', `Data collection rule with immutable Id '${dcrId}' not found.`);
    if (!dcr.publishers.includes(tok.clientId)) {
      return azureError(
        403,
        'OperationFailed',
        `The authentication token provided does not have access to ingest data for the data collection rule with immutable Id '${dcrId}'.`,
      );
    }
    const columns = dcr.streams[stream];
    if (!columns) return azureError(400, 'InvalidStream', `Stream '${stream}' is not declared in data collection rule '${dcrId}'.`);

    const ct = headerOf(req, 'content-type')?.split(';')[0]?.trim().toLowerCase();
    if (ct !== 'application/json')
      return azureError(415, 'UnsupportedMediaType', `Content-Type '${ct ?? ''}' is not supported; use application/json.`);
    let body = req.body;
    const encoding = headerOf(req, 'content-encoding')?.toLowerCase();
    if (encoding === 'gzip') {
      try {
        body = gunzipSync(body, { maxOutputLength: LOGS_INGESTION_MAX_BYTES + 1 });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') return tooLarge(LOGS_INGESTION_MAX_BYTES + 1);
        return azureError(400, 'InvalidContentEncoding', 'The request body could not be decompressed as gzip.');
      }
    } else if (encoding !== undefined && encoding !== 'identity') {
      return azureError(400, 'InvalidContentEncoding', `Content-Encoding '${encoding}' is not supported.`);
    }
    if (body.length > LOGS_INGESTION_MAX_BYTES) return tooLarge(body.length);
    this.bodyBytes.sent += req.body.length;
    this.bodyBytes.read += body.length;
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      return azureError(400, 'InvalidPayload', 'The request body is not valid JSON.');
    }
    if (!Array.isArray(parsed)) {
      this.droppedCalls++;
      return { status: 204 };
    }
    const keep = this.opts.keepRows !== false;
    const idColumn = columns.find((c) => (c.name === 'EventId' || c.name === 'AlertId') && c.type === 'string')?.name;
    const rows = this.rowsByStream.get(stream) ?? [];
    for (const item of parsed) {
      if (item === null || typeof item !== 'object' || Array.isArray(item)) continue; // the pipeline drops it
      this.countByStream.set(stream, (this.countByStream.get(stream) ?? 0) + 1);
      const rowId = idColumn ? (item as Record<string, unknown>)[idColumn] : undefined;
      if (typeof rowId === 'string') this.ingestedIds.set(rowId, (this.ingestedIds.get(rowId) ?? 0) + 1);
      if (!keep) continue;
      // The DCR keeps declared columns only; values that do not fit a column's type become null.
      const row: Record<string, unknown> = {};
      for (const col of columns) row[col.name] = coerce((item as Record<string, unknown>)[col.name], col.type);
      rows.push(row);
    }
    this.rowsByStream.set(stream, rows);
    return { status: 204 };
  }
}

function coerce(v: unknown, type: DcrColumnType): unknown {
  if (v === undefined || v === null) return null;
  switch (type) {
    case 'string':
      return typeof v === 'string' ? v : JSON.stringify(v);
    case 'int':
    case 'long':
      return typeof v === 'number' && Number.isInteger(v) ? v : null;
    case 'real':
      return typeof v === 'number' ? v : null;
    case 'boolean':
      return typeof v === 'boolean' ? v : null;
    case 'datetime':
      return typeof v === 'string' && !Number.isNaN(Date.parse(v)) ? v : null;
    case 'dynamic':
      return v;
  }
}
