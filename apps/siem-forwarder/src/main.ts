import 'reflect-metadata';
import { Health, Metrics, configOrExit, createLogger, parseEnv, startService } from '@vigil/runtime';
import { ForwarderModule } from './app.module';
import { ForwarderEnvSchema, forwarderConfig, type ForwarderConfig } from './config';
import { SERVICE } from './forwarder';

async function main(): Promise<void> {
  const config: ForwarderConfig = configOrExit(() => forwarderConfig(parseEnv(ForwarderEnvSchema)));
  const env = config.env;
  const logger = createLogger({
    service: SERVICE,
    level: env.LOG_LEVEL,
    redact: ['*.clientSecret', '*.authorization', 'token', 'clientSecret'],
  });
  const metrics = new Metrics(SERVICE);
  const health = new Health();
  await startService(ForwarderModule.forRoot({ config, logger, metrics, health }), {
    logger,
    health,
    port: env.HTTP_PORT,
    host: env.HTTP_HOST,
    // Long enough for each lane's shutdown grace plus the DLQ flush.
    shutdownTimeoutMs: Math.max(30_000, env.SIEM_SHUTDOWN_GRACE_MS + 15_000),
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`siem-forwarder failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
