import { strict as assert } from 'node:assert';
import { isMerged, readChainRecords } from '../../../src/core/ledger/chainRecords';
import type { Ledger } from '../../../src/core/ledger/ledger';
import { RECORD_STATUSES, type RecordOutcome } from '../../../src/core/model/runs';
import { outcome, run, useOpenLedger } from '../ledger/helpers';
import {
  countDeliveredOutside,
  deliveredBy,
  deliveringChains,
  readDeliveredElsewhere,
} from '../../../src/core/run/deliveredElsewhere';
import { describeDoneElsewhere } from '../../../src/core/run/statusFigures';

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

describe('deliveredElsewhere merged with the source by line', function () {
  this.timeout(30_000);
  const opened = useOpenLedger();
  let ledger: Ledger;
  beforeEach(() => (ledger = opened.ledger));

  it('counts and names what other cells delivered exactly as Sets of their keys do', async () => {
    const at = (n: number, chain: string, cell: string, status: RecordOutcome['status'] = 'succeeded') =>
      outcome(`k${n}`, { line: n + 1, chain, cell, run: `${chain}-run`, status });
    const numbers = Array.from({ length: 2000 }, (_, i) => i + 1);
    await ledger.recordOutcomes([
      // The full run's own chain finished one in five records; a small batch and a canary delivered others.
      ...numbers.filter((n) => n % 5 === 0).map((n) => at(n, 'c-full', 'full')),
      ...numbers
        .filter((n) => n % 3 === 0)
        .map((n) => at(n, 'c-small', 'small-batch', n % 9 === 0 ? 'failed' : 'succeeded')),
      ...numbers.filter((n) => n % 4 === 0).map((n) => at(n, 'c-canary', 'canary')),
    ]);
    for (const [chain, cell] of [
      ['c-full', 'full'],
      ['c-small', 'small-batch'],
      ['c-canary', 'canary'],
    ]) {
      await ledger.startRun(run(`${chain}-run`, { chain, cell, fingerprint: 'f1' }));
    }
    const asSets = await readDeliveredElsewhere(ledger, 'full', 'f1');
    const merged = await readDeliveredElsewhere(ledger, 'full', 'f1', 10);
    assert.ok(asSets.every((entry) => entry.keys instanceof Set));
    assert.ok(merged.every((entry) => !(entry.keys instanceof Set)));
    const doneAsSet = await ledger.keysWithStatus('c-full', RECORD_STATUSES);
    const doneMerged = await readChainRecords(ledger, 'c-full', RECORD_STATUSES, doneAsSet.size, 10);
    const expected = await countDeliveredOutside(ledger, asSets, { chain: 'c-full', keys: doneAsSet });
    assert.deepEqual(
      await countDeliveredOutside(ledger, merged, { chain: 'c-full', keys: doneMerged }),
      expected,
    );
    // The canary ran last, so it is asked first and counts a key both delivered.
    const count = (keep: (n: number) => boolean) => numbers.filter(keep).length;
    assert.deepEqual(expected, {
      canary: count((n) => n % 4 === 0 && n % 5 !== 0),
      'small-batch': count((n) => n % 3 === 0 && n % 9 !== 0 && n % 5 !== 0 && n % 4 !== 0),
    });
    for (const entry of merged) if (isMerged(entry.keys)) await entry.keys.prepare();
    for (const n of numbers) {
      for (const entry of merged) if (isMerged(entry.keys)) await entry.keys.reach(n + 1);
      assert.equal(deliveredBy(merged, `k${n}`, n + 1), deliveredBy(asSets, `k${n}`, n + 1), `k${n}`);
    }
  });
});
