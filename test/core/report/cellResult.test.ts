import { strict as assert } from 'node:assert';
import { SqlJsLedger } from '../../../src/core/ledger/sqlJsLedger';
import { resultOfRun } from '../../../src/core/run/cellResult';
import { outcome, run, useRunbook } from '../ledger/helpers';

describe('the result of a run, read from the ledger', () => {
  const paths = useRunbook();
  let ledger: SqlJsLedger;

  beforeEach(async () => {
    ledger = await SqlJsLedger.open(paths.runbook);
    // A first run that left one failure, and a resume that retried it and finished the chain.
    ledger.upsertOutcomes([
      outcome('1', { run: 'run-1' }),
      outcome('2', { run: 'run-1', status: 'rejected', errorKind: 'render' }),
      outcome('3', { run: 'run-2', status: 'failed', errorKind: 'timeout' }),
      outcome('4', { run: 'run-2', status: 'failed', errorKind: 'timeout' }),
      outcome('5', { run: 'run-2', status: 'failed', errorKind: 'http-5xx' }),
      outcome('6', { run: 'run-2' }),
      outcome('7', { run: 'run-2', at: '2026-03-01T10:00:30.000Z' }),
      outcome('8', { chain: 'chain-2', run: 'run-9', status: 'failed', errorKind: 'timeout' }),
    ]);
  });
  afterEach(() => ledger.close());

  it('counts the whole chain by status, good news first, and the run by what it recorded at its end', async () => {
    const resume = run('run-2', {
      outcome: 'below-threshold',
      startedAt: '2026-03-01T10:00:00.000Z',
      endedAt: '2026-03-01T10:00:10.000Z',
      counts: JSON.stringify({ succeeded: 2, failed: 3, rejected: 0, skipped: 2, done: 7, total: 8 }),
    });
    const result = await resultOfRun(ledger, resume);
    assert.deepEqual(result.counts, {
      total: 8,
      succeeded: 3,
      failed: 3,
      rejected: 1,
      processed: 5,
      skipped: 2,
    });
    assert.deepEqual(Object.keys(result.counts), [
      'total',
      'succeeded',
      'failed',
      'rejected',
      'processed',
      'skipped',
    ]);
    assert.deepEqual(result.errors, { timeout: 2, 'http-5xx': 1 });
    assert.equal(result.durationMs, 10_000);
    assert.equal(result.rate, 0.5);
  });

  it('counts what a crashed run finished from its outcomes, and ends it at its last outcome', async () => {
    const crashed = run('run-2', { outcome: 'crashed', startedAt: '2026-03-01T10:00:00.000Z' });
    const result = await resultOfRun(ledger, crashed);
    assert.equal(result.counts.processed, 5);
    assert.equal(result.finishedAt, '2026-03-01T10:00:30.000Z');
    assert.equal(result.durationMs, 30_000);
  });

  it('leaves out errors when no record of the chain failed', async () => {
    const other = run('run-1', { chain: 'chain-3', counts: '{"succeeded":0}' });
    const result = await resultOfRun(ledger, other);
    assert.equal(result.errors, undefined);
    assert.deepEqual(result.counts, { processed: 0 });
  });
});
