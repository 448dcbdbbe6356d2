import { Module, type DynamicModule } from '@nestjs/common';
import { RuntimeModule, type RuntimeParts } from '@vigil/runtime';
import type { ForwarderConfig } from './config';
import { ForwarderPipeline } from './forwarder.pipeline';

@Module({})
export class ForwarderModule {
  static forRoot(parts: RuntimeParts<ForwarderConfig>): DynamicModule {
    return { module: ForwarderModule, imports: [RuntimeModule.forRoot(parts)], providers: [ForwarderPipeline] };
  }
}
