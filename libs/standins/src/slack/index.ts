import type { IncomingMessage, ServerResponse } from 'node:http';
import { RestartableServer, serverControls, writeFault, type FaultControls, type InjectedFault } from '../faults';

/** A message the Slack stand-in accepted. */
export interface SlackReceived {
  at: number;
  body: Record<string, unknown>;
}

export interface SlackStandin extends FaultControls {
  /** The incoming-webhook URL to configure (path /services/T.../B.../secret). */
  readonly webhookUrl: string;
  readonly url: string;
  readonly port: number;
  readonly received: SlackReceived[];
  /** Requests refused with 4xx (invalid_payload, no_text, invalid_blocks, no_service, ...). */
  readonly rejected: { status: number; error: string }[];
  close(): Promise<void>;
}

const BLOCK_TYPES = new Set([
  'section',
  'header',
  'context',
  'divider',
  'actions',
  'image',
  'input',
  'rich_text',
  'file',
  'video',
  'markdown',
]);
const MAX_TEXT = 40_000;

type Check = string | null;

function textObject(t: unknown, kind: 'plain_text' | 'any', max: number): Check {
  if (!t || typeof t !== 'object') return 'text object required';
  const o = t as Record<string, unknown>;
  if (o.type !== 'plain_text' && o.type !== 'mrkdwn') return 'text.type must be plain_text or mrkdwn';
  if (kind === 'plain_text' && o.type !== 'plain_text') return 'text must be plain_text';
  if (typeof o.text !== 'string' || o.text.length === 0) return 'text.text must be a non-empty string';
  if (o.text.length > max) return `text must be at most ${max} characters`;
  return null;
}

/** Block Kit checks Slack applies to incoming webhooks (the subset Vigil sends, strictly). */
function checkBlocks(blocks: unknown): Check {
  if (!Array.isArray(blocks)) return 'blocks must be an array';
  if (blocks.length > 50) return 'no more than 50 blocks';
  for (const [i, b] of blocks.entries()) {
    if (!b || typeof b !== 'object') return `blocks[${i}] must be an object`;
    const o = b as Record<string, unknown>;
    if (typeof o.type !== 'string' || !BLOCK_TYPES.has(o.type)) return `blocks[${i}].type is not a block type`;
    if (o.type === 'header') {
      const c = textObject(o.text, 'plain_text', 150);
      if (c) return `blocks[${i}]: ${c}`;
    }
    if (o.type === 'section') {
      if (o.text === undefined && o.fields === undefined) return `blocks[${i}]: section needs text or fields`;
      if (o.text !== undefined) {
        const c = textObject(o.text, 'any', 3000);
        if (c) return `blocks[${i}]: ${c}`;
      }
      if (o.fields !== undefined) {
        if (!Array.isArray(o.fields) || o.fields.length > 10) return `blocks[${i}].fields must be an array of at most 10`;
        for (const f of o.fields) {
          const c = textObject(f, 'any', 2000);
          if (c) return `blocks[${i}].fields: ${c}`;
        }
      }
    }
    if (o.type === 'context') {
      if (!Array.isArray(o.elements) || o.elements.length === 0 || o.elements.length > 10)
        return `blocks[${i}].elements must hold 1-10 elements`;
      for (const e of o.elements) {
        const c = textObject(e, 'any', 3000);
        if (c) return `blocks[${i}].elements: ${c}`;
      }
    }
  }
  return null;
}

/**
 * A Slack incoming-webhook stand-in, as strict as Slack: 200 "ok" (text/html); 400 invalid_payload
 * (not JSON / not an object / wrong content type), no_text (no text, blocks or attachments),
 * invalid_blocks, msg_too_long; 404 no_service for any other path; 429 rate_limited with
 * Retry-After when a fault is injected. Error bodies are plain text, like Slack's.
 */
export async function startSlackStandin(opts: { port?: number; hookPath?: string } = {}): Promise<SlackStandin> {
  const hookPath = opts.hookPath ?? '/services/T0VIGIL00/B0VIGIL00/standinSecretToken0001';
  const received: SlackReceived[] = [];
  const rejected: { status: number; error: string }[] = [];
  const refuse = (res: ServerResponse, status: number, error: string) => {
    rejected.push({ status, error });
    res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end(error);
  };
  const server: RestartableServer = new RestartableServer((req: IncomingMessage, res: ServerResponse, raw: Buffer) => {
    const path = (req.url ?? '').split('?')[0];
    if (req.method !== 'POST' || path !== hookPath) return refuse(res, 404, 'no_service');
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    let body: unknown;
    try {
      if (type === 'application/json') body = JSON.parse(raw.toString('utf8'));
      else if (type === 'application/x-www-form-urlencoded')
        body = JSON.parse(new URLSearchParams(raw.toString('utf8')).get('payload') ?? '');
      else return refuse(res, 400, 'invalid_payload');
    } catch {
      return refuse(res, 400, 'invalid_payload');
    }
    if (!body || typeof body !== 'object' || Array.isArray(body)) return refuse(res, 400, 'invalid_payload');
    const o = body as Record<string, unknown>;
    const hasText = typeof o.text === 'string' && o.text.trim().length > 0;
    if (!hasText && o.blocks === undefined && o.attachments === undefined) return refuse(res, 400, 'no_text');
    if (typeof o.text === 'string' && o.text.length > MAX_TEXT) return refuse(res, 400, 'msg_too_long');
    if (o.blocks !== undefined && checkBlocks(o.blocks)) return refuse(res, 400, 'invalid_blocks');
    const fault: InjectedFault | null = server.takeFault();
    if (fault) return writeFault(res, fault, fault.status === 429 ? 'rate_limited' : 'internal_error', 'text/plain; charset=utf-8');
    received.push({ at: Date.now(), body: o });
    res.writeHead(200, { 'Content-Type': 'text/html' });
    res.end('ok');
  });
  await server.start(opts.port);
  return Object.assign(serverControls(server), { webhookUrl: server.url + hookPath, received, rejected });
}
