import { strict as assert } from 'node:assert';
import {
  deliveredBy,
  deliveredOutside,
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

  it('names the cell that delivered a key and counts what the chain has not finished itself', () => {
    const delivered = [
      { cell: 'small-batch', keys: new Set(['a', 'b']) },
      { cell: 'canary', keys: new Set(['c']) },
    ];
    assert.equal(deliveredBy(delivered, 'c'), 'canary');
    assert.equal(deliveredBy(delivered, 'z'), undefined);
    assert.equal(deliveredOutside(delivered, new Set(['a'])), 2);
    assert.deepEqual(describeDoneElsewhere({ 'small-batch': 1500, canary: 0 }), [
      '1,500 skipped: done by small-batch',
    ]);
  });
});
