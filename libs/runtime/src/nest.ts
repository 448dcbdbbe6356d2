import 'reflect-metadata';
import {
  Controller,
  Get,
  Header,
  HttpCode,
  Inject,
  Module,
  Res,
  type DynamicModule,
  type LoggerService,
  type INestApplication,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Response } from 'express';
import type { Logger } from 'pino';
import { Health } from './health';
import { Metrics } from './metrics';

export const LOGGER = Symbol('vigil.logger');
export const METRICS = Symbol('vigil.metrics');
export const HEALTH = Symbol('vigil.health');
export const CONFIG = Symbol('vigil.config');

@Controller()
class ObservabilityController {
  constructor(
    @Inject(METRICS) private readonly metrics: Metrics,
    @Inject(HEALTH) private readonly health: Health,
  ) {}

  /** Liveness: the event loop answers. */
  @Get('healthz')
  @HttpCode(200)
  live(): { status: string } {
    return { status: 'ok' };
  }

  /** Readiness: every dependency check passes. 503 otherwise, with which one failed. */
  @Get('readyz')
  async ready(@Res() res: Response): Promise<void> {
    const r = await this.health.readiness();
    res.status(r.ready ? 200 : 503).json({ status: r.ready ? 'ready' : 'not_ready', checks: r.checks });
  }

  @Get('metrics')
  @Header('Cache-Control', 'no-store')
  async metricsText(@Res() res: Response): Promise<void> {
    res.setHeader('Content-Type', this.metrics.registry.contentType);
    res.send(await this.metrics.registry.metrics());
  }
}

export interface RuntimeParts<C> {
  config: C;
  logger: Logger;
  metrics: Metrics;
  health: Health;
}

/** Global module exposing config, logger, metrics and health, plus the observability endpoints. */
@Module({})
export class RuntimeModule {
  static forRoot<C>(parts: RuntimeParts<C>): DynamicModule {
    return {
      module: RuntimeModule,
      global: true,
      controllers: [ObservabilityController],
      providers: [
        { provide: CONFIG, useValue: parts.config },
        { provide: LOGGER, useValue: parts.logger },
        { provide: METRICS, useValue: parts.metrics },
        { provide: HEALTH, useValue: parts.health },
      ],
      exports: [CONFIG, LOGGER, METRICS, HEALTH],
    };
  }
}

/** Routes Nest's own log lines through pino. */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}
  log(message: unknown, context?: string): void {
    this.logger.info({ context }, String(message));
  }
  error(message: unknown, trace?: string, context?: string): void {
    this.logger.error({ context, trace }, String(message));
  }
  warn(message: unknown, context?: string): void {
    this.logger.warn({ context }, String(message));
  }
  debug(message: unknown, context?: string): void {
    this.logger.debug({ context }, String(message));
  }
  verbose(message: unknown, context?: string): void {
    this.logger.trace({ context }, String(message));
  }
}

export interface StartOptions {
  logger: Logger;
  health: Health;
  port: number;
  host: string;
  /** Most time graceful shutdown may take before the process exits anyway. */
  shutdownTimeoutMs?: number;
  /** Largest request body the HTTP server reads. */
  bodyLimit?: string;
  /**
   * Path prefixes whose request bodies are left unread for the route to read itself (bounded), e.g.
   * protocols whose bodies are not one JSON document (Splunk HEC's concatenated objects, NDJSON).
   */
  rawBodyPaths?: readonly string[];
}

/**
 * The JSON body parser every service uses (bounded by `bodyLimit`), skipped for `rawBodyPaths`.
 * startService calls it; tests that build the Nest app themselves call it too.
 */
export async function installBodyParsers(
  app: INestApplication,
  opts: Pick<StartOptions, 'bodyLimit' | 'rawBodyPaths'> = {},
): Promise<void> {
  const express = await import('express');
  const json = express.json({ limit: opts.bodyLimit ?? '256kb' });
  const raw = opts.rawBodyPaths ?? [];
  if (raw.length === 0) {
    app.use(json);
    return;
  }
  const isRaw = (path: string) => raw.some((p) => path === p || path.startsWith(p.endsWith('/') ? p : `${p}/`));
  app.use((req: import('express').Request, res: import('express').Response, next: import('express').NextFunction) =>
    isRaw(req.path) ? next() : json(req, res, next),
  );
}

/**
 * Creates and starts a Nest HTTP app for a service: pino logging, shutdown hooks that finish the
 * in-flight batch, and an exit if shutdown hangs (a stuck broker must not keep a pod Terminating).
 */
export async function startService(rootModule: DynamicModule, opts: StartOptions): Promise<INestApplication> {
  const app = await NestFactory.create(rootModule, {
    logger: new PinoNestLogger(opts.logger),
    bodyParser: false,
  });
  await installBodyParsers(app, opts);
  app.enableShutdownHooks(['SIGTERM', 'SIGINT']);
  const timeout = opts.shutdownTimeoutMs ?? 30_000;
  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    process.once(sig, () => {
      opts.health.markShuttingDown();
      opts.logger.info({ signal: sig }, 'shutting down: finishing in-flight batch');
      setTimeout(() => {
        opts.logger.error({ timeoutMs: timeout }, 'shutdown timed out; exiting');
        process.exit(1);
      }, timeout).unref();
    });
  }
  await app.listen(opts.port, opts.host);
  const addr = app.getHttpServer().address();
  opts.logger.info({ address: addr }, 'http listening (healthz, readyz, metrics)');
  return app;
}
