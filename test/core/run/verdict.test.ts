import { strict as assert } from 'node:assert';
import type { StatusCounts } from '../../../src/core/ledger/ledger';
import { zeroCounts } from '../../../src/core/run/statusCounts';
import {
  decideVerdict,
  runCounts,
  successShare,
  unrecordedVerdict,
  type VerdictInput,
} from '../../../src/core/run/verdict';

function counts(partial: Partial<StatusCounts>): StatusCounts {
  return { ...zeroCounts(), ...partial };
}

function verdictOf(input: Partial<VerdictInput>) {
  return decideVerdict({
    kind: 'execute',
    halted: false,
    totals: zeroCounts(),
    successThreshold: 1,
    listRejected: 'backfill ledger orders.backfill --cell full --status rejected',
    ...input,
  });
}

describe('run verdict', () => {
  const table: [string, Partial<VerdictInput>, ReturnType<typeof decideVerdict>][] = [
    ['every record succeeded', { totals: counts({ succeeded: 10 }) }, { outcome: 'succeeded' }],
    ['no record at all', {}, { outcome: 'succeeded' }],
    [
      'one failure against a threshold of 100 %',
      { totals: counts({ succeeded: 9, failed: 1 }) },
      {
        outcome: 'below-threshold',
        reason: '90.00 % of the 10 records sent succeeded, below the successThreshold of 100 %',
      },
    ],
    [
      'rejected records are left out of the success share',
      { totals: counts({ succeeded: 9999, rejected: 5 }), successThreshold: 0.9999 },
      { outcome: 'succeeded' },
    ],
    [
      'rejected records stay within maxRejected',
      { totals: counts({ succeeded: 10, rejected: 5 }), maxRejected: 5 },
      { outcome: 'succeeded' },
    ],
    [
      'there are more rejected records than maxRejected',
      { totals: counts({ succeeded: 9, failed: 1, rejected: 6 }), maxRejected: 5 },
      {
        outcome: 'below-threshold',
        reason:
          '90.00 % of the 10 records sent succeeded, below the successThreshold of 100 %; 6 records ' +
          'rejected, more than maxRejected 5: fix them in the source (backfill ledger orders.backfill ' +
          '--cell full --status rejected lists them) or raise maxRejected',
      },
    ],
    [
      'every record was rejected and none sent',
      { totals: counts({ rejected: 20 }), successThreshold: 0 },
      {
        outcome: 'below-threshold',
        reason:
          'all 20 records were rejected and none was sent: fix the source or the action (backfill ledger ' +
          'orders.backfill --cell full --status rejected says why)',
      },
    ],
    [
      'exactly at the threshold',
      { totals: counts({ succeeded: 99, failed: 1 }), successThreshold: 0.99 },
      { outcome: 'succeeded' },
    ],
    [
      'halted, whatever the counts',
      { halted: true, haltReason: 'stopped by backfill control', totals: counts({ failed: 10 }) },
      { outcome: 'halted', reason: 'stopped by backfill control' },
    ],
    [
      'a verification with mismatches',
      { kind: 'verify', totals: counts({ verified: 7, mismatch: 1, missing: 1, error: 1 }) },
      {
        outcome: 'below-threshold',
        reason: '3 of 10 checked records are not verified: 1 mismatch, 1 missing, 1 could not be checked',
      },
    ],
    [
      'a verification leaves rejected records out',
      { kind: 'verify', totals: counts({ verified: 5, rejected: 3 }) },
      { outcome: 'succeeded' },
    ],
    [
      'a verification ignores execution statuses',
      { kind: 'verify', totals: counts({ verified: 5, failed: 3 }) },
      { outcome: 'succeeded' },
    ],
  ];
  for (const [name, input, expected] of table) {
    it(`decides ${expected.outcome} when ${name}`, () => {
      assert.deepEqual(verdictOf(input), expected);
    });
  }

  it('halts a run whose state folder stopped taking writes, with the reason it halted for', () => {
    assert.deepEqual(unrecordedVerdict('/x/orders.backfill.d', 'could not write'), {
      outcome: 'halted',
      reason: 'could not write',
    });
    assert.deepEqual(unrecordedVerdict('/x/orders.backfill.d', undefined), {
      outcome: 'halted',
      reason: 'the state folder /x/orders.backfill.d could not be written',
    });
  });

  it('computes the success share over the statuses of the run kind', () => {
    assert.equal(successShare('execute', counts({ succeeded: 3, failed: 1, rejected: 4 })), 0.75);
    assert.equal(successShare('verify', counts({ verified: 1, mismatch: 3, rejected: 4 })), 0.25);
  });

  it("keeps only the run kind's statuses in the run's own counts", () => {
    const own = counts({ succeeded: 2, failed: 1, rejected: 1, verified: 9 });
    assert.deepEqual(runCounts('execute', own), { succeeded: 2, failed: 1, rejected: 1 });
    assert.deepEqual(runCounts('verify', counts({ verified: 2, error: 1 })), {
      verified: 2,
      mismatch: 0,
      missing: 0,
      error: 1,
      rejected: 0,
    });
  });
});
