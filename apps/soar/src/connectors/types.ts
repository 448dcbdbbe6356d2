import type { Alert, ResponseAction, Severity } from '@vigil/contracts';
import type { ConnectorName } from '../domain/playbook';

/** One action for a connector to carry out. The target is already validated and normalised. */
export interface ActionRequest {
  action: ResponseAction;
  target: string;
  /** For reversible actions: how long the block lasts (connectors that can expire entries use it). */
  durationMs?: number;
  alertId: string;
  runId: string;
  playbookId: string;
  /** Why, for the remote system's comment field: the rule name. */
  reason: string;
  /** notify only. */
  message?: string;
  severity?: Severity;
  alert?: Pick<Alert, 'alert_id' | 'dedup_key' | 'rule' | 'group' | 'tags' | 'first_event_at' | 'last_event_at' | 'event_count'>;
}

/** What was sent (no secrets) and what came back, for the audit record. */
export interface ActionResult {
  request: Record<string, string>;
  summary: string;
}

/**
 * A failed action. `retriable` follows the house rule: the remote end was unavailable (network,
 * timeout, 429, 5xx) and trying later may work; anything else (400, 401, 403, 404) will fail again.
 */
export class ConnectorError extends Error {
  constructor(
    message: string,
    readonly retriable: boolean,
    readonly request: Record<string, string> = {},
    /** Server's Retry-After, when it sent one. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'ConnectorError';
  }
}

export interface Connector {
  readonly name: ConnectorName;
  /** Actions this connector carries. */
  readonly actions: readonly ResponseAction[];
  execute(req: ActionRequest): Promise<ActionResult>;
}
