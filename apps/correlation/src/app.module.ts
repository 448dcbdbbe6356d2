import { Module, type DynamicModule } from '@nestjs/common';
import { RuntimeModule, type RuntimeParts } from '@vigil/runtime';
import type { CorrelationConfig } from './config';
import { CorrelationPipeline, RULES, CORRELATION_METRICS } from './correlation.pipeline';
import type { CorrelationMetrics } from './metrics';
import type { RuleRegistry } from './rules/loader';

@Module({})
export class CorrelationModule {
  static forRoot(parts: RuntimeParts<CorrelationConfig>, extra: { rules: RuleRegistry; metrics: CorrelationMetrics }): DynamicModule {
    return {
      module: CorrelationModule,
      imports: [RuntimeModule.forRoot(parts)],
      providers: [
        { provide: RULES, useValue: extra.rules },
        { provide: CORRELATION_METRICS, useValue: extra.metrics },
        CorrelationPipeline,
      ],
    };
  }
}
