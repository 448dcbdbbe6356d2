import { createHash, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable, UnauthorizedException, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { ResponderRole } from '@vigil/contracts';
import type { Request, Response } from 'express';
import type { ApiToken } from '../config';
import { SoarService } from '../service';

export interface Principal {
  name: string;
  role: ResponderRole;
}

const MAX_TOKEN = 512;

/**
 * Bearer tokens checked against configured SHA-256 hashes. Every configured hash is compared (in
 * constant time) so the answer takes as long for a near miss as for garbage.
 */
export function authenticate(header: string | undefined, tokens: readonly ApiToken[]): Principal | 'missing' | 'invalid' {
  if (!header) return 'missing';
  const m = /^Bearer ([\x21-\x7e]{1,512})$/.exec(header);
  if (!m || m[1]!.length > MAX_TOKEN) return 'invalid';
  const digest = createHash('sha256').update(m[1]!, 'utf8').digest();
  let found: ApiToken | null = null;
  for (const t of tokens) if (timingSafeEqual(digest, t.sha256) && !found) found = t;
  return found ? { name: found.name, role: found.role } : 'invalid';
}

/** Refuses (401, counted) every request without a valid bearer token; puts the principal on the request. */
@Injectable()
export class BearerGuard implements CanActivate {
  constructor(@Inject(SoarService) private readonly soar: SoarService) {}

  canActivate(context: ExecutionContext): boolean {
    const http = context.switchToHttp();
    const req = http.getRequest<Request & { principal?: Principal }>();
    const res = http.getResponse<Response>();
    const who = authenticate(req.headers.authorization, this.soar.config.tokens);
    if (typeof who === 'string') {
      this.soar.soarMetrics.authFailures.inc({ reason: who });
      res.setHeader('WWW-Authenticate', `Bearer realm="vigil-soar"${who === 'invalid' ? ', error="invalid_token"' : ''}`);
      throw new UnauthorizedException(who === 'missing' ? 'bearer token required' : 'invalid token');
    }
    req.principal = who;
    return true;
  }
}
