import { silentLogger } from '@vigil/runtime';
import { carriedPositions, retrying } from './read-position';

const at = (entries: Array<[number, number]>) => new Map(entries);

describe('carriedPositions (switching read mode)', () => {
  it('a group without offsets starts where the slowest of the other groups got to, per partition', () => {
    expect(
      carriedPositions(at([]), [
        at([
          [0, 120],
          [1, 80],
        ]),
        at([
          [0, 100],
          [1, 95],
        ]),
      ]),
    ).toEqual([
      { partition: 0, offset: 100 },
      { partition: 1, offset: 80 },
    ]);
  });

  it('never moves a group back', () => {
    expect(carriedPositions(at([[0, 150]]), [at([[0, 100]])])).toEqual([]);
    expect(carriedPositions(at([[0, 90]]), [at([[0, 100]])])).toEqual([{ partition: 0, offset: 100 }]);
  });

  it('leaves a partition alone when some other group has not committed it (that sink has not had its events)', () => {
    expect(carriedPositions(at([]), [at([[0, 10]]), at([[1, 10]])])).toEqual([]);
    expect(
      carriedPositions(at([]), [
        at([
          [0, 10],
          [1, 5],
        ]),
        at([[1, 7]]),
      ]),
    ).toEqual([{ partition: 1, offset: 5 }]);
  });

  it('moves nothing without other groups', () => {
    expect(carriedPositions(at([]), [])).toEqual([]);
  });
});

describe('retrying (broker calls at start)', () => {
  const retriable = Object.assign(new Error("The coordinator is loading and hence can't process requests for this group"), {
    retriable: true,
  });
  const noSleep = async () => undefined;

  it('calls again while the error is retriable, and returns the answer', async () => {
    let calls = 0;
    const answer = await retrying(
      'offsets',
      async () => {
        if (++calls < 3) throw retriable;
        return 'offsets';
      },
      silentLogger(),
      { sleep: noSleep },
    );
    expect([answer, calls]).toEqual(['offsets', 3]);
  });

  it('throws a non-retriable error at once', async () => {
    let calls = 0;
    const refused = Object.assign(new Error('not authorized'), { retriable: false });
    await expect(
      retrying(
        'offsets',
        async () => {
          calls++;
          throw refused;
        },
        silentLogger(),
        { sleep: noSleep },
      ),
    ).rejects.toBe(refused);
    expect(calls).toBe(1);
  });

  it('gives up with the last error once the deadline has passed', async () => {
    let calls = 0;
    await expect(
      retrying(
        'offsets',
        async () => {
          calls++;
          throw retriable;
        },
        silentLogger(),
        { deadlineMs: 600, sleep: (ms) => new Promise((r) => setTimeout(r, ms)) },
      ),
    ).rejects.toBe(retriable);
    expect(calls).toBeGreaterThanOrEqual(2);
  });
});
