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
