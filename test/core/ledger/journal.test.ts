import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  foldJournal,
  foldRotatedJournals,
  Journal,
  journalFileIn,
  replay,
  rotatedJournalFilesIn,
} from '../../../src/core/ledger/journal';
import { openLedger, openLedgerForRun } from '../../../src/core/ledger/openLedger';
import { SqlJsLedger } from '../../../src/core/ledger/sqlJsLedger';
import { UserError } from '../../../src/core/model/types';
import { outcome, readLedger, run, useRunbook, withSavedLedger, all } from './helpers';

describe('Journal', () => {
  const paths = useRunbook();
  const journalFile = () => journalFileIn(paths.stateDir);
  const lines = () => fs.readFileSync(journalFile(), 'utf8').split('\n').filter(Boolean);

  /** Appends entries through a journal and closes it, as a run that stops cleanly would. */
  async function journalOf(...outcomes: ReturnType<typeof outcome>[]): Promise<void> {
    const journal = await Journal.open(paths.stateDir);
    journal.append({ type: 'run-start', run: run('run-1') });
    for (const entry of outcomes) journal.append({ type: 'outcome', outcome: entry });
    await journal.close();
  }

  it('has the flushed entries in the file on disk once flush resolves', async () => {
    const journal = await Journal.open(paths.stateDir);
    try {
      assert.equal(journal.append({ type: 'outcome', outcome: outcome('1') }), 1);
      assert.equal(journal.append({ type: 'outcome', outcome: outcome('2', { status: 'failed' }) }), 2);
      assert.equal(fs.readFileSync(journalFile(), 'utf8'), '', 'nothing is written before flush');
      await journal.flush();
      assert.deepEqual(
        lines().map((line) => JSON.parse(line) as unknown),
        [
          { seq: 1, type: 'outcome', outcome: outcome('1') },
          { seq: 2, type: 'outcome', outcome: outcome('2', { status: 'failed' }) },
        ],
      );
    } finally {
      await journal.close();
    }
  });

  it('writes what a flush is given at once, while an earlier fsync is under way: a kill -9 then loses none of it', async () => {
    const journal = await Journal.open(paths.stateDir);
    try {
      journal.append({ type: 'outcome', outcome: outcome('1') });
      const first = journal.flush();
      assert.equal(lines().length, 1, 'in the file as flush returns, before its fsync');
      journal.append({ type: 'outcome', outcome: outcome('2') });
      const second = journal.flush();
      assert.equal(lines().length, 2, 'written without waiting for the first fsync');
      await Promise.all([first, second]);
      assert.equal(lines().length, 2);
    } finally {
      await journal.close();
    }
  });

  it('coalesces the fsyncs of flushes called while one is in progress into a single next one', async () => {
    const journal = await Journal.open(paths.stateDir);
    try {
      journal.append({ type: 'outcome', outcome: outcome('first') });
      const first = journal.flush();
      const waiting: Promise<void>[] = [];
      for (let i = 0; i < 100; i += 1) {
        journal.append({ type: 'outcome', outcome: outcome(`k${i}`) });
        waiting.push(journal.flush());
      }
      await Promise.all([first, ...waiting]);
      assert.equal(lines().length, 101);
      assert.ok(journal.syncCount <= 2, `expected at most 2 fsyncs, got ${journal.syncCount}`);
    } finally {
      await journal.close();
    }
  });

  it('keeps what was appended even if the appended object is changed afterwards', async () => {
    const journal = await Journal.open(paths.stateDir);
    const entry = outcome('1');
    journal.append({ type: 'outcome', outcome: entry });
    entry.status = 'failed';
    await journal.close();
    assert.deepEqual(replay(paths.stateDir).entries, [{ seq: 1, type: 'outcome', outcome: outcome('1') }]);
  });

  it('replays entries of every type in order, with their seq', async () => {
    const journal = await Journal.open(paths.stateDir);
    journal.append({ type: 'run-start', run: run('run-1') });
    journal.append({ type: 'outcome', outcome: outcome('1') });
    journal.append({
      type: 'run-end',
      id: 'run-1',
      outcome: 'halted',
      reason: 'stopped',
      counts: '{}',
      endedAt: '2026-03-01T11:00:00.000Z',
    });
    await journal.close();
    assert.deepEqual(replay(paths.stateDir).entries, [
      { seq: 1, type: 'run-start', run: run('run-1') },
      { seq: 2, type: 'outcome', outcome: outcome('1') },
      { seq: 3, type: 'run-end', id: 'run-1', outcome: 'halted', reason: 'stopped', counts: '{}', endedAt: '2026-03-01T11:00:00.000Z' },
    ]); // prettier-ignore
  });

  it('ignores a torn last line, cuts it away on open, and reads later appends back correctly', async () => {
    await journalOf(outcome('1'), outcome('2'));
    const torn = '{"seq":4,"type":"outcome","outcome":{"run":"run-1","ch';
    fs.appendFileSync(journalFile(), torn);
    const { entries, scan } = replay(paths.stateDir);
    assert.equal(entries.length, 3);
    assert.deepEqual(scan.tornTail, { line: 4, bytes: torn.length });

    const journal = await Journal.open(paths.stateDir);
    assert.ok(fs.readFileSync(journalFile(), 'utf8').endsWith('}\n'), 'the torn line is cut away on open');
    journal.append({ type: 'outcome', outcome: outcome('3') });
    await journal.close();

    const after = replay(paths.stateDir);
    assert.equal(after.scan.tornTail, undefined);
    assert.deepEqual(
      after.entries.map((entry) => entry.seq),
      [1, 2, 3, 4],
    );
    assert.deepEqual(after.entries[3], { seq: 4, type: 'outcome', outcome: outcome('3') });
  });

  it('treats a last line of NUL bytes left by a crash as torn', async () => {
    await journalOf(outcome('1'));
    fs.appendFileSync(journalFile(), Buffer.concat([Buffer.alloc(40), Buffer.from('"}}\n')]));
    const { entries, scan } = replay(paths.stateDir);
    assert.equal(entries.length, 2);
    assert.equal(scan.tornTail?.line, 3);
  });

  it('refuses a malformed line in the middle, naming file and line, and leaves the journal byte for byte', async () => {
    await journalOf(outcome('1'), outcome('2'));
    const damaged = lines();
    damaged[1] = '{"seq":2,"type":"outcome","outcome":{"key":';
    fs.writeFileSync(journalFile(), damaged.join('\n') + '\n');
    const before = fs.readFileSync(journalFile());

    const refused = (error: Error) => {
      assert.ok(error instanceof UserError);
      assert.ok(error.message.includes(`${journalFile()}:2 is not a valid journal entry`), error.message);
      return true;
    };
    assert.throws(() => replay(paths.stateDir), refused);
    await assert.rejects(Journal.open(paths.stateDir), refused);
    await assert.rejects(openLedgerForRun(paths.runbook), refused);
    assert.deepEqual(fs.readFileSync(journalFile()), before);
    assert.equal(fs.existsSync(paths.ledgerFile), false, 'no ledger was written from a refused journal');
  });

  it('refuses an entry whose fields are wrong, saying which field', async () => {
    await journalOf(outcome('1'), outcome('2'));
    const damaged = lines();
    damaged[1] = JSON.stringify({ seq: 2, type: 'outcome', outcome: { ...outcome('1'), status: 'done' } });
    fs.writeFileSync(journalFile(), damaged.join('\n') + '\n');
    assert.throws(() => replay(paths.stateDir), /:2 is not a valid journal entry \(outcome\.status: /);
  });

  // Outcome lines are checked by a fast path before the schema; each of these must still be refused,
  // with the field the schema names.
  for (const [what, entry, field] of [
    ['a negative attempt count', { outcome: { ...outcome('2'), attempts: -1 } }, 'outcome.attempts'],
    ['a fractional line', { outcome: { ...outcome('2'), line: 2.5 } }, 'outcome.line'],
    ['a line given as text', { outcome: { ...outcome('2'), line: '2' } }, 'outcome.line'],
    [
      'an HTTP status beyond safe integers',
      { outcome: { ...outcome('2'), httpStatus: 2 ** 53 } },
      'outcome.httpStatus',
    ],
    ['a duration given as text', { outcome: { ...outcome('2'), durationMs: '12' } }, 'outcome.durationMs'],
    ['negative rows affected', { outcome: { ...outcome('2'), rowsAffected: -1 } }, 'outcome.rowsAffected'],
    ['an unknown error kind', { outcome: { ...outcome('2'), errorKind: 'gremlins' } }, 'outcome.errorKind'],
    ['a null last error', { outcome: { ...outcome('2'), lastError: null } }, 'outcome.lastError'],
    ['a missing key', { outcome: { ...outcome('2'), key: undefined } }, 'outcome.key'],
    [
      'a numeric idempotency key',
      { outcome: { ...outcome('2'), idempotencyKey: 7 } },
      'outcome.idempotencyKey',
    ],
    ['an outcome that is a list', { outcome: [outcome('2')] }, 'outcome'],
    ['an outcome that is null', { outcome: null }, 'outcome'],
    ['a fractional seq', { seq: 2.5, outcome: outcome('2') }, 'seq'],
  ] as const) {
    it(`refuses an outcome line with ${what}, naming ${field}`, async () => {
      await journalOf(outcome('1'), outcome('2'), outcome('3'));
      const damaged = lines();
      damaged[2] = JSON.stringify({ seq: 3, type: 'outcome', ...entry });
      fs.writeFileSync(journalFile(), damaged.join('\n') + '\n');
      const escaped = field.replace('.', '\\.');
      assert.throws(
        () => replay(paths.stateDir),
        (error: Error) => {
          assert.ok(error instanceof UserError);
          assert.match(error.message, new RegExp(`:3 is not a valid journal entry \\(${escaped}: `));
          return true;
        },
      );
    });
  }

  it('reads an outcome line with a field it does not know without that field, like any other entry', async () => {
    await journalOf(outcome('1'), outcome('2'));
    const extended = lines();
    extended[2] = JSON.stringify({ seq: 3, type: 'outcome', outcome: { ...outcome('2'), color: 'red' } });
    extended[1] = JSON.stringify({ seq: 2, type: 'outcome', outcome: outcome('1'), note: 'hi' });
    fs.writeFileSync(journalFile(), extended.join('\n') + '\n');
    const { entries } = replay(paths.stateDir);
    assert.deepEqual(entries.slice(1), [
      { seq: 2, type: 'outcome', outcome: outcome('1') },
      { seq: 3, type: 'outcome', outcome: outcome('2') },
    ]);
  });

  it('reads back every optional field of an outcome line', async () => {
    const full = outcome('1', {
      status: 'mismatch',
      attempts: 2,
      line: 9,
      lastError: 'amount differs',
      errorKind: 'http-5xx',
      httpStatus: 200,
      durationMs: 1.5,
      expected: '{"a":1}',
      actual: '{"a":2}',
      rowsAffected: 0,
    });
    await journalOf(full);
    assert.deepEqual(replay(paths.stateDir).entries[1], { seq: 2, type: 'outcome', outcome: full });
  });

  it('refuses a seq that does not increase: a second writer or an edit', async () => {
    await journalOf(outcome('1'), outcome('2'));
    const damaged = lines();
    fs.writeFileSync(journalFile(), [damaged[0], damaged[2], damaged[1]].join('\n') + '\n');
    assert.throws(
      () => replay(paths.stateDir),
      /:3 is not a valid journal entry \(seq 2 does not follow seq 3/,
    );
  });

  it('names a rotated file by the last entry it holds, and writes what is appended after the rotation to the new one', async () => {
    const journal = await Journal.open(paths.stateDir);
    try {
      journal.append({ type: 'outcome', outcome: outcome('1') });
      await journal.flush();
      journal.append({ type: 'outcome', outcome: outcome('2') });
      const rotation = journal.rotate();
      // Appended and flushed as the rotation takes its turn.
      await Promise.resolve();
      journal.append({ type: 'outcome', outcome: outcome('3') });
      const flushed = journal.flush();
      assert.equal(await rotation, true);
      await flushed;
      const seqsIn = (file: string) =>
        fs
          .readFileSync(file, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((line) => (JSON.parse(line) as { seq: number }).seq);
      const rotated = rotatedJournalFilesIn(paths.stateDir);
      assert.deepEqual(
        rotated.map((file) => path.basename(file)),
        ['journal-2.jsonl'],
      );
      assert.deepEqual(seqsIn(rotated[0]!), [1, 2]);
      assert.deepEqual(seqsIn(journalFile()), [3]);
    } finally {
      await journal.close();
    }
  });

  it('refuses any further use after a write fails, so a run cannot count unwritten outcomes', async () => {
    const journal = await Journal.open(paths.stateDir);
    // The disk going away, simulated: the descriptor the journal writes to is closed under it.
    fs.closeSync((journal as unknown as { fd: number }).fd);
    journal.append({ type: 'outcome', outcome: outcome('1') });
    await assert.rejects(journal.flush(), /journal .* could not be written .*the run must stop/);
    assert.throws(() => journal.append({ type: 'outcome', outcome: outcome('2') }), /could not be written/);
    await assert.rejects(journal.flush(), /could not be written/);
  });

  it('refuses appends after close', async () => {
    const journal = await Journal.open(paths.stateDir);
    await journal.close();
    assert.throws(() => journal.append({ type: 'outcome', outcome: outcome('1') }), /closed/);
  });
});

describe('foldJournal', () => {
  const paths = useRunbook();
  const journalFile = () => journalFileIn(paths.stateDir);

  /** A crashed run: its start and outcomes are in the journal, never folded into the ledger. */
  async function crashedRun(): Promise<void> {
    const journal = await Journal.open(paths.stateDir);
    journal.append({ type: 'run-start', run: run('run-1') });
    journal.append({ type: 'outcome', outcome: outcome('1', { status: 'failed', attempts: 1 }) });
    journal.append({ type: 'outcome', outcome: outcome('2') });
    journal.append({ type: 'outcome', outcome: outcome('1', { status: 'succeeded', attempts: 2 }) });
    journal.append({ type: 'outcome', outcome: outcome('3', { status: 'rejected' }) });
    await journal.close();
  }

  const state = (runbook: string) =>
    readLedger(runbook, async (ledger) => ({
      counts: await ledger.countByStatus('chain-1'),
      outcomes: await all(ledger.outcomes()),
      runs: await ledger.runs(),
    }));

  it('applies the journal to the ledger, saves it, then empties the journal', async () => {
    await crashedRun();
    const ledger = await SqlJsLedger.open(paths.runbook);
    try {
      const scan = await foldJournal(ledger, paths.stateDir);
      assert.equal(scan.entries, 5);
    } finally {
      await ledger.close();
    }
    assert.equal(fs.statSync(journalFile()).size, 0);
    const folded = await state(paths.runbook);
    assert.deepEqual([folded.counts.succeeded, folded.counts.failed, folded.counts.rejected], [2, 0, 1]);
    assert.deepEqual(folded.runs, [run('run-1')]);
  });

  it('gives the same ledger when the same journal is folded twice', async () => {
    await crashedRun();
    const journal = fs.readFileSync(journalFile());
    await fold(paths.runbook, paths.stateDir);
    const once = await state(paths.runbook);
    fs.writeFileSync(journalFile(), journal);
    await fold(paths.runbook, paths.stateDir);
    assert.deepEqual(await state(paths.runbook), once);
  });

  it('survives a crash between saving the ledger and truncating the journal', async () => {
    await crashedRun();
    const journalBeforeFold = fs.readFileSync(journalFile());
    await fold(paths.runbook, paths.stateDir);
    const saved = await state(paths.runbook);
    // The crash: the ledger save is durable, the truncation never happened.
    fs.writeFileSync(journalFile(), journalBeforeFold);

    const { ledger, journal, recovered } = await openLedgerForRun(paths.runbook);
    try {
      assert.equal(recovered.entries, 5);
      assert.equal(fs.statSync(journalFile()).size, 0);
    } finally {
      await journal.close();
      await ledger.close();
    }
    assert.deepEqual(await state(paths.runbook), saved);
  });

  it('refuses a run-end of a run the ledger does not know and saves nothing', async () => {
    const journal = await Journal.open(paths.stateDir);
    journal.append({ type: 'outcome', outcome: outcome('1') });
    journal.append({ type: 'run-end', id: 'ghost', outcome: 'succeeded', endedAt: 'now' });
    await journal.close();
    const before = fs.readFileSync(journalFile());
    await assert.rejects(
      fold(paths.runbook, paths.stateDir),
      /:2 ends run ghost, which ledger .* does not know/,
    );
    assert.deepEqual(fs.readFileSync(journalFile()), before);
    assert.equal(fs.existsSync(paths.ledgerFile), false);
  });

  it('folds a million journalled outcomes', async function () {
    // About 15 s on a loaded two-core machine: its own budget rather than the suite's 20 s default.
    this.timeout(300_000);
    const journal = await Journal.open(paths.stateDir);
    for (let i = 0; i < 1_000_000; i += 1) {
      journal.append({ type: 'outcome', outcome: outcome(`k${i}`, { line: i + 2 }) });
      if (i % 10_000 === 0) await journal.flush();
    }
    await journal.close();
    const ledger = await SqlJsLedger.open(paths.runbook);
    try {
      assert.equal((await foldJournal(ledger, paths.stateDir)).entries, 1_000_000);
      assert.equal((await ledger.keysWithStatus('chain-1', ['succeeded'])).size, 1_000_000);
    } finally {
      await ledger.close();
    }
    assert.equal(fs.statSync(journalFile()).size, 0);
    // What was saved is the whole ledger: opened again from disk, every outcome is there.
    const reopened = await readLedger(paths.runbook, async (again) => ({
      succeeded: (await again.countByStatus('chain-1')).succeeded,
      last: await again.outcomeOf('chain-1', 'k999999'),
    }));
    assert.deepEqual(reopened, { succeeded: 1_000_000, last: outcome('k999999', { line: 1_000_001 }) });
  });
});

describe('openLedgerForRun', () => {
  const paths = useRunbook();
  const journalFile = () => journalFileIn(paths.stateDir);
  const outcomesDir = () => path.join(paths.stateDir, 'outcomes');

  it('folds what a crashed run left and opens the journal for the next run', async () => {
    const crashed = await Journal.open(paths.stateDir);
    crashed.append({ type: 'run-start', run: run('run-1') });
    crashed.append({ type: 'outcome', outcome: outcome('1') });
    await crashed.flush();
    // No close: the process died here, with a partial write after the last fsync.
    fs.appendFileSync(journalFile(), '{"seq":3,"ty');

    const { ledger, journal, recovered } = await openLedgerForRun(paths.runbook);
    try {
      assert.deepEqual(recovered.entries, 2);
      assert.equal(recovered.tornTail?.line, 3);
      assert.equal((await ledger.latestRun('orders'))?.outcome, 'running');
      assert.deepEqual(await ledger.keysWithStatus('chain-1', ['succeeded']), new Set(['1']));
      assert.equal(journal.append({ type: 'outcome', outcome: outcome('2') }), 1);
      await journal.flush();
      assert.equal(replay(paths.stateDir).entries.length, 1);
    } finally {
      await journal.close();
      await ledger.close();
    }
  });

  it('checkpoints a run: its entries land in the ledger and the journal is emptied', async () => {
    const { ledger, journal } = await openLedgerForRun(paths.runbook);
    try {
      await ledger.startRun(run('run-1'));
      journal.append({ type: 'run-start', run: run('run-1') });
      journal.append({ type: 'outcome', outcome: outcome('1') });
      journal.append({
        type: 'run-end',
        id: 'run-1',
        outcome: 'succeeded',
        endedAt: '2026-03-01T11:00:00.000Z',
      });
      await journal.checkpoint();
      assert.equal(fs.statSync(journalFile()).size, 0);
    } finally {
      await journal.close();
      await ledger.close();
    }
    const latest = await readLedger(paths.runbook, async (ledger) => await ledger.latestRun('orders'));
    assert.equal(latest?.outcome, 'succeeded');
    assert.equal(
      await readLedger(paths.runbook, async (ledger) => (await ledger.countByStatus('chain-1')).succeeded),
      1,
    );
  });

  it('goes on appending while a rotated journal is folded beside the run, and loses none of it', async () => {
    // A run goes on during its checkpoints: the fold runs in a worker thread while outcomes are appended to
    // the new journal file, and they land in the next fold.
    const { ledger, journal } = await openLedgerForRun(paths.runbook);
    let turning = true;
    let appendedMeanwhile = 0;
    const turn = (): void => {
      if (!turning) return;
      journal.append({ type: 'outcome', outcome: outcome(`meanwhile-${appendedMeanwhile}`) });
      appendedMeanwhile += 1;
      setImmediate(turn);
    };
    try {
      journal.append({ type: 'run-start', run: run('run-1') });
      for (let i = 0; i < 5000; i += 1) journal.append({ type: 'outcome', outcome: outcome(`k${i}`) });
      await journal.flush();
      setImmediate(turn);
      await journal.checkpoint();
      turning = false;
      assert.ok(appendedMeanwhile > 0, 'nothing was appended while the fold went on');
      await journal.flush();
      assert.deepEqual(rotatedJournalFilesIn(paths.stateDir), [], 'the folded file is removed');
      const lines = fs.readFileSync(journalFile(), 'utf8').split('\n').filter(Boolean);
      assert.equal(lines.length, appendedMeanwhile, 'what was appended during the fold is in the journal');
      // The run's own copy of the ledger reads what the fold saved.
      assert.equal((await ledger.countByStatus('chain-1')).succeeded, 5000);
      await journal.checkpoint();
      assert.equal(fs.statSync(journalFile()).size, 0);
    } finally {
      turning = false;
      await journal.close();
      await ledger.close();
    }
    const saved = await readLedger(
      paths.runbook,
      async (ledger) => (await ledger.countByStatus('chain-1')).succeeded,
    );
    assert.equal(saved, 5000 + appendedMeanwhile);
  });

  it('leaves a rotated file whose fold failed to the next open, which folds it before the current file', async () => {
    const { ledger, journal } = await openLedgerForRun(paths.runbook);
    try {
      journal.append({ type: 'run-start', run: run('run-1') });
      journal.append({ type: 'outcome', outcome: outcome('1', { status: 'failed', attempts: 1 }) });
      // The fold cannot save: a file stands where the ledger keeps its outcome segments.
      fs.writeFileSync(outcomesDir(), '');
      await assert.rejects(journal.checkpoint(), /ENOTDIR|not a directory/);
    } finally {
      fs.rmSync(outcomesDir(), { force: true });
      await journal.close();
      await ledger.close();
    }
    assert.equal(rotatedJournalFilesIn(paths.stateDir).length, 1);
    // What a reader shows meanwhile includes the rotated file.
    const reader = await openLedger(paths.runbook);
    try {
      assert.equal((await reader.countByStatus('chain-1')).failed, 1);
    } finally {
      await reader.close();
    }
    // The next run's journal goes on after the rotated file; its later outcome of key 1 wins.
    const next = await Journal.open(paths.stateDir);
    next.append({ type: 'outcome', outcome: outcome('1', { status: 'succeeded', attempts: 2 }) });
    await next.close();
    await fold(paths.runbook, paths.stateDir);
    assert.deepEqual(rotatedJournalFilesIn(paths.stateDir), []);
    const counts = await readLedger(paths.runbook, (reader) => reader.countByStatus('chain-1'));
    assert.deepEqual([counts.failed, counts.succeeded], [0, 1]);
  });

  it('keeps a sign-off another process saved during the run when the run checkpoints', async () => {
    const { ledger, journal } = await openLedgerForRun(paths.runbook);
    try {
      await ledger.save();
      journal.append({ type: 'run-start', run: run('run-1') });
      journal.append({ type: 'outcome', outcome: outcome('1') });
      await journal.flush();
      await withSavedLedger(
        paths.runbook,
        async (other) =>
          await other.recordSignOff({
            checklist: 'approvals',
            item: 'owner',
            by: 'ada',
            at: 'now',
            checked: true,
          }),
      );
      await journal.checkpoint();
    } finally {
      await journal.close();
      await ledger.close();
    }
    const after = await readLedger(paths.runbook, async (ledger) => ({
      signOffs: (await ledger.signOffs()).length,
      outcomes: (await all(ledger.outcomes())).length,
      runs: (await ledger.runs()).length,
    }));
    assert.deepEqual(after, { signOffs: 1, outcomes: 1, runs: 1 });
  });

  it('keeps a sign-off another process saves while a fold applies a rotated journal', async () => {
    const journal = await Journal.open(paths.stateDir);
    journal.append({ type: 'run-start', run: run('run-1') });
    for (let i = 0; i < 2000; i += 1) journal.append({ type: 'outcome', outcome: outcome(`k${i}`) });
    assert.equal(await journal.rotate(), true);
    await journal.close();
    const ledger = await SqlJsLedger.open(paths.runbook);
    await ledger.save();
    const other = await SqlJsLedger.open(paths.runbook);
    await other.recordSignOff({ checklist: 'approvals', item: 'owner', by: 'ada', at: 'now', checked: true });
    let transactions = 0;
    const transaction = ledger.transaction.bind(ledger);
    ledger.transaction = <T>(work: () => T): T => {
      transactions += 1;
      // While the fold applies, as another process would.
      if (transactions === 1) void other.save();
      return transaction(work);
    };
    try {
      assert.equal(await foldRotatedJournals(ledger, paths.stateDir), 2001);
    } finally {
      await other.close();
      await ledger.close();
    }
    const after = await readLedger(paths.runbook, async (ledger) => ({
      signOffs: (await ledger.signOffs()).length,
      outcomes: (await ledger.countByStatus('chain-1')).succeeded,
    }));
    assert.deepEqual(after, { signOffs: 1, outcomes: 2000 });
    assert.deepEqual(rotatedJournalFilesIn(paths.stateDir), []);
  });

  it('refuses a corrupted ledger and leaves it and the journal byte for byte', async () => {
    const journal = await Journal.open(paths.stateDir);
    journal.append({ type: 'outcome', outcome: outcome('1') });
    await journal.close();
    fs.writeFileSync(paths.ledgerFile, Buffer.from('SQLite format 3\0 but then garbage'));
    const ledgerBefore = fs.readFileSync(paths.ledgerFile);
    const journalBefore = fs.readFileSync(journalFile());

    await assert.rejects(openLedgerForRun(paths.runbook), /not a readable backfill ledger/);
    await assert.rejects(SqlJsLedger.open(paths.runbook), /not a readable backfill ledger/);
    assert.deepEqual(fs.readFileSync(paths.ledgerFile), ledgerBefore);
    assert.deepEqual(fs.readFileSync(journalFile()), journalBefore);
  });
});

async function fold(runbook: string, stateDir: string): Promise<void> {
  const ledger = await SqlJsLedger.open(runbook);
  try {
    await foldJournal(ledger, stateDir);
  } finally {
    await ledger.close();
  }
}
