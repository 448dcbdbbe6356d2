import { Inject, Injectable, Module, type DynamicModule, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { RuntimeModule, type RuntimeParts } from '@vigil/runtime';
import { SilencesController } from './api/silences.controller';
import type { RouterConfig } from './config';
import { ROUTER, type AlertRouterService } from './router.service';

/** Starts and stops the router with the Nest application. */
@Injectable()
class RouterLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(@Inject(ROUTER) private readonly router: AlertRouterService) {}
  async onApplicationBootstrap(): Promise<void> {
    await this.router.start();
  }
  async onApplicationShutdown(): Promise<void> {
    await this.router.stop();
  }
}

@Module({})
export class AlertRouterModule {
  static forRoot(parts: RuntimeParts<RouterConfig>, router: AlertRouterService): DynamicModule {
    return {
      module: AlertRouterModule,
      imports: [RuntimeModule.forRoot(parts)],
      controllers: [SilencesController],
      providers: [{ provide: ROUTER, useValue: router }, RouterLifecycle],
    };
  }
}
