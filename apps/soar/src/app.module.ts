import { Module, type DynamicModule, type MiddlewareConsumer, type NestModule } from '@nestjs/common';
import { RuntimeModule, type RuntimeParts } from '@vigil/runtime';
import { ApiController } from './api/api.controller';
import { BearerGuard } from './api/auth';
import { ConsoleController } from './api/console.controller';
import { securityHeaders } from './api/security-headers';
import type { SoarConfig } from './config';
import { SoarService } from './service';

@Module({})
export class SoarModule implements NestModule {
  static forRoot(parts: RuntimeParts<SoarConfig>): DynamicModule {
    const controllers = parts.config.env.SOAR_CONSOLE ? [ApiController, ConsoleController] : [ApiController];
    return { module: SoarModule, imports: [RuntimeModule.forRoot(parts)], controllers, providers: [SoarService, BearerGuard] };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(securityHeaders).forRoutes(ApiController, ConsoleController);
  }
}
