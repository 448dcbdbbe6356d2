import type { ResponseAction } from '@vigil/contracts';
import { failFor, httpCall } from '../http';
import { ConnectorError, type ActionRequest, type ActionResult, type Connector } from '../types';
import type { EdrConfig } from './config';

/**
 * Fills `{host}` in a path template with the percent-encoded host. The template is checked at boot
 * (one `{host}`, path characters only) and the host is validated, so the path cannot be bent.
 */
export function fillPath(template: string, host: string): string {
  return template.replace('{host}', encodeURIComponent(host));
}

/** Isolates and releases hosts through an EDR's HTTP API, method and path per action from config. */
export class EdrConnector implements Connector {
  readonly name = 'edr' as const;
  readonly actions: readonly ResponseAction[] = ['isolate_host', 'release_host'];

  constructor(
    private readonly config: EdrConfig,
    private readonly now: () => number = Date.now,
  ) {}

  private authHeaders(): Record<string, string> {
    const a = this.config.auth;
    if (a.kind === 'bearer') return { Authorization: `Bearer ${a.token}` };
    if (a.kind === 'basic') return { Authorization: `Basic ${Buffer.from(a.userPass).toString('base64')}` };
    return { [a.header]: a.key };
  }

  async execute(req: ActionRequest): Promise<ActionResult> {
    const route = req.action === 'isolate_host' ? this.config.isolate : req.action === 'release_host' ? this.config.release : null;
    if (!route) throw new ConnectorError(`edr cannot ${req.action}`, false);
    const path = fillPath(route.path, req.target);
    const audit = { method: route.method, path };
    const body = JSON.stringify({
      reason: `vigil alert ${req.alertId}: ${req.reason}`.slice(0, 1024),
      alert_id: req.alertId,
      run_id: req.runId,
    });
    const answer = await httpCall(
      {
        method: route.method,
        url: this.config.url.replace(/\/+$/, '') + path,
        headers: { ...this.authHeaders(), 'Content-Type': 'application/json', Accept: 'application/json' },
        body,
        timeoutMs: this.config.timeoutMs,
      },
      audit,
    );
    if (answer.status >= 200 && answer.status < 300)
      return { request: audit, summary: `HTTP ${answer.status}: ${req.action} ${req.target}` };
    throw failFor(answer, `${req.action} ${req.target}`, audit, this.now());
  }
}
