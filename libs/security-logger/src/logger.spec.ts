import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SecurityEventInputSchema, verifyEventMac } from '@vigil/contracts';
import { SecurityLogger, type DropInfo } from './logger';

// A port nothing listens on: the "broker outage" case, without a broker.
const DEAD_BROKER = ['127.0.0.1:1'];

describe('SecurityLogger without a reachable broker', () => {
  it('never throws into the caller, holds at most maxBufferedEvents, and counts and reports every drop', async () => {
    const drops: DropInfo[] = [];
    const logger = new SecurityLogger({
      application: 'app',
      brokers: DEAD_BROKER,
      maxBufferedEvents: 10,
      onDrop: (d) => drops.push(d),
      warn: () => undefined,
    });
    const ids: string[] = [];
    for (let i = 0; i < 25; i++) ids.push(logger.authentication({ userId: `u${i}`, outcome: 'failure', sourceIp: '192.0.2.1' }));
    expect(ids.every((id) => /^[0-9a-f-]{36}$/.test(id))).toBe(true);
    expect(logger.stats.buffered).toBe(10);
    expect(logger.stats.dropped).toBe(15);
    expect(drops.filter((d) => d.reason === 'buffer_full').map((d) => d.eventId)).toEqual(ids.slice(10));
    await logger.close(300);
    expect(drops.filter((d) => d.reason === 'closed')).toHaveLength(10);
    expect(logger.stats).toMatchObject({ buffered: 0, sent: 0, dropped: 25 });
  });

  it('bounds the buffer by bytes as well as by count', async () => {
    const logger = new SecurityLogger({ application: 'app', brokers: DEAD_BROKER, maxBufferedBytes: 4096, warn: () => undefined });
    for (let i = 0; i < 50; i++) logger.securityAlert({ alertType: 'x', description: 'y'.repeat(200), severity: 'high' });
    expect(logger.stats.buffered).toBeLessThan(20);
    expect(logger.stats.buffered + logger.stats.dropped).toBe(50);
    await logger.close(100);
  });

  it('drops an invalid event with the reason instead of throwing', async () => {
    const drops: DropInfo[] = [];
    const logger = new SecurityLogger({ application: 'app', brokers: DEAD_BROKER, onDrop: (d) => drops.push(d), warn: () => undefined });
    logger.authentication({ userId: 'u', outcome: 'failure', sourceIp: 'not-an-ip' });
    expect(drops).toHaveLength(1);
    expect(drops[0]).toMatchObject({ reason: 'invalid_event' });
    expect(drops[0]!.detail).toContain('source.ip');
    await logger.close(100);
  });

  it('survives an onDrop callback that throws', async () => {
    const logger = new SecurityLogger({
      application: 'app',
      brokers: DEAD_BROKER,
      maxBufferedEvents: 1,
      onDrop: () => {
        throw new Error('boom');
      },
      warn: () => undefined,
    });
    expect(() => {
      logger.logEvent({ eventType: 'system_event', severity: 'info', action: 'a' });
      logger.logEvent({ eventType: 'system_event', severity: 'info', action: 'b' });
    }).not.toThrow();
    await logger.close(100);
  });
});

describe('SecurityLogger file output', () => {
  it('writes every event as one JSON line in the shape ingest accepts, signed when a key is set', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-sdk-'));
    const file = join(dir, 'events.jsonl');
    const key = Buffer.alloc(32, 3);
    const logger = new SecurityLogger({ application: 'app', environment: 'test', file, signing: { keyId: 'k1', key } });
    logger.authentication({ userId: 'alice', outcome: 'success', sourceIp: '2001:db8::7', method: 'password' });
    logger.authorization({ userId: 'alice', resource: '/admin/users', permission: 'delete', granted: false });
    logger.dataAccess({ userId: 'alice', resource: 'customers', operation: 'read', records: 12 });
    logger.configurationChange({ userId: 'alice', setting: 'mfa.required', oldValue: true, newValue: false });
    logger.securityAlert({ alertType: 'waf', description: 'SQL injection attempt', severity: 'high', sourceIp: '203.0.113.9' });
    await logger.close();
    const lines = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => l.event_type)).toEqual([
      'authentication',
      'authorization',
      'data_access',
      'configuration_change',
      'security_alert',
    ]);
    for (const l of lines) {
      expect(SecurityEventInputSchema.safeParse(l).success).toBe(true);
      const integrity = l.integrity as { mac: string };
      expect(verifyEventMac(l, key, integrity.mac)).toBe(true);
    }
    expect(lines[1]).toMatchObject({ outcome: 'denied', target: { resource: '/admin/users' } });
  });
});
