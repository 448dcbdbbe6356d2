import type { ResponseAction } from '@vigil/contracts';
import { failFor, httpCall } from '../http';
import { ConnectorError, type ActionRequest, type ActionResult, type Connector } from '../types';
import type { FirewallConfig } from './config';

/**
 * Blocks and unblocks addresses through a firewall's HTTP API (contract in docs/soar.md):
 * PUT /v1/blocks/{network} to block (idempotent), DELETE to unblock; a 404 on DELETE means the
 * block is already gone, which is what an unblock wants.
 */
export class FirewallConnector implements Connector {
  readonly name = 'firewall' as const;
  readonly actions: readonly ResponseAction[] = ['block_ip', 'unblock_ip'];

  constructor(
    private readonly config: FirewallConfig,
    private readonly now: () => number = Date.now,
  ) {}

  async execute(req: ActionRequest): Promise<ActionResult> {
    const path = `/v1/blocks/${encodeURIComponent(req.target)}`;
    const url = this.config.url.replace(/\/+$/, '') + path;
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (this.config.token) headers.Authorization = `Bearer ${this.config.token}`;
    if (req.action === 'block_ip') {
      const audit = { method: 'PUT', path };
      const body = JSON.stringify({
        comment: `vigil alert ${req.alertId}: ${req.reason}`.slice(0, 1024),
        ...(req.durationMs !== undefined ? { expires_in_seconds: Math.ceil(req.durationMs / 1000) } : {}),
      });
      const answer = await httpCall(
        { method: 'PUT', url, headers: { ...headers, 'Content-Type': 'application/json' }, body, timeoutMs: this.config.timeoutMs },
        audit,
      );
      if (answer.status === 200 || answer.status === 201) {
        return {
          request: audit,
          summary: `HTTP ${answer.status}: ${req.target} ${answer.status === 201 ? 'blocked' : 'already blocked, renewed'}`,
        };
      }
      throw failFor(answer, `block ${req.target}`, audit, this.now());
    }
    if (req.action === 'unblock_ip') {
      const audit = { method: 'DELETE', path };
      const answer = await httpCall({ method: 'DELETE', url, headers, timeoutMs: this.config.timeoutMs }, audit);
      if (answer.status === 204 || answer.status === 200)
        return { request: audit, summary: `HTTP ${answer.status}: ${req.target} unblocked` };
      if (answer.status === 404) return { request: audit, summary: `HTTP 404: ${req.target} was not blocked` };
      throw failFor(answer, `unblock ${req.target}`, audit, this.now());
    }
    throw new ConnectorError(`firewall cannot ${req.action}`, false);
  }
}
