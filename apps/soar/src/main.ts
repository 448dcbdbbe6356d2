import 'reflect-metadata';
import { Health, Metrics, configOrExit, createLogger, parseEnv, startService } from '@vigil/runtime';
import { SoarModule } from './app.module';
import { SoarEnvSchema, soarConfig, type SoarConfig } from './config';
import { SERVICE } from './soar.pipeline';

async function main(): Promise<void> {
  const config: SoarConfig = configOrExit(() => soarConfig(parseEnv(SoarEnvSchema)));
  const env = config.env;
  const logger = createLogger({ service: SERVICE, level: env.LOG_LEVEL });
  const metrics = new Metrics(SERVICE);
  const health = new Health();
  await startService(SoarModule.forRoot({ config, logger, metrics, health }), {
    logger,
    health,
    port: env.HTTP_PORT,
    host: env.HTTP_HOST,
    bodyLimit: '16kb',
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`soar failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
