import { existsSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { kafkaDown, kafkaPaths, kafkaReset, kafkaUp } from '../infra/kafka';
import { redisDown, redisUp } from '../infra/redis';
import { infraSettings, type InfraSettings } from '../infra/settings';

/** Where the fault suite's own broker and Redis live: never the shared ones on 9092/6379. */
export const FAULTS_INFRA = {
  dir: '.cache/faults-infra',
  kafkaPort: 19092,
  redisPort: 16399,
  kafkaHeap: '768m',
} as const;

/**
 * A private Kafka broker and Redis (AOF on, as production should run it) that the suite may stop
 * and restart at will; everyone else's tests keep using the shared ones.
 */
export class PrivateInfra {
  readonly settings: InfraSettings;
  readonly brokers: string;
  readonly redisUrl: string;

  constructor(root: string) {
    // Built from explicit values only: KAFKA_BROKERS / REDIS_URL in our environment must not
    // turn the private servers into "external" ones.
    this.settings = infraSettings(root, {
      VIGIL_INFRA_DIR: FAULTS_INFRA.dir,
      VIGIL_KAFKA_PORT: String(FAULTS_INFRA.kafkaPort),
      VIGIL_REDIS_PORT: String(FAULTS_INFRA.redisPort),
      VIGIL_KAFKA_HEAP: FAULTS_INFRA.kafkaHeap,
      VIGIL_REDIS_APPENDONLY: 'true',
    });
    this.brokers = `127.0.0.1:${FAULTS_INFRA.kafkaPort}`;
    this.redisUrl = `redis://127.0.0.1:${FAULTS_INFRA.redisPort}`;
    this.shareJars(root);
  }

  /** Reuses the shared infra's resolved broker jars instead of resolving them from Maven again. */
  private shareJars(root: string): void {
    const mine = kafkaPaths(this.settings);
    const shared = kafkaPaths(infraSettings(root, {}));
    if (existsSync(mine.marker) || !existsSync(shared.marker)) return;
    mkdirSync(mine.home, { recursive: true });
    if (!existsSync(mine.libs)) symlinkSync(shared.libs, mine.libs, 'dir');
  }

  /** Starts both with an empty broker (the data of earlier suite runs is deleted first). */
  async up(): Promise<void> {
    await this.down();
    kafkaReset(this.settings);
    rmSync(join(this.settings.dir, 'redis', 'appendonlydir'), { recursive: true, force: true });
    await this.startKafka();
    await this.startRedis();
  }

  async startKafka(): Promise<void> {
    await kafkaUp(this.settings);
  }

  async stopKafka(): Promise<void> {
    await kafkaDown(this.settings);
  }

  async startRedis(): Promise<void> {
    await redisUp(this.settings);
  }

  async stopRedis(): Promise<void> {
    await redisDown(this.settings);
  }

  async down(): Promise<void> {
    await redisDown(this.settings);
    await kafkaDown(this.settings);
  }

  get logs(): string {
    return join(this.settings.dir, 'kafka', 'server.log');
  }
}
