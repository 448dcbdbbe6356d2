import { carriedPositions } from './read-position';

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
