import {
  Body,
  Controller,
  ForbiddenException,
  Get,
  HttpCode,
  Inject,
  Param,
  Post,
  Query,
  Req,
  UseGuards,
  HttpException,
} from '@nestjs/common';
import type { Request } from 'express';
import { z } from 'zod';
import { UuidSchema, describeIssues, toIssues } from '@vigil/contracts';
import { runRecord, userActor } from '../audit';
import { decide, isTerminal, type Run } from '../domain/run';
import { SoarService } from '../service';
import { RUN_MEMBER } from '../store/store';
import { BearerGuard, type Principal } from './auth';

const ApproveBody = z.strictObject({ step_index: z.number().int().min(0).max(100), comment: z.string().max(500).optional() });
const RejectBody = z.strictObject({ step_index: z.number().int().min(0).max(100), reason: z.string().trim().min(1).max(1000) });
const Limit = z.coerce.number().int().min(1).max(200).default(50);

function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new HttpException({ statusCode: 400, error: 'Bad Request', message: describeIssues(toIssues(r.error)) }, 400);
  return r.data;
}

const CODE_STATUS = { not_pending: 409, wrong_step: 409, expired: 409, forbidden: 403 } as const;

/** The approvals API: what is pending, what ran, approve, reject. Every route needs a bearer token. */
@Controller('api/v1')
@UseGuards(BearerGuard)
export class ApiController {
  constructor(@Inject(SoarService) private readonly soar: SoarService) {}

  @Get('whoami')
  whoami(@Req() req: Request & { principal: Principal }): Principal {
    return req.principal;
  }

  @Get('approvals')
  async approvals(@Query('limit') limit?: string): Promise<{ approvals: Run[] }> {
    return { approvals: await this.soar.store.pendingApprovals(Date.now(), parse(Limit, limit)) };
  }

  @Get('runs')
  async runs(@Query('limit') limit?: string): Promise<{ runs: Run[] }> {
    return { runs: await this.soar.store.recentRuns(parse(Limit, limit)) };
  }

  @Get('alerts')
  async alerts(@Query('limit') limit?: string): Promise<{ alerts: unknown[] }> {
    return { alerts: await this.soar.store.recent('alerts', parse(Limit, limit)) };
  }

  @Get('actions')
  async actions(@Query('limit') limit?: string): Promise<{ actions: unknown[] }> {
    return { actions: await this.soar.store.recent('actions', parse(Limit, limit)) };
  }

  @Get('undos')
  async undos(@Query('limit') limit?: string): Promise<{ scheduled: unknown[]; failed: unknown[] }> {
    const n = parse(Limit, limit);
    return { scheduled: await this.soar.store.scheduledUndos(n), failed: await this.soar.store.failedUndos(n) };
  }

  @Post('approvals/:runId/approve')
  @HttpCode(200)
  async approve(
    @Param('runId') runId: string,
    @Body() body: unknown,
    @Req() req: Request & { principal: Principal },
  ): Promise<{ run: Run }> {
    const b = parse(ApproveBody, body ?? {});
    return this.decide(parse(UuidSchema, runId), b.step_index, true, req.principal, b.comment);
  }

  @Post('approvals/:runId/reject')
  @HttpCode(200)
  async reject(
    @Param('runId') runId: string,
    @Body() body: unknown,
    @Req() req: Request & { principal: Principal },
  ): Promise<{ run: Run }> {
    const b = parse(RejectBody, body ?? {});
    return this.decide(parse(UuidSchema, runId), b.step_index, false, req.principal, b.reason);
  }

  /**
   * Records the decision with compare-and-set (an expiry or another analyst racing us loses or wins
   * cleanly), its audit record in the run's outbox, and queues the run so the runner resumes it.
   */
  private async decide(runId: string, stepIndex: number, approve: boolean, who: Principal, reason?: string): Promise<{ run: Run }> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const stored = await this.soar.store.getRun(runId);
      if (!stored) throw new HttpException({ statusCode: 404, error: 'Not Found', message: `no run ${runId}` }, 404);
      const now = Date.now();
      const d = decide(stored.run, stepIndex, { approve, by: who.name, role: who.role, ...(reason ? { reason } : {}) }, now);
      if (!d.ok) {
        if (d.code === 'forbidden') {
          this.soar.soarMetrics.authFailures.inc({ reason: 'forbidden' });
          throw new ForbiddenException(d.message);
        }
        throw new HttpException({ statusCode: CODE_STATUS[d.code], error: d.code, message: d.message }, CODE_STATUS[d.code]);
      }
      const step = d.run.steps[stepIndex]!;
      const records = [
        runRecord(d.run, approve ? 'approved' : 'rejected', now, {
          step,
          actor: userActor(who.name, who.role),
          ...(reason ? { extra: { reason } } : {}),
        }),
      ];
      if (isTerminal(d.run.status)) records.push(runRecord(d.run, 'run_finished', now, { actor: userActor(who.name, who.role) }));
      if (await this.soar.store.saveRun(d.run, stored.version, [...stored.outbox, ...records])) {
        this.soar.soarMetrics.approvals.inc({ outcome: approve ? 'approved' : 'rejected' });
        if (isTerminal(d.run.status)) this.soar.soarMetrics.runsFinished.inc({ outcome: d.run.status });
        await this.soar.store.enqueue(RUN_MEMBER + runId, now);
        this.soar.runner.kick();
        return { run: d.run };
      }
    }
    throw new HttpException({ statusCode: 409, error: 'conflict', message: 'the run kept changing; try again' }, 409);
  }
}
