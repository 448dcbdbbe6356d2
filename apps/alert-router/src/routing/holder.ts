import type { Counter, Logger } from '@vigil/runtime';
import type { Channel } from '../channels/types';
import { RoutesFileError, loadRoutesFile, type RoutingConfig } from './config-file';

/** The routing config in force plus one channel per receiver; swapped whole on a good reload. */
export interface ActiveRouting {
  readonly config: RoutingConfig;
  readonly channels: ReadonlyMap<string, Channel>;
}

function activate(config: RoutingConfig): ActiveRouting {
  const channels = new Map<string, Channel>();
  for (const [name, r] of config.receivers) channels.set(name, r.create());
  return { config, channels };
}

/**
 * Holds the routing config. `reload()` (on SIGHUP) reads the file again: a good file replaces the
 * config atomically; a bad one is logged with its file and path and the old config stays.
 */
export class RoutingHolder {
  private active: ActiveRouting;

  constructor(
    private readonly file: string,
    private readonly readSecret: (name: string) => string | undefined,
    private readonly logger: Logger,
    private readonly reloads?: Counter<'outcome'>,
  ) {
    this.active = activate(loadRoutesFile(file, readSecret));
    logger.info(
      { file, version: this.active.config.version, receivers: [...this.active.config.receivers.keys()] },
      'routing config loaded',
    );
  }

  get current(): ActiveRouting {
    return this.active;
  }

  /** True when the new file is in force. */
  reload(): boolean {
    let next: ActiveRouting;
    try {
      next = activate(loadRoutesFile(this.file, this.readSecret));
    } catch (err) {
      this.reloads?.inc({ outcome: 'rejected' });
      const problem = err instanceof RoutesFileError ? err.message : String(err);
      this.logger.error(
        { file: this.file, problem, keeping: this.active.config.version },
        'routing config reload rejected; keeping the previous config',
      );
      return false;
    }
    const old = this.active;
    this.active = next;
    this.reloads?.inc({ outcome: 'applied' });
    this.logger.info({ file: this.file, version: next.config.version, previous: old.config.version }, 'routing config reloaded');
    for (const ch of old.channels.values()) void ch.close?.();
    return true;
  }

  async close(): Promise<void> {
    for (const ch of this.active.channels.values()) await ch.close?.();
  }
}
