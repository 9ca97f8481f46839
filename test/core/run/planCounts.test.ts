import { strict as assert } from 'node:assert';
import {
  describeSubset,
  plannedRecords,
  plannedSelection,
  plannedTotal,
} from '../../../src/core/run/planCounts';
import type { ResumePlan } from '../../../src/core/run/resumePlan';
import { zeroCounts } from '../../../src/core/run/statusCounts';

function plan(partial: Partial<ResumePlan> = {}): ResumePlan {
  return {
    chain: { id: 'chain-1', resumed: false },
    doneKeys: new Set(),
    delivered: [],
    doneElsewhere: {},
    earlier: zeroCounts(),
    ...partial,
  };
}

describe('planned records', () => {
  it('says a small batch sends its first 20 of the 1,995 records of the source', () => {
    assert.deepEqual(
      plannedRecords({ plan: plan(), subset: { first: 20 }, ofSource: 1995, sampled: undefined }),
      {
        sending: 20,
        ofSource: 1995,
        subset: 'first: 20',
      },
    );
  });

  it('leaves out of the full run what the chain finished and what other cells delivered', () => {
    const resumed = plan({
      doneKeys: new Set(['a', 'b', 'bad-row']),
      earlier: { ...zeroCounts(), succeeded: 2, rejected: 1 },
      delivered: [{ cell: 'small-batch', chain: 'c-small', keys: new Set(['b', 'c', 'd']) }],
      doneElsewhere: { 'small-batch': 2 },
    });
    assert.deepEqual(
      plannedRecords({ plan: resumed, subset: undefined, ofSource: 100, sampled: undefined }),
      {
        sending: 96,
        ofSource: 100,
      },
    );
    assert.equal(plannedTotal({ ...resumed, expectedTotal: 101 }, undefined, false), 99);
    assert.equal(plannedTotal({ ...resumed, expectedTotal: 20 }, undefined, true), undefined);
  });

  it("selects what the dry run counted (the confirmation's figure), whatever other cells delivered", () => {
    const afterSmallBatch = plan({ doneElsewhere: { 'small-batch': 10 }, expectedTotal: 500 });
    const full = { plan: afterSmallBatch, subset: undefined, ofSource: 497, sampled: undefined };
    assert.equal(plannedSelection(full), 497);
    assert.equal(plannedTotal(afterSmallBatch, undefined, false), 490, 'what this chain processes');
    const first = {
      plan: plan({ expectedTotal: 10 }),
      subset: { first: 10 },
      ofSource: 497,
      sampled: undefined,
    };
    assert.equal(plannedSelection(first), 10);
    const bounded = { plan: plan(), subset: { keys: ['1', '2'] }, ofSource: 497, sampled: undefined };
    assert.equal(plannedSelection(bounded), undefined, 'only a bound is known');
    const rerun = plan({
      earlier: { ...zeroCounts(), succeeded: 480, rejected: 3 },
      rerun: { records: 17 } as ResumePlan['rerun'],
    });
    assert.equal(
      plannedSelection({ plan: rerun, subset: undefined, ofSource: 497, sampled: undefined }),
      497,
    );
  });

  it('is an upper bound when the subset cannot be counted without reading the source', () => {
    assert.deepEqual(
      plannedRecords({ plan: plan(), subset: { keys: ['1', '2', '3'] }, ofSource: 100, sampled: undefined }),
      { sending: 3, atMost: true, ofSource: 100, subset: 'keys: 3 listed' },
    );
    assert.deepEqual(
      plannedRecords({
        plan: plan(),
        subset: { range: { from: '5' } },
        ofSource: undefined,
        sampled: undefined,
      }),
      { subset: 'range: 5 to …' },
    );
  });

  it('counts the records a re-run re-sends, not the chain', () => {
    const rerun = plan({
      rerun: { only: 'unverified', records: 9, keys: new Set('abcdefghi'.split('')), verification: 'v-1' },
      earlier: { ...zeroCounts(), succeeded: 491 },
    });
    assert.deepEqual(plannedRecords({ plan: rerun, subset: undefined, ofSource: 500, sampled: undefined }), {
      sending: 9,
      ofSource: 500,
    });
    assert.equal(plannedTotal(rerun, undefined, false), 500);
  });

  it('describes a subset in the words of its fields', () => {
    assert.equal(
      describeSubset({ sample: { percent: 5, seed: 1 }, exclude: ['x'], first: 10 }),
      'exclude: 1, sample: 5 %, first: 10',
    );
  });
});
