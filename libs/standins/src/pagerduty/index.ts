import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendJson } from '../http';
import { RestartableServer, serverControls, writeFault, type FaultControls } from '../faults';

export interface PagerDutyEvent {
  at: number;
  routing_key: string;
  event_action: 'trigger' | 'acknowledge' | 'resolve';
  dedup_key: string;
  body: Record<string, unknown>;
}

export interface PagerDutyStandin extends FaultControls {
  /** The Events API v2 endpoint: <url>/v2/enqueue. */
  readonly enqueueUrl: string;
  readonly url: string;
  readonly port: number;
  /** Accepted events, in order. */
  readonly events: PagerDutyEvent[];
  /** Alerts by dedup key: open after a trigger, resolved after a resolve. */
  readonly alerts: Map<string, { status: 'triggered' | 'acknowledged' | 'resolved'; triggers: number }>;
  readonly rejected: { status: number; errors: string[] }[];
  close(): Promise<void>;
}

const SEVERITIES = new Set(['critical', 'error', 'warning', 'info']);
const ACTIONS = new Set(['trigger', 'acknowledge', 'resolve']);

function validate(o: Record<string, unknown>, routingKeys: ReadonlySet<string> | null): string[] {
  const errors: string[] = [];
  if (typeof o.routing_key !== 'string') errors.push("'routing_key' is missing or blank");
  else if (o.routing_key.length !== 32) errors.push("Length of 'routing_key' is incorrect (should be 32 characters)");
  else if (routingKeys && !routingKeys.has(o.routing_key)) errors.push('Invalid routing key');
  if (typeof o.event_action !== 'string' || !ACTIONS.has(o.event_action)) errors.push("'event_action' is missing or invalid");
  if (o.dedup_key !== undefined && (typeof o.dedup_key !== 'string' || o.dedup_key.length === 0 || o.dedup_key.length > 255)) {
    errors.push("'dedup_key' must be a string of at most 255 characters");
  }
  if ((o.event_action === 'acknowledge' || o.event_action === 'resolve') && typeof o.dedup_key !== 'string') {
    errors.push("'dedup_key' is required for acknowledge and resolve events");
  }
  if (o.event_action === 'trigger') {
    const p = o.payload as Record<string, unknown> | undefined;
    if (!p || typeof p !== 'object') errors.push("'payload' is missing");
    else {
      if (typeof p.summary !== 'string' || p.summary.length === 0) errors.push("'payload.summary' is missing or blank");
      else if (p.summary.length > 1024) errors.push("'payload.summary' must be at most 1024 characters");
      if (typeof p.source !== 'string' || p.source.length === 0) errors.push("'payload.source' is missing or blank");
      if (typeof p.severity !== 'string' || !SEVERITIES.has(p.severity))
        errors.push("'payload.severity' must be one of critical, error, warning, info");
      if (p.custom_details !== undefined && (typeof p.custom_details !== 'object' || p.custom_details === null))
        errors.push("'payload.custom_details' must be an object");
    }
  }
  return errors;
}

/**
 * PagerDuty Events API v2 stand-in: POST /v2/enqueue. 202 {status:"success", message:"Event
 * processed", dedup_key}; 400 {status:"invalid event", message:"Event object is invalid", errors:[...]}
 * for a malformed event; 429 "throttle event" and 5xx when injected. `routingKeys` restricts the
 * integration keys it knows.
 */
export async function startPagerDutyStandin(opts: { port?: number; routingKeys?: string[] } = {}): Promise<PagerDutyStandin> {
  const events: PagerDutyEvent[] = [];
  const alerts = new Map<string, { status: 'triggered' | 'acknowledged' | 'resolved'; triggers: number }>();
  const rejected: { status: number; errors: string[] }[] = [];
  const keys = opts.routingKeys ? new Set(opts.routingKeys) : null;
  const invalid = (res: ServerResponse, errors: string[]) => {
    rejected.push({ status: 400, errors });
    sendJson(res, 400, { status: 'invalid event', message: 'Event object is invalid', errors });
  };
  const server: RestartableServer = new RestartableServer((req: IncomingMessage, res: ServerResponse, raw: Buffer) => {
    if (req.method !== 'POST' || (req.url ?? '').split('?')[0] !== '/v2/enqueue') {
      rejected.push({ status: 404, errors: ['not found'] });
      return sendJson(res, 404, { status: 'not found', message: 'Not found' });
    }
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      return invalid(res, ['Event object is not valid JSON']);
    }
    if (!body || typeof body !== 'object' || Array.isArray(body)) return invalid(res, ['Event object must be a JSON object']);
    const o = body as Record<string, unknown>;
    const errors = validate(o, keys);
    if (errors.length > 0) return invalid(res, errors);
    const fault = server.takeFault();
    if (fault) {
      const text =
        fault.status === 429
          ? JSON.stringify({
              status: 'throttle event',
              message: 'Requests for this service are arriving too quickly.  Please retry later.',
            })
          : JSON.stringify({ status: 'error', message: 'Internal server error' });
      return writeFault(res, fault, text, 'application/json');
    }
    const action = o.event_action as PagerDutyEvent['event_action'];
    const dedup = typeof o.dedup_key === 'string' ? o.dedup_key : randomBytes(16).toString('hex');
    events.push({ at: Date.now(), routing_key: o.routing_key as string, event_action: action, dedup_key: dedup, body: o });
    const a = alerts.get(dedup);
    if (action === 'trigger')
      alerts.set(dedup, { status: a && a.status !== 'resolved' ? a.status : 'triggered', triggers: (a?.triggers ?? 0) + 1 });
    else if (a) a.status = action === 'resolve' ? 'resolved' : 'acknowledged';
    sendJson(res, 202, { status: 'success', message: 'Event processed', dedup_key: dedup });
  });
  await server.start(opts.port);
  return Object.assign(serverControls(server), { enqueueUrl: `${server.url}/v2/enqueue`, events, alerts, rejected });
}
