import { randomBytes } from 'node:crypto';
import { Partitioners, type PartitionerArgs } from 'kafkajs';
import { FastDefaultPartitioner, murmur2, murmur2String } from './partitioner';

const metadata = (n: number, down: number[] = []) =>
  Array.from({ length: n }, (_, i) => ({ partitionId: i, leader: down.includes(i) ? -1 : 1, replicas: [1], isr: [1] }));
const args = (n: number, message: PartitionerArgs['message'], down: number[] = []): PartitionerArgs => ({
  topic: 't',
  partitionMetadata: metadata(n, down),
  message,
});

describe('FastDefaultPartitioner: kafkajs DefaultPartitioner choices, in 32-bit arithmetic', () => {
  it('puts every key in the partition kafkajs puts it in (random bytes, ASCII and non-ASCII strings)', () => {
    const theirs = Partitioners.DefaultPartitioner();
    const ours = FastDefaultPartitioner();
    const keys: Array<string | Buffer> = ['', 'a', 'ab', 'abc', '203.0.113.66', 'alice@example.com', 'ü€😀', 'abcé'];
    for (let i = 0; i < 2_000; i++) {
      const b = randomBytes(i % 41);
      keys.push(b, b.toString('hex'), b.toString('latin1'));
    }
    for (const n of [1, 3, 6, 7, 64]) {
      const mismatched = keys.filter((key) => ours(args(n, { key, value: 'x' })) !== theirs(args(n, { key, value: 'x' })));
      expect([n, mismatched.length]).toEqual([n, 0]);
    }
  });

  it('hashes a string as its UTF-8 bytes', () => {
    for (const s of ['203.0.113.66', 'ü€😀', 'user-12345', '']) expect(murmur2String(s)).toBe(murmur2(Buffer.from(s)));
  });

  it('keeps a partition the message names, and spreads keyless messages over the partitions that have a leader', () => {
    const ours = FastDefaultPartitioner();
    expect(ours(args(6, { key: 'k', value: 'x', partition: 4 }))).toBe(4);
    const seen = new Set(Array.from({ length: 60 }, () => ours(args(6, { value: 'x' }, [1, 3]))));
    expect([...seen].sort()).toEqual([0, 2, 4, 5]);
    // No partition has a leader: still a valid partition number.
    expect(ours(args(3, { value: 'x' }, [0, 1, 2]))).toBeLessThan(3);
  });
});

describe('kafkajs patch (patches/kafkajs@2.2.4.patch): grouping a send per partition', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const group = require('kafkajs/src/producer/groupMessagesPerPartition') as (a: {
    topic: string;
    partitionMetadata: PartitionerArgs['partitionMetadata'];
    messages: Array<{ key: string; value: string }>;
    partitioner: (a: PartitionerArgs) => number;
  }) => Record<string, Array<{ key: string; value: string }>>;

  it('is the patched, linear version', () => {
    expect(group.toString()).toContain('current.push(message)');
  });

  it('keeps every message once, in send order within its partition', () => {
    const partitioner = FastDefaultPartitioner();
    const messages = Array.from({ length: 5_000 }, (_, i) => ({ key: `k${i % 97}`, value: String(i) }));
    const grouped = group({ topic: 't', partitionMetadata: metadata(6), messages, partitioner });
    const all = Object.values(grouped).flat();
    expect(all).toHaveLength(messages.length);
    for (const [p, list] of Object.entries(grouped)) {
      const values = list.map((m) => Number(m.value));
      expect(values).toEqual([...values].sort((a, b) => a - b));
      for (const m of list) expect(partitioner(args(6, m))).toBe(Number(p));
    }
  });
});
