import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { CONFIG, HEALTH, LOGGER, METRICS, type Health, type Logger, type Metrics } from '@vigil/runtime';
import type { ForwarderConfig } from './config';
import { Forwarder } from './forwarder';

/** Nest lifecycle around the Forwarder: start after boot, finish in-flight batches on shutdown. */
@Injectable()
export class ForwarderPipeline implements OnApplicationBootstrap, OnApplicationShutdown {
  readonly forwarder: Forwarder;

  constructor(
    @Inject(CONFIG) config: ForwarderConfig,
    @Inject(LOGGER) logger: Logger,
    @Inject(METRICS) metrics: Metrics,
    @Inject(HEALTH) health: Health,
  ) {
    this.forwarder = new Forwarder({ config, logger, metrics, health });
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.forwarder.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.forwarder.stop();
  }
}
