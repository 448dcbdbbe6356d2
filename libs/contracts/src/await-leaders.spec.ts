import { awaitLeaders, type LeaderSource } from './topics';

type Metadata = Awaited<ReturnType<LeaderSource['fetchTopicMetadata']>>;

const notHosted = () => Object.assign(new Error('This server does not host this topic-partition'), { retriable: true });
const meta = (leader: number): Metadata => ({ topics: [{ name: 't', partitions: [{ leader }] }] });

/** A stand-in admin whose metadata answers follow a script (the last answer repeats). */
function scripted(answers: Array<() => Metadata>) {
  let calls = 0;
  return {
    get calls() {
      return calls;
    },
    fetchTopicMetadata: async () => answers[Math.min(calls++, answers.length - 1)]!(),
  };
}

describe('awaitLeaders (after creating topics)', () => {
  it('waits out "does not host this topic-partition" and partitions without a leader, then returns', async () => {
    const admin = scripted([
      () => {
        throw notHosted();
      },
      () => meta(-1),
      () => meta(1),
    ]);
    await awaitLeaders(admin, ['t'], 5_000, 1);
    expect(admin.calls).toBe(3);
  });

  it('throws a non-retriable error at once', async () => {
    const admin = scripted([
      () => {
        throw Object.assign(new Error('Topic authorization failed'), { retriable: false });
      },
    ]);
    await expect(awaitLeaders(admin, ['t'], 5_000, 1)).rejects.toThrow('Topic authorization failed');
    expect(admin.calls).toBe(1);
  });

  it('gives up after its timeout, saying what it was waiting for', async () => {
    const admin = scripted([() => meta(-1)]);
    await expect(awaitLeaders(admin, ['t'], 50, 5)).rejects.toThrow(/not ready after 0.05 s: no leader yet for t/);
  });
});
