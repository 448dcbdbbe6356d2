import { randomUUID } from 'node:crypto';
import { Controller, Delete, Get, Inject, Param, Post, Query, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { describeIssues, toIssues } from '@vigil/contracts';
import {
  SilenceInputSchema,
  expireSilence,
  newSilence,
  silenceState,
  MAX_SILENCES,
  type Silence,
  type SilenceState,
} from '../domain/silences';
import { ROUTER } from '../router.service';
import type { AlertRouterService } from '../router.service';
import { authenticate } from './auth';

const ID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Expired silences stay listed this long, then are removed (Alertmanager keeps them for a while too). */
export const EXPIRED_RETENTION_MS = 5 * 86_400_000;

function view(s: Silence, nowMs: number): Silence & { state: SilenceState } {
  return { ...s, state: silenceState(s, nowMs) };
}

/**
 * Silences API: create, list, read and expire. Every request needs a bearer token whose sha256 is
 * configured in ROUTER_API_TOKENS; the token's name is recorded on what it creates and expires.
 */
@Controller('api/v1/silences')
export class SilencesController {
  constructor(@Inject(ROUTER) private readonly router: AlertRouterService) {}

  private auth(req: Request, res: Response, action: string): string | null {
    const name = authenticate(req.headers.authorization, this.router.config.apiTokens);
    if (!name) {
      this.router.metrics.apiRequests.inc({ action, code: '401' });
      res
        .status(401)
        .setHeader('WWW-Authenticate', 'Bearer realm="vigil-alert-router"')
        .json({ error: 'unauthorized', message: 'a valid bearer token is required' });
    }
    return name;
  }

  private answer(res: Response, action: string, status: number, body: unknown): void {
    this.router.metrics.apiRequests.inc({ action, code: String(status) });
    res.status(status).json(body);
  }

  @Post()
  async create(@Req() req: Request, @Res() res: Response): Promise<void> {
    const who = this.auth(req, res, 'create');
    if (!who) return;
    const parsed = SilenceInputSchema.safeParse(req.body);
    if (!parsed.success) {
      const issues = toIssues(parsed.error);
      return this.answer(res, 'create', 400, { error: 'invalid_silence', message: describeIssues(issues), issues });
    }
    const now = this.router.clock();
    const made = newSilence(parsed.data, { id: randomUUID(), tokenName: who }, now);
    if (!made.ok)
      return this.answer(res, 'create', 400, {
        error: 'invalid_silence',
        message: `${made.path}: ${made.message}`,
        issues: [{ path: made.path, message: made.message }],
      });
    await this.prune(now);
    if (!(await this.router.store.putSilence(made.silence, MAX_SILENCES))) {
      return this.answer(res, 'create', 409, { error: 'too_many_silences', message: `at most ${MAX_SILENCES} silences are kept` });
    }
    this.router.logger.info(
      { silence: made.silence.id, matchers: made.silence.matchers, ends_at: made.silence.ends_at, by: who },
      'silence created',
    );
    this.answer(res, 'create', 201, view(made.silence, now));
  }

  @Get()
  async list(@Req() req: Request, @Res() res: Response, @Query('state') state?: string): Promise<void> {
    if (!this.auth(req, res, 'list')) return;
    if (state !== undefined && !['active', 'pending', 'expired'].includes(state)) {
      return this.answer(res, 'list', 400, { error: 'invalid_state', message: 'state must be active, pending or expired' });
    }
    const now = this.router.clock();
    await this.prune(now);
    const all = (await this.router.store.listSilences()).map((s) => view(s, now)).filter((s) => !state || s.state === state);
    all.sort((a, b) => (a.created_at < b.created_at ? 1 : -1));
    this.answer(res, 'list', 200, { silences: all });
  }

  @Get(':id')
  async get(@Req() req: Request, @Res() res: Response, @Param('id') id: string): Promise<void> {
    if (!this.auth(req, res, 'get')) return;
    const s = ID_RE.test(id) ? await this.router.store.getSilence(id) : null;
    if (!s) return this.answer(res, 'get', 404, { error: 'not_found', message: 'no such silence' });
    this.answer(res, 'get', 200, view(s, this.router.clock()));
  }

  /** Expires a silence now; it stays listed (state "expired") for a few days. */
  @Delete(':id')
  async expire(@Req() req: Request, @Res() res: Response, @Param('id') id: string): Promise<void> {
    const who = this.auth(req, res, 'expire');
    if (!who) return;
    const s = ID_RE.test(id) ? await this.router.store.getSilence(id) : null;
    if (!s) return this.answer(res, 'expire', 404, { error: 'not_found', message: 'no such silence' });
    const now = this.router.clock();
    if (silenceState(s, now) === 'expired')
      return this.answer(res, 'expire', 409, {
        error: 'already_expired',
        message: 'the silence has already expired',
        silence: view(s, now),
      });
    const expired = expireSilence(s, who, now);
    await this.router.store.putSilence(expired, MAX_SILENCES);
    this.router.logger.info({ silence: s.id, by: who }, 'silence expired');
    this.answer(res, 'expire', 200, view(expired, now));
  }

  private async prune(now: number): Promise<void> {
    const old = (await this.router.store.listSilences()).filter((s) => Date.parse(s.ends_at) + EXPIRED_RETENTION_MS < now).map((s) => s.id);
    await this.router.store.deleteSilences(old);
  }
}
