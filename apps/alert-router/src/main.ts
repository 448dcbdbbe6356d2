import 'reflect-metadata';
import { Health, Metrics, configOrExit, createLogger, parseEnv, startService } from '@vigil/runtime';
import { AlertRouterModule } from './app.module';
import { RouterEnvSchema, routerConfig, type RouterConfig } from './config';
import { AlertRouterService, SERVICE } from './router.service';
import { RoutesFileError } from './routing/config-file';

async function main(): Promise<void> {
  const config: RouterConfig = configOrExit(() => routerConfig(parseEnv(RouterEnvSchema)));
  const env = config.env;
  const logger = createLogger({ service: SERVICE, level: env.LOG_LEVEL, redact: ['settings', 'auth', 'pass'] });
  const metrics = new Metrics(SERVICE);
  const health = new Health();
  let router: AlertRouterService;
  try {
    router = new AlertRouterService(config, logger, metrics, health);
  } catch (err) {
    if (err instanceof RoutesFileError) {
      // One line naming the file and the path, like every other configuration error.
      process.stderr.write(`invalid routes file: ${err.message}\n`);
      process.exit(78);
    }
    throw err;
  }
  process.on('SIGHUP', () => router.reload());
  await startService(AlertRouterModule.forRoot({ config, logger, metrics, health }, router), {
    logger,
    health,
    port: env.HTTP_PORT,
    host: env.HTTP_HOST,
    bodyLimit: '64kb',
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`alert-router failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
