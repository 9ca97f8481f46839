import { strict as assert } from 'node:assert';
import {
  countDeliveredOutside,
  deliveredBy,
  deliveringChains,
  describeDoneElsewhere,
} from '../../../src/core/run/deliveredElsewhere';

describe('deliveredElsewhere', () => {
  const run = (cell: string, chain: string, fingerprint = 'f1', mode: 'execute' | 'verify' = 'execute') => ({
    cell,
    chain,
    mode,
    fingerprint,
  });

  it("counts other execute cells' chains of the same fingerprint, never the cell's own nor a verification", () => {
    const runs = [
      run('full', 'c-full'),
      run('small-batch', 'c-small-2'),
      run('small-batch', 'c-small-2'),
      run('small-batch', 'c-small-1'),
      run('other-data', 'c-other', 'f2'),
      run('check', 'c-check', 'f1', 'verify'),
    ];
    assert.deepEqual(deliveringChains(runs, 'full', 'f1'), [
      { cell: 'small-batch', chain: 'c-small-2' },
      { cell: 'small-batch', chain: 'c-small-1' },
    ]);
  });

  it('names the cell that delivered a key and counts what the chain has not finished itself', async () => {
    const delivered = [
      { cell: 'small-batch', chain: 'c-small', keys: new Set(['a', 'b']) },
      { cell: 'canary', chain: 'c-canary', keys: new Set(['c', 'b']) },
    ];
    assert.equal(deliveredBy(delivered, 'c', 4), 'canary');
    assert.equal(deliveredBy(delivered, 'b', 3), 'small-batch');
    assert.equal(deliveredBy(delivered, 'z', 9), undefined);
    const noLedger = { outcomePlaces: () => Promise.reject(new Error('Sets need no ledger')) };
    assert.deepEqual(
      await countDeliveredOutside(noLedger, delivered, { chain: 'c-full', keys: new Set(['a']) }),
      { 'small-batch': 1, canary: 1 },
    );
    assert.deepEqual(describeDoneElsewhere({ 'small-batch': 1500, canary: 0 }), [
      '1,500 skipped: done by small-batch',
    ]);
  });
});
