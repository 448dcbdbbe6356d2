import type { ResponseAction } from '@vigil/contracts';
import { failFor, httpCall, type HttpAnswer } from '../http';
import { ConnectorError, type ActionRequest, type ActionResult, type Connector } from '../types';
import type { ScimConfig } from './config';

export const SCIM_PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const SCIM_JSON = 'application/scim+json';

/** RFC 7644 §3.5.2 PatchOp body setting `active`. */
export function activePatch(active: boolean): Record<string, unknown> {
  return { schemas: [SCIM_PATCH_OP], Operations: [{ op: 'replace', path: 'active', value: active }] };
}

/**
 * Disables and re-enables users through SCIM 2.0: `PATCH /Users/{id}` setting `active`, with a
 * bearer token. With lookup=userName the id is found first with `filter=userName eq "..."`.
 */
export class ScimConnector implements Connector {
  readonly name = 'scim' as const;
  readonly actions: readonly ResponseAction[] = ['disable_user', 'enable_user'];

  constructor(
    private readonly config: ScimConfig,
    private readonly now: () => number = Date.now,
  ) {}

  private headers(): Record<string, string> {
    return { Authorization: `Bearer ${this.config.token}`, Accept: SCIM_JSON };
  }

  private base(): string {
    return this.config.url.replace(/\/+$/, '');
  }

  private async resolveId(userName: string): Promise<string> {
    if (this.config.lookup === 'id') return userName;
    // The user id pattern admits no quote or backslash, but escape anyway: the filter grammar is the boundary.
    const filter = `userName eq "${userName.replace(/["\\]/g, (c) => `\\${c}`)}"`;
    const path = `/Users?filter=${encodeURIComponent(filter)}`;
    const audit = { method: 'GET', path };
    const answer = await httpCall(
      { method: 'GET', url: this.base() + path, headers: this.headers(), timeoutMs: this.config.timeoutMs },
      audit,
    );
    if (answer.status !== 200) throw failFor(answer, `look up ${userName}`, audit, this.now());
    const doc = parse(answer) as { totalResults?: unknown; Resources?: Array<{ id?: unknown }> } | null;
    const ids = (doc?.Resources ?? []).map((r) => r.id).filter((id): id is string => typeof id === 'string');
    if (ids.length === 0) throw new ConnectorError(`no SCIM user with userName ${userName}`, false, audit);
    if (ids.length > 1) throw new ConnectorError(`${ids.length} SCIM users match userName ${userName}; refusing to guess`, false, audit);
    return ids[0]!;
  }

  async execute(req: ActionRequest): Promise<ActionResult> {
    if (req.action !== 'disable_user' && req.action !== 'enable_user') throw new ConnectorError(`scim cannot ${req.action}`, false);
    const active = req.action === 'enable_user';
    const id = await this.resolveId(req.target);
    const path = `/Users/${encodeURIComponent(id)}`;
    const audit = { method: 'PATCH', path, active: String(active) };
    const answer = await httpCall(
      {
        method: 'PATCH',
        url: this.base() + path,
        headers: { ...this.headers(), 'Content-Type': SCIM_JSON },
        body: JSON.stringify(activePatch(active)),
        timeoutMs: this.config.timeoutMs,
      },
      audit,
    );
    if (answer.status === 204) return { request: audit, summary: `HTTP 204: ${req.target} active=${active}` };
    if (answer.status === 200) {
      const doc = parse(answer) as { active?: unknown } | null;
      if (doc && typeof doc.active === 'boolean' && doc.active !== active) {
        throw new ConnectorError(`SCIM answered 200 but ${req.target} is still active=${doc.active}`, true, audit);
      }
      return { request: audit, summary: `HTTP 200: ${req.target} (id ${id}) active=${active}` };
    }
    const err = failFor(answer, `${req.action} ${req.target}`, audit, this.now());
    const scim = parse(answer) as { scimType?: unknown; detail?: unknown } | null;
    if (scim && typeof scim.detail === 'string') {
      const type = typeof scim.scimType === 'string' ? ` (${scim.scimType})` : '';
      throw new ConnectorError(
        `${req.action} ${req.target}: HTTP ${answer.status}${type} ${scim.detail.slice(0, 300)}`,
        err.retriable,
        err.request,
        err.retryAfterMs,
      );
    }
    throw err;
  }
}

function parse(answer: HttpAnswer): unknown {
  try {
    return JSON.parse(answer.text);
  } catch {
    return null;
  }
}
