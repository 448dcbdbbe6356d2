import 'reflect-metadata';
import { Health, Metrics, configOrExit, createLogger, parseEnv, startService } from '@vigil/runtime';
import { CorrelationModule } from './app.module';
import { CorrelationEnvSchema, type CorrelationConfig } from './config';
import { SERVICE } from './engine';
import { CorrelationMetrics } from './metrics';
import { RuleLoadError, RuleRegistry } from './rules/loader';

async function main(): Promise<void> {
  const config: CorrelationConfig = configOrExit(() => ({ env: parseEnv(CorrelationEnvSchema), raw: process.env }));
  const env = config.env;
  const logger = createLogger({ service: SERVICE, level: env.LOG_LEVEL });
  const metrics = new Metrics(SERVICE);
  const correlationMetrics = new CorrelationMetrics(metrics);
  let rules: RuleRegistry;
  try {
    rules = await RuleRegistry.load(env.CORRELATION_RULES_DIR, logger, correlationMetrics);
  } catch (err) {
    if (err instanceof RuleLoadError) {
      // A bad rule stops start-up: one line per problem, naming file, rule and field.
      process.stderr.write(`${err.message}\n`);
      process.exit(78);
    }
    throw err;
  }
  // Before Nest starts: a SIGHUP during boot reloads instead of killing the process (its default).
  rules.startWatching({ files: env.CORRELATION_RULES_WATCH });
  const health = new Health();
  await startService(CorrelationModule.forRoot({ config, logger, metrics, health }, { rules, metrics: correlationMetrics }), {
    logger,
    health,
    port: env.HTTP_PORT,
    host: env.HTTP_HOST,
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`correlation failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
