import 'reflect-metadata';
import { Health, Metrics, configOrExit, createLogger, parseEnv, startService } from '@vigil/runtime';
import { IngestModule } from './app.module';
import { IngestEnvSchema, ingestConfig, type IngestConfig } from './config';
import { RAW_BODY_PATHS } from './http/http-ingest.module';
import { SERVICE } from './ingest.pipeline';

async function main(): Promise<void> {
  const config: IngestConfig = configOrExit(() => ingestConfig(parseEnv(IngestEnvSchema)));
  const env = config.env;
  const logger = createLogger({ service: SERVICE, level: env.LOG_LEVEL });
  const metrics = new Metrics(SERVICE);
  const health = new Health();
  await startService(IngestModule.forRoot({ config, logger, metrics, health }), {
    logger,
    health,
    port: env.HTTP_PORT,
    host: env.HTTP_HOST,
    rawBodyPaths: RAW_BODY_PATHS,
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`ingest failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
