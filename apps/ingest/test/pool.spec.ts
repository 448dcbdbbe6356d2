import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { silentLogger } from '@vigil/runtime';
import { validateBatch, type RawItem, type ValidationSettings } from '../src/domain/batch';

// The compiled pool, so that batches really cross to a worker thread (from the TypeScript sources
// the pool validates inline). `./vigil test` builds before it tests.
const DIST_POOL = join(__dirname, '..', 'dist', 'validation', 'pool.js');

const settings: ValidationSettings = {
  limits: { maxBytes: 4096, maxDepth: 8 },
  futureToleranceMs: 300_000,
  integrity: 'off',
  keys: new Map(),
};

const good = (i: number) =>
  JSON.stringify({
    event_id: `6f1c2b9e-0d4a-4c1e-9a7b-${String(i).padStart(12, '0')}`,
    timestamp: '2026-11-29T10:00:00.123456Z',
    event_type: 'authentication',
    severity: 'high',
    source: { application: 'sso', ip: `10.0.0.${i % 250}` },
    actor: { user_id: `zoë-${i}` },
    action: 'login',
    outcome: 'failure',
    details: { note: '東京 🚀' },
  });

describe('validation on a worker thread (compiled pool)', () => {
  it('gives the same results as validating inline, bad input included', async () => {
    expect(existsSync(DIST_POOL)).toBe(true);
    const { ValidationPool } = (await import(DIST_POOL)) as typeof import('../src/validation/pool');
    const pool = new ValidationPool(settings, 1, silentLogger());
    try {
      expect(pool.inline).toBe(false);
      // values sliced out of one shared buffer, as kafkajs hands them over
      const values = [good(1), '{"not json', good(2), '[]', '', good(3), '{"a":' + 'x'.repeat(5000) + '}', good(4)];
      const shared = Buffer.from(values.join(''));
      let pos = 0;
      const items: RawItem[] = values.map((v, i) => {
        const len = Buffer.byteLength(v);
        const value = v === '' && i === 4 ? null : shared.subarray(pos, pos + len);
        pos += len;
        return { topic: 'raw', partition: 2, offset: String(100 + i), value };
      });
      const now = Date.parse('2026-11-29T10:01:00Z');
      const viaWorker = await pool.run(items, now);
      const inline = validateBatch(items, now, settings);
      expect(viaWorker.map((r) => (r.ok ? { ...r, value: r.value.toString() } : r))).toEqual(inline);
      expect(inline.filter((r) => r.ok)).toHaveLength(4);
    } finally {
      await pool.close();
    }
  });
});
