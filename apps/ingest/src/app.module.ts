import { Module, type DynamicModule } from '@nestjs/common';
import { RuntimeModule, type RuntimeParts } from '@vigil/runtime';
import type { IngestConfig } from './config';
import { HttpIngestModule } from './http/http-ingest.module';
import { IngestPipeline } from './ingest.pipeline';

@Module({})
export class IngestModule {
  static forRoot(parts: RuntimeParts<IngestConfig>): DynamicModule {
    return {
      module: IngestModule,
      imports: [RuntimeModule.forRoot(parts), ...(parts.config.http ? [HttpIngestModule] : [])],
      providers: [IngestPipeline],
    };
  }
}
