import assert from 'node:assert/strict';
import { chooseSeekStart } from '../../../src/core/run/feedSeek';
import type { SegmentMark } from '../../../src/core/ledger/segmentMarks';

/** Segments of 100 lines: segment n's first row at line 100·n + 1 (byte 1000·n), owing 90 records. */
function progress(finished: number, reached: number, outcomesOf: (n: number) => number = () => 90) {
  const marks = new Map<number, SegmentMark>();
  const outcomes = new Map<number, number>();
  for (let n = 0; n <= reached; n += 1) {
    marks.set(n, { line: n === 0 ? 1 : n * 100 + 1, byte: n * 1000, ...(n < reached ? { owed: 90 } : {}) });
    outcomes.set(n, n < finished ? outcomesOf(n) : n === finished ? 40 : 0);
  }
  return { linesPerSegment: 100, outcomes, marks };
}

describe('where a resume starts reading its source', () => {
  it('starts at the first segment whose outcomes fall short of what it owed, counting the rest as skipped', () => {
    assert.deepEqual(chooseSeekStart(progress(6, 8), new Map()), {
      segment: 6,
      from: { line: 601, byte: 6000 },
      skippedBefore: 540,
    });
  });

  it('starts before the first line of a key repeated across that place, and not at all when that is the start', () => {
    const across = new Map([['k', [350, 750]]]);
    assert.equal(chooseSeekStart(progress(6, 8), across)?.segment, 3);
    assert.equal(chooseSeekStart(progress(6, 8), new Map([['k', [40, 750]]])), undefined);
    // A key whose lines are all before, or all after, the place changes nothing.
    const oneSide = new Map([
      ['a', [120, 330]],
      ['b', [640, 790]],
    ]);
    assert.equal(chooseSeekStart(progress(6, 8), oneSide)?.segment, 6);
    // Moving back for one key can put another across the new place.
    const chained = new Map([
      ['a', [450, 650]],
      ['b', [250, 480]],
    ]);
    assert.equal(chooseSeekStart(progress(6, 8), chained)?.segment, 2);
  });

  it('never reads past a segment whose outcomes do not match what it owed, or whose count was never taken', () => {
    assert.equal(
      chooseSeekStart(
        progress(6, 8, (n) => (n === 2 ? 89 : 90)),
        new Map(),
      )?.segment,
      2,
    );
    assert.equal(
      chooseSeekStart(
        progress(6, 8, (n) => (n === 0 ? 89 : 90)),
        new Map(),
      ),
      undefined,
    );
    const unread = progress(6, 8);
    (unread.marks as Map<number, SegmentMark>).set(3, { line: 301, byte: 3000 });
    assert.equal(chooseSeekStart(unread, new Map())?.segment, 3);
  });
});
