import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { kafkaUp } from './kafka';
import { InfraError } from './proc';
import { infraSettings } from './settings';
import { staleTestTopics } from './cli';

const ROOT = resolve(__dirname, '..', '..', '..');
const CLI = join(ROOT, 'tools', 'dist', 'cli.js');

function listen(): Promise<{ server: Server; port: number }> {
  return new Promise((r) => {
    const server = createServer().listen(0, '127.0.0.1', () => r({ server, port: (server.address() as { port: number }).port }));
  });
}

describe('the infra script says clearly what failed', () => {
  it('refuses to start a broker on a port another process holds, naming the port', async () => {
    const { server, port } = await listen();
    try {
      const s = infraSettings(ROOT, { VIGIL_INFRA_DIR: mkdtempSync(join(tmpdir(), 'vigil-infra-')), VIGIL_KAFKA_PORT: String(port) });
      await expect(kafkaUp(s)).rejects.toThrow(new RegExp(`port ${port} on 127.0.0.1 is taken`));
      await expect(kafkaUp(s)).rejects.toBeInstanceOf(InfraError);
    } finally {
      server.close();
    }
  });

  it('says Java is missing when it is not on PATH', () => {
    const r = spawnSync(process.execPath, [CLI, 'infra', 'up'], {
      encoding: 'utf8',
      env: { PATH: '/nonexistent', VIGIL_INFRA_DIR: mkdtempSync(join(tmpdir(), 'vigil-infra-')), VIGIL_KAFKA_PORT: '1' },
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^error: Java is missing: Kafka 4 needs Java 17 or newer/);
  });

  it('says when KAFKA_BROKERS points at nothing', () => {
    const r = spawnSync(process.execPath, [CLI, 'infra', 'up'], {
      encoding: 'utf8',
      env: { ...process.env, KAFKA_BROKERS: '127.0.0.1:1' },
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('KAFKA_BROKERS=127.0.0.1:1 is set but no broker there answers a metadata request');
  });

  it('rejects a Kafka version outside 4.x before doing anything', () => {
    const r = spawnSync(process.execPath, [CLI, 'infra', 'up'], {
      encoding: 'utf8',
      env: { ...process.env, VIGIL_KAFKA_VERSION: '3.9.0' },
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('invalid configuration: VIGIL_KAFKA_VERSION: must be a Kafka 4.x version');
  });
});

describe('staleTestTopics', () => {
  it('picks the test topics made more than three hours ago, never Vigil’s own or a demo’s', () => {
    const now = Date.now();
    const made = (msAgo: number, prefix = 't') => `${prefix}-${(now - msAgo).toString(36)}-0a1b2c3d.security.events.v1`;
    const old = [made(4 * 3600_000), made(30 * 3600_000, 'bench-pipe'), made(5 * 3600_000, 'reader')];
    const keep = [
      made(3600_000),
      made(0, 'bench-pipe'),
      'security.events.v1',
      'prod.security.alerts.v1',
      `demo-${(now - 9 * 3600_000).toString(36)}.security.events.raw`,
      '__consumer_offsets',
    ];
    expect(staleTestTopics([...keep, ...old], now)).toEqual(old);
  });
});
