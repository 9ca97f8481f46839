import assert from 'node:assert/strict';
import { finishedRunOf, hasFinished } from '../../../src/core/ledger/finishedRun';
import type { RunOutcome } from '../../../src/core/model/runs';
import { run, useRunbook, withSavedLedger } from './helpers';
import { openLedger } from '../../../src/core/ledger/openLedger';

describe('whether a cell is finished', () => {
  const paths = useRunbook();

  it('counts a run that succeeded or ended below its threshold as finished, and no other', () => {
    const outcomes: RunOutcome[] = ['running', 'succeeded', 'below-threshold', 'halted', 'crashed'];
    assert.deepEqual(
      outcomes.filter((outcome) => hasFinished(run('run-1', { outcome }))),
      ['succeeded', 'below-threshold'],
    );
  });

  it("finds the cell's latest run only when it finished for exactly this job and data", async () => {
    await withSavedLedger(paths.runbook, async (ledger) => {
      await ledger.startRun(run('run-1', { outcome: 'succeeded', startedAt: '2026-03-01T10:00:00.000Z' }));
      await ledger.startRun(run('run-2', { cell: 'refunds', outcome: 'halted' }));
    });
    const ledger = await openLedger(paths.runbook);
    try {
      assert.equal((await finishedRunOf(ledger, 'orders', 'fp-1'))?.id, 'run-1');
      assert.equal(await finishedRunOf(ledger, 'orders', 'fp-changed'), undefined);
      assert.equal(await finishedRunOf(ledger, 'orders', undefined), undefined);
      assert.equal(await finishedRunOf(ledger, 'refunds', 'fp-1'), undefined);
      assert.equal(await finishedRunOf(ledger, 'never-run', 'fp-1'), undefined);
    } finally {
      await ledger.close();
    }
  });
});
