/**
 * What every implementation of the Ledger interface must do, written against the interface only, so the
 * same tests run against each implementation: the embedded sql.js ledger today (ledgerContract.test.ts),
 * a database ledger shared by many workers next. Each test gets a new, empty ledger place.
 */
import assert from 'node:assert/strict';
import type { Ledger } from '../../../src/core/ledger/ledger';
import { markCrashedRuns } from '../../../src/core/ledger/lock';
import type { RecordOutcome } from '../../../src/core/model/runs';
import { all, dryRunRow, outcome, run } from './helpers';

/** A new, empty place for one ledger: each `open` is a new connection to that same ledger. */
export interface LedgerPlace {
  open(): Promise<Ledger>;
  cleanup(): Promise<void>;
}

const DRY_RUN = dryRunRow({ id: 'dry-1', fingerprint: 'fp-1', report: '{"counts":{"selected":3}}' });

/** Runs the ledger contract against the implementation `createPlace` makes ledgers of. */
export function describeLedgerContract(name: string, createPlace: () => Promise<LedgerPlace>): void {
  describe(`the Ledger contract: ${name}`, function () {
    this.timeout(60_000);
    let place: LedgerPlace;
    const opened: Ledger[] = [];

    beforeEach(async () => {
      place = await createPlace();
    });
    afterEach(async () => {
      for (const ledger of opened.splice(0)) await ledger.close();
      await place.cleanup();
    });

    const open = async () => {
      const ledger = await place.open();
      opened.push(ledger);
      return ledger;
    };
    /** Writes with one connection, saves, and reads back with another: what is saved must persist. */
    const saved = async (write: (ledger: Ledger) => Promise<unknown>) => {
      const writer = await open();
      await write(writer);
      await writer.save();
      return open();
    };

    it('reads back outcomes exactly as recorded, with and without optional fields', async () => {
      const failed = outcome('1', {
        status: 'failed',
        attempts: 3,
        lastError: 'HTTP 503',
        errorKind: 'http-5xx',
        httpStatus: 503,
        durationMs: 12.5,
      });
      const mismatch = outcome('2', { status: 'mismatch', expected: '{"a":1}', actual: '{"a":2}', line: 3 });
      const bare = outcome('3', { line: 4 });
      // A SQL action's rows affected, 0 included: "matched no row" must not read back as "unknown".
      const updated = outcome('4', { line: 5, rowsAffected: 2 });
      const matchedNothing = outcome('5', { line: 6, status: 'failed', rowsAffected: 0 });
      const ledger = await saved(async (l) =>
        assert.equal(await l.recordOutcomes([failed, mismatch, bare, updated, matchedNothing]), 5),
      );
      assert.deepEqual(await all(ledger.outcomes()), [failed, mismatch, bare, updated, matchedNothing]);
      assert.deepEqual(await ledger.outcomeOf('chain-1', '5'), matchedNothing);
      assert.deepEqual(await ledger.outcomeOf('chain-1', '3'), bare);
      assert.equal(await ledger.outcomeOf('chain-1', 'none'), undefined);
    });

    it('keeps the latest outcome of a key per chain: within a batch, across batches and per chain', async () => {
      const ledger = await saved(async (l) => {
        await l.recordOutcomes([outcome('1', { status: 'failed' }), outcome('1', { attempts: 2 })]);
        await l.recordOutcomes([outcome('1', { chain: 'chain-2', status: 'rejected' })]);
      });
      assert.deepEqual(await all(ledger.outcomes({ chain: 'chain-1' })), [outcome('1', { attempts: 2 })]);
      assert.equal((await all(ledger.outcomes())).length, 2);
    });

    it('streams outcomes by cell, chain and status in source-line order, and may be left early', async () => {
      const ledger = await saved((l) =>
        l.recordOutcomes([
          outcome('c', { line: 4, status: 'failed' }),
          outcome('a', { line: 2 }),
          outcome('b', { line: 3, status: 'rejected' }),
          outcome('d', { line: 5, status: 'failed', cell: 'refunds', chain: 'chain-9' }),
        ]),
      );
      const keys = async (filter: Parameters<Ledger['outcomes']>[0]) =>
        (await all(ledger.outcomes(filter))).map((o) => o.key);
      assert.deepEqual(await keys({ chain: 'chain-1' }), ['a', 'b', 'c']);
      assert.deepEqual(await keys({ cell: 'orders', status: 'failed' }), ['c']);
      assert.deepEqual(await keys({ status: ['failed', 'rejected'] }), ['b', 'c', 'd']);
      assert.deepEqual(await keys({ status: [] }), []);
      assert.deepEqual(await keys({ chain: 'never-stored' }), []);
      for await (const first of ledger.outcomes({ chain: 'chain-1' })) {
        assert.equal(first.key, 'a');
        break;
      }
      assert.equal((await ledger.countByStatus('chain-1')).succeeded, 1);
    });

    it("pages a chain's outcome places in line order after a place, between writes", async () => {
      const ledger = await saved((l) =>
        l.recordOutcomes([
          outcome('c', { line: 9, status: 'failed' }),
          outcome('a', { line: 2 }),
          outcome('line:5', { line: 5, status: 'rejected' }),
          outcome('b2', { line: 7 }),
          outcome('b1', { line: 7 }),
          outcome('z', { line: 3, chain: 'chain-9' }),
        ]),
      );
      const first = await ledger.outcomePlaces('chain-1', undefined, 2);
      const at = '2026-03-01T10:00:00.000Z';
      assert.deepEqual(first, [
        { line: 2, key: 'a', status: 'succeeded', at },
        { line: 5, key: 'line:5', status: 'rejected', at },
      ]);
      // A write between two pages is seen by the next one (nothing is held open across it).
      await ledger.recordOutcomes([outcome('d', { line: 12 })]);
      const second = await ledger.outcomePlaces('chain-1', first[1], 10);
      assert.deepEqual(
        second.map((place) => `${place.line}:${place.key}:${place.status}`),
        ['7:b1:succeeded', '7:b2:succeeded', '9:c:failed', '12:d:succeeded'],
      );
      assert.deepEqual(await ledger.outcomePlaces('chain-1', { line: 7, key: 'b1' }, 1), [
        { line: 7, key: 'b2', status: 'succeeded', at },
      ]);
      assert.deepEqual(await ledger.outcomePlaces('chain-1', { line: 12, key: 'd' }, 10), []);
      assert.deepEqual(await ledger.outcomePlaces('never-stored', undefined, 10), []);
    });

    it('counts, lists the keys of and tallies a chain by status without reading its outcomes', async () => {
      const many: RecordOutcome[] = Array.from({ length: 5000 }, (_, i) =>
        outcome(`k${i}`, {
          line: i + 2,
          ...(i % 10 === 0 ? { status: 'failed' as const, errorKind: 'timeout' as const, run: 'run-2' } : {}),
        }),
      );
      const ledger = await saved((l) => l.recordOutcomes([...many, outcome('x', { chain: 'other' })]));
      assert.deepEqual(await ledger.countByStatus('chain-1'), {
        succeeded: 4500,
        failed: 500,
        rejected: 0,
        verified: 0,
        mismatch: 0,
        missing: 0,
        error: 0,
      });
      const failed = await ledger.keysWithStatus('chain-1', ['failed']);
      assert.equal(failed.size, 500);
      assert.ok(failed.has('k0') && failed.has('k10') && !failed.has('k11'));
      assert.equal((await ledger.keysWithStatus('chain-1', ['succeeded', 'failed'])).size, 5000);
      assert.equal((await ledger.keysWithStatus('chain-1', [])).size, 0);
      const tally = await ledger.tallyChain('chain-1');
      assert.deepEqual(
        [...tally].sort((a, b) => a.count - b.count),
        [
          { status: 'failed', errorKind: 'timeout', run: 'run-2', count: 500 },
          { status: 'succeeded', run: 'run-1', count: 4500 },
        ],
      );
      assert.deepEqual(await ledger.tallyChain('never-stored'), []);
      assert.equal((await ledger.countByStatus('never-stored')).failed, 0);
    });

    it('returns keys exactly as recorded, whatever characters they hold', async () => {
      const odd = ['a"b', 'back\\slash', 'new\nline', 'tab\tand\u0001control', 'ünïcødé ✓', '', ' padded '];
      const ledger = await saved((l) => l.recordOutcomes(odd.map((key) => outcome(key))));
      assert.deepEqual([...(await ledger.keysWithStatus('chain-1', ['succeeded']))].sort(), [...odd].sort());
    });

    it('records runs, finishes them once known, and lists them newest first', async () => {
      const ledger = await saved(async (l) => {
        await l.startRun(run('run-1', { startedAt: '2026-03-01T10:00:00.000Z' }));
        await l.startRun(run('run-2', { startedAt: '2026-03-02T10:00:00.000Z' }));
        await l.startRun(run('run-2', { startedAt: '2026-03-02T10:00:00.000Z', params: '{"rate":5}' }));
        await l.startRun(run('run-3', { cell: 'refunds' }));
        assert.equal(
          await l.finishRun('run-1', 'halted', 'stopped', '{"succeeded":1}', '2026-03-01T11:00:00.000Z'),
          true,
        );
        assert.equal(await l.finishRun('no-such-run', 'succeeded'), false);
        await l.recordOutcomes([outcome('1', { run: 'run-2', at: '2026-03-02T10:05:00.000Z' })]);
      });
      assert.deepEqual(
        (await ledger.runs('orders')).map((r) => [r.id, r.outcome]),
        [
          ['run-2', 'running'],
          ['run-1', 'halted'],
        ],
      );
      assert.equal((await ledger.runs()).length, 3);
      assert.equal((await ledger.latestRun('orders'))?.params, '{"rate":5}');
      assert.equal(await ledger.latestRun('never-run'), undefined);
      assert.deepEqual(
        (await ledger.runningRuns()).map((r) => r.id),
        ['run-3', 'run-2'], // oldest first
      );
      assert.equal(await ledger.lastOutcomeAt('run-2'), '2026-03-02T10:05:00.000Z');
      assert.equal(await ledger.lastOutcomeAt('run-1'), undefined);
    });

    it('marks the runs a dead process left running as crashed, at their last outcome, and keeps the live one', async () => {
      const writer = await saved(async (l) => {
        await l.startRun(run('run-dead', { startedAt: '2026-03-01T10:00:00.000Z' }));
        await l.recordOutcomes([outcome('1', { run: 'run-dead', at: '2026-03-01T10:05:00.000Z' })]);
        await l.startRun(run('run-live', { startedAt: '2026-03-02T10:00:00.000Z' }));
      });
      assert.deepEqual(
        (await markCrashedRuns(writer, 'run-live')).map((r) => r.id),
        ['run-dead'],
      );
      const reader = await open();
      const dead = (await reader.runs()).find((r) => r.id === 'run-dead');
      assert.equal(dead?.outcome, 'crashed');
      assert.equal(dead?.endedAt, '2026-03-01T10:05:00.000Z');
      assert.equal((await reader.latestRun('orders'))?.outcome, 'running');
    });

    it('appends sign-offs as history, per checklist in the order recorded', async () => {
      const signOffs = [
        { checklist: 'approvals', item: 'owner', by: 'ada', at: '2026-03-01T09:00:00.000Z', checked: true },
        { checklist: 'comms', item: 'announce', by: 'bob', at: '2026-03-01T09:01:00.000Z', checked: true },
        { checklist: 'approvals', item: 'owner', by: 'ada', at: '2026-03-01T09:02:00.000Z', checked: false },
      ];
      const ledger = await saved(async (l) => {
        for (const signOff of signOffs) await l.recordSignOff(signOff);
      });
      assert.deepEqual(await ledger.signOffs('approvals'), [signOffs[0], signOffs[2]]);
      assert.deepEqual(await ledger.signOffs(), signOffs);
    });

    it('records dry runs, lists them newest first and finds the passing one of a fingerprint', async () => {
      const ledger = await saved(async (l) => {
        await l.recordDryRun(DRY_RUN);
        await l.recordDryRun({
          ...DRY_RUN,
          id: 'dry-2',
          passed: false,
          startedAt: '2026-02-03T09:00:00.000Z',
        });
      });
      assert.deepEqual(
        (await ledger.dryRuns('orders')).map((row) => row.id),
        ['dry-2', 'dry-1'],
      );
      assert.deepEqual(await ledger.dryRuns('other'), []);
      assert.deepEqual(await ledger.passingDryRun('fp-1'), DRY_RUN);
      assert.equal(await ledger.passingDryRun('fp-unknown'), undefined);
    });

    it('names where it is, for messages', async () => {
      assert.ok((await open()).location.length > 0);
    });
  });
}
