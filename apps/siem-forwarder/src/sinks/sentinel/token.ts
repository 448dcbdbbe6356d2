import type { Logger } from '@vigil/runtime';
import { readTokenAnswer } from '../../domain/sentinel';
import type { ForwarderMetrics } from '../../delivery/metrics';
import { HttpClient, HttpTransportError, jsonBody } from '../../http/client';
import type { SentinelSettings } from './config';

export type TokenResult = { ok: true; token: string } | { ok: false; retriable: boolean; reason: string };

/**
 * OAuth2 client-credentials tokens from the Microsoft identity platform
 * (POST {authority}/{tenant}/oauth2/v2.0/token), cached until `refreshMarginMs` before expiry.
 * Concurrent callers share one request.
 */
export class TokenProvider {
  private cached: { token: string; renewAt: number } | null = null;
  private inflight: Promise<TokenResult> | null = null;

  constructor(
    private readonly s: SentinelSettings,
    private readonly http: HttpClient,
    private readonly logger: Logger,
    private readonly metrics: ForwarderMetrics,
  ) {}

  async get(signal: AbortSignal): Promise<TokenResult> {
    if (this.cached && Date.now() < this.cached.renewAt) return { ok: true, token: this.cached.token };
    this.inflight ??= this.fetch(signal).finally(() => (this.inflight = null));
    return this.inflight;
  }

  /** Forget the cached token (the API said 401: it may have been revoked or expired early). */
  invalidate(token: string): void {
    if (this.cached?.token === token) this.cached = null;
  }

  private async fetch(signal: AbortSignal): Promise<TokenResult> {
    const body = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: this.s.clientId,
      client_secret: this.s.clientSecret,
      scope: this.s.scope,
    }).toString();
    const started = Date.now();
    let res;
    try {
      res = await this.http.request({
        method: 'POST',
        path: `/${encodeURIComponent(this.s.tenantId)}/oauth2/v2.0/token`,
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
        body,
        signal,
      });
    } catch (err) {
      this.metrics.tokenRequests.inc({ outcome: 'unavailable' });
      return {
        ok: false,
        retriable: true,
        reason: `token endpoint unreachable: ${err instanceof HttpTransportError ? err.message : String(err)}`,
      };
    }
    const answer = readTokenAnswer(res.status, jsonBody(res));
    if (!answer.ok) {
      this.metrics.tokenRequests.inc({ outcome: answer.retriable ? 'unavailable' : 'refused' });
      if (!answer.retriable)
        this.logger.error({ sink: 'sentinel', reason: answer.reason }, 'token request refused (check tenant, client id, secret and scope)');
      return answer;
    }
    this.metrics.tokenRequests.inc({ outcome: 'ok' });
    // Renew ahead of expiry, but never sooner than half the lifetime (short-lived tokens in tests).
    const lifeMs = answer.expiresInS * 1000;
    const renewIn = Math.max(lifeMs - this.s.refreshMarginMs, lifeMs / 2);
    this.cached = { token: answer.accessToken, renewAt: started + renewIn };
    return { ok: true, token: answer.accessToken };
  }
}
