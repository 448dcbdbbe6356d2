import { awaitLeaders, type LeaderSource } from './topics';

type Metadata = Awaited<ReturnType<LeaderSource['fetchTopicMetadata']>>;

const retriable = (message: string) => Object.assign(new Error(message), { retriable: true });
const meta = (leader: number): Metadata => ({ topics: [{ name: 't', partitions: [{ leader }] }] });
const served = () => [{ partition: 0, offset: '0' }];

/** A stand-in admin whose metadata and ListOffsets answers each follow a script (the last answer repeats). */
function scripted(metadata: Array<() => Metadata>, offsets: Array<() => unknown> = [served]) {
  const calls = { metadata: 0, offsets: 0 };
  return {
    calls,
    fetchTopicMetadata: async () => metadata[Math.min(calls.metadata++, metadata.length - 1)]!(),
    fetchTopicOffsets: async () => offsets[Math.min(calls.offsets++, offsets.length - 1)]!(),
  };
}

describe('awaitLeaders (after creating topics)', () => {
  it('waits out "does not host this topic-partition" and partitions without a leader, then returns', async () => {
    const admin = scripted([
      () => {
        throw retriable('This server does not host this topic-partition');
      },
      () => meta(-1),
      () => meta(1),
    ]);
    await awaitLeaders(admin, ['t'], 5_000, 1);
    expect(admin.calls).toEqual({ metadata: 3, offsets: 1 });
  });

  it('waits until the named leader serves the partition (ListOffsets answered), without asking for metadata again', async () => {
    const admin = scripted(
      [() => meta(1)],
      [
        () => {
          throw retriable('This server is not the leader for that topic-partition');
        },
        () => {
          throw retriable('This server is not the leader for that topic-partition');
        },
        served,
      ],
    );
    await awaitLeaders(admin, ['t'], 5_000, 1);
    expect(admin.calls).toEqual({ metadata: 1, offsets: 3 });
  });

  it('throws a non-retriable error at once', async () => {
    const admin = scripted([
      () => {
        throw Object.assign(new Error('Topic authorization failed'), { retriable: false });
      },
    ]);
    await expect(awaitLeaders(admin, ['t'], 5_000, 1)).rejects.toThrow('Topic authorization failed');
    expect(admin.calls.metadata).toBe(1);
  });

  it('gives up after its timeout, saying what it was waiting for', async () => {
    await expect(awaitLeaders(scripted([() => meta(-1)]), ['t'], 50, 5)).rejects.toThrow(/not ready after 0.05 s: no leader yet for t/);
    const unserved = scripted(
      [() => meta(1)],
      [
        () => {
          throw retriable('This server is not the leader for that topic-partition');
        },
      ],
    );
    await expect(awaitLeaders(unserved, ['t'], 50, 5)).rejects.toThrow(/not ready after 0.05 s: This server is not the leader/);
  });
});
