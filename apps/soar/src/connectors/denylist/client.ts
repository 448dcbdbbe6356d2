import type { ResponseAction } from '@vigil/contracts';
import type { Redis } from '@vigil/redis';
import { ConnectorError, type ActionRequest, type ActionResult, type Connector } from '../types';
import type { DenyListConfig } from './config';

/**
 * Blocks by adding the address to the Redis deny-list (member = IP or CIDR, score = when the block
 * ends, +inf for never) that applications check with the SDK's `DenyList`. ZADD GT keeps the later
 * end when a blocked address is blocked again.
 */
export class DenyListConnector implements Connector {
  readonly name = 'denylist' as const;
  readonly actions: readonly ResponseAction[] = ['block_ip', 'unblock_ip'];

  constructor(
    private readonly redis: Redis,
    private readonly config: DenyListConfig,
    private readonly now: () => number = Date.now,
  ) {}

  async execute(req: ActionRequest): Promise<ActionResult> {
    const key = this.config.key;
    try {
      if (req.action === 'block_ip') {
        const until = req.durationMs !== undefined ? String(this.now() + req.durationMs) : '+inf';
        await this.redis.zadd(key, 'GT', until, req.target);
        return {
          request: { command: `ZADD ${key} GT ${until} ${req.target}` },
          summary: `${req.target} on the deny-list until ${until === '+inf' ? 'removed' : new Date(Number(until)).toISOString()}`,
        };
      }
      if (req.action === 'unblock_ip') {
        const removed = await this.redis.zrem(key, req.target);
        return {
          request: { command: `ZREM ${key} ${req.target}` },
          summary: removed ? `${req.target} removed from the deny-list` : `${req.target} was not on the deny-list`,
        };
      }
    } catch (err) {
      throw new ConnectorError(`deny-list ${req.action} ${req.target}: ${(err as Error).message}`, true);
    }
    throw new ConnectorError(`denylist cannot ${req.action}`, false);
  }
}
