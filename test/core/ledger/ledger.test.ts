import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SqlJsLedger } from '../../../src/core/ledger/sqlJsLedger';
import { MIGRATIONS, SCHEMA_VERSION } from '../../../src/core/ledger/schema';
import type { RecordOutcome } from '../../../src/core/model/runs';
import { loadSqlJs } from '../../../src/core/support/sqlite';
import { UserError } from '../../../src/core/model/types';
import {
  all,
  dryRunRow,
  outcome,
  readLedger,
  run,
  useRunbook,
  withSavedLedger,
  writeVersion1Ledger,
} from './helpers';

const dryRun = dryRunRow();

describe('Ledger', () => {
  const paths = useRunbook();

  it('reads back an outcome with every optional field exactly as it was upserted', async () => {
    const failed = outcome('42', {
      status: 'failed',
      attempts: 3,
      line: 43,
      lastError: 'HTTP 503: upstream unavailable',
      errorKind: 'http-5xx',
      httpStatus: 503,
      durationMs: 12.5,
    });
    await withSavedLedger(paths.runbook, async (ledger) => ledger.upsertOutcome(failed));
    assert.deepEqual(await readLedger(paths.runbook, async (ledger) => await all(ledger.outcomes())), [
      failed,
    ]);
  });

  it('reads back an outcome without optional fields with none of them present', async () => {
    const bare = outcome('7');
    await withSavedLedger(paths.runbook, async (ledger) => ledger.upsertOutcome(bare));
    const [read] = await readLedger(paths.runbook, async (ledger) => await all(ledger.outcomes()));
    assert.deepEqual(read, bare);
    assert.deepEqual(Object.keys(read ?? {}).sort(), Object.keys(bare).sort());
  });

  it('reads back a verification mismatch with the expected and actual values it found', async () => {
    const mismatch = outcome('42', {
      status: 'mismatch',
      lastError: 'amount: expected 5.5, got 6.5',
      expected: '{"amount":5.5}',
      actual: '{"amount":6.5}',
      httpStatus: 200,
      idempotencyKey: '',
    });
    await withSavedLedger(paths.runbook, async (ledger) => ledger.upsertOutcome(mismatch));
    assert.deepEqual(await readLedger(paths.runbook, async (ledger) => await all(ledger.outcomes())), [
      mismatch,
    ]);
  });

  it('looks up the latest outcome of one key in a chain, and nothing for a key without one', async () => {
    await withSavedLedger(paths.runbook, async (ledger) =>
      ledger.upsertOutcomes([
        outcome('1', { status: 'failed' }),
        outcome('1', { status: 'succeeded', attempts: 2 }),
      ]),
    );
    const [found, unknown] = await readLedger(paths.runbook, async (ledger) => [
      await ledger.outcomeOf('chain-1', '1'),
      await ledger.outcomeOf('chain-1', '2'),
    ]);
    assert.equal(found?.status, 'succeeded');
    assert.equal(found?.attempts, 2);
    assert.equal(unknown, undefined);
  });

  it('keeps only the latest outcome of a key within a chain, and separate outcomes per chain', async () => {
    await withSavedLedger(paths.runbook, async (ledger) => {
      ledger.upsertOutcome(outcome('1', { status: 'failed', attempts: 2 }));
      ledger.upsertOutcome(outcome('1', { status: 'succeeded', attempts: 1, run: 'run-2' }));
      ledger.upsertOutcome(outcome('1', { chain: 'chain-2', status: 'rejected' }));
    });
    const latest = await readLedger(
      paths.runbook,
      async (ledger) => await all(ledger.outcomes({ chain: 'chain-1' })),
    );
    assert.deepEqual(latest, [outcome('1', { status: 'succeeded', attempts: 1, run: 'run-2' })]);
    assert.equal(await readLedger(paths.runbook, async (ledger) => (await all(ledger.outcomes())).length), 2);
  });

  it('filters outcomes by cell, chain and one or several statuses, in source-line order', async () => {
    await withSavedLedger(paths.runbook, async (ledger) =>
      ledger.upsertOutcomes([
        outcome('c', { line: 4, status: 'failed' }),
        outcome('a', { line: 2, status: 'succeeded' }),
        outcome('b', { line: 3, status: 'rejected' }),
        outcome('d', { line: 5, status: 'failed', cell: 'refunds', chain: 'chain-9' }),
      ]),
    );
    const keys = (filter: Parameters<SqlJsLedger['outcomes']>[0]) =>
      readLedger(paths.runbook, async (ledger) => (await all(ledger.outcomes(filter))).map((o) => o.key));
    assert.deepEqual(await keys({ chain: 'chain-1' }), ['a', 'b', 'c']);
    assert.deepEqual(await keys({ cell: 'orders', status: 'failed' }), ['c']);
    assert.deepEqual(await keys({ status: ['failed', 'rejected'] }), ['b', 'c', 'd']);
    assert.deepEqual(await keys({ cell: 'refunds' }), ['d']);
    assert.deepEqual(await keys({ status: [] }), []);
  });

  it('counts the records of a chain per status, with zero for a status no record has', async () => {
    await withSavedLedger(paths.runbook, async (ledger) =>
      ledger.upsertOutcomes([
        outcome('1'),
        outcome('2'),
        outcome('3', { status: 'failed' }),
        outcome('4', { chain: 'other' }),
      ]),
    );
    assert.deepEqual(
      await readLedger(paths.runbook, async (ledger) => await ledger.countByStatus('chain-1')),
      {
        succeeded: 2,
        failed: 1,
        rejected: 0,
        verified: 0,
        mismatch: 0,
        missing: 0,
        error: 0,
      },
    );
  });

  it('returns keys exactly as stored, whatever characters they hold', async () => {
    const odd = [
      'a"b',
      'back\\slash',
      'new\nline',
      'tab\tand\u0001control',
      'ünïcødé ✓',
      '[1,2]',
      '',
      ' padded ',
    ];
    await withSavedLedger(paths.runbook, async (ledger) =>
      ledger.upsertOutcomes(odd.map((key) => outcome(key))),
    );
    const keys = await readLedger(
      paths.runbook,
      async (ledger) => await ledger.keysWithStatus('chain-1', ['succeeded']),
    );
    assert.deepEqual([...keys].sort(), [...odd].sort());
  });

  it('returns the keys of a million outcomes with the asked statuses as a set', async function () {
    // A million rows: seconds on a quiet machine, minutes on a loaded one (a guard, not a timing check).
    this.timeout(300_000);
    const ledger = await SqlJsLedger.open(paths.runbook);
    try {
      const count = ledger.upsertOutcomes(millionOutcomes());
      assert.equal(count, 1_000_000);
      const done = await ledger.keysWithStatus('chain-1', ['succeeded', 'failed', 'rejected']);
      assert.equal(done.size, 1_000_000);
      assert.ok(done.has('k0') && done.has('k999999'));
      const failed = await ledger.keysWithStatus('chain-1', ['failed']);
      assert.equal(failed.size, 100_000);
      assert.ok(failed.has('k10') && !failed.has('k11'));
      assert.equal((await ledger.keysWithStatus('chain-1', [])).size, 0);
      const counts = await ledger.countByStatus('chain-1');
      assert.deepEqual([counts.succeeded, counts.failed, counts.rejected], [900_000, 100_000, 0]);
    } finally {
      await ledger.close();
    }
  });

  it('upserts many outcomes in order: the last of a key wins, within a statement and across them', async () => {
    // 1,000 outcomes: several full multi-row statements and a remainder, each key three times.
    const keys = Array.from({ length: 333 }, (_, i) => `k${i}`);
    const many = [
      ...keys.map((key, i) => outcome(key, { status: 'failed', line: i + 2 })),
      ...keys.map((key, i) => outcome(key, { status: 'failed', attempts: 2, line: i + 2 })),
      ...keys.map((key, i) => outcome(key, { attempts: 3, line: i + 2, run: i % 2 ? 'run-2' : 'run-1' })),
      outcome('k0', { status: 'rejected', line: 2 }),
    ];
    await withSavedLedger(paths.runbook, async (ledger) => assert.equal(ledger.upsertOutcomes(many), 1000));
    const latest = await readLedger(paths.runbook, async (ledger) => await all(ledger.outcomes()));
    assert.deepEqual(latest, [outcome('k0', { status: 'rejected', line: 2 }), ...many.slice(667, 999)]);
  });

  it('rolls back every upsert of a transaction that throws', async () => {
    const ledger = await SqlJsLedger.open(paths.runbook);
    try {
      assert.throws(() =>
        ledger.transaction(() => {
          ledger.upsertOutcome(outcome('1'));
          throw new Error('interrupted');
        }),
      );
      assert.equal((await all(ledger.outcomes())).length, 0);
    } finally {
      await ledger.close();
    }
  });

  it('records a run, finishes it and lists the runs of a cell newest first', async () => {
    await withSavedLedger(paths.runbook, async (ledger) => {
      await ledger.startRun(run('run-1', { startedAt: '2026-03-01T10:00:00.000Z' }));
      await ledger.startRun(run('run-2', { startedAt: '2026-03-02T10:00:00.000Z' }));
      await ledger.startRun(run('run-3', { cell: 'refunds' }));
      assert.equal(
        await ledger.finishRun(
          'run-1',
          'halted',
          'stopped by operator',
          '{"succeeded":3}',
          '2026-03-01T11:00:00.000Z',
        ),
        true,
      );
      assert.equal(await ledger.finishRun('no-such-run', 'succeeded'), false);
    });
    const runs = await readLedger(paths.runbook, async (ledger) => await ledger.runs('orders'));
    assert.deepEqual(
      runs.map((r) => r.id),
      ['run-2', 'run-1'],
    );
    assert.deepEqual(
      runs[1],
      run('run-1', {
        outcome: 'halted',
        reason: 'stopped by operator',
        counts: '{"succeeded":3}',
        endedAt: '2026-03-01T11:00:00.000Z',
      }),
    );
    assert.equal(
      await readLedger(paths.runbook, async (ledger) => (await ledger.latestRun('orders'))?.id),
      'run-2',
    );
    assert.equal(
      await readLedger(paths.runbook, async (ledger) => await ledger.latestRun('nothing')),
      undefined,
    );
    assert.equal(await readLedger(paths.runbook, async (ledger) => (await ledger.runs()).length), 3);
  });

  it('rewrites a run started again with the same id instead of failing or duplicating it', async () => {
    await withSavedLedger(paths.runbook, async (ledger) => {
      await ledger.startRun(run('run-1'));
      await ledger.startRun(run('run-1', { params: '{"rate":5}' }));
    });
    const runs = await readLedger(paths.runbook, async (ledger) => await ledger.runs());
    assert.deepEqual(runs, [run('run-1', { params: '{"rate":5}' })]);
  });

  it('appends sign-offs as history and lists them per checklist in the order recorded', async () => {
    const signOffs = [
      { checklist: 'approvals', item: 'owner', by: 'ada', at: '2026-03-01T09:00:00.000Z', checked: true },
      { checklist: 'comms', item: 'announce', by: 'bob', at: '2026-03-01T09:01:00.000Z', checked: true },
      { checklist: 'approvals', item: 'owner', by: 'ada', at: '2026-03-01T09:02:00.000Z', checked: false },
    ];
    await withSavedLedger(paths.runbook, async (ledger) => {
      for (const s of signOffs) await ledger.recordSignOff(s);
    });
    assert.deepEqual(await readLedger(paths.runbook, async (ledger) => await ledger.signOffs('approvals')), [
      signOffs[0],
      signOffs[2],
    ]);
    assert.deepEqual(await readLedger(paths.runbook, async (ledger) => await ledger.signOffs()), signOffs);
  });

  it('keeps the dry-run API: records, lists and finds the passing dry run of a fingerprint', async () => {
    await withSavedLedger(paths.runbook, async (ledger) => {
      await ledger.recordDryRun(dryRun);
      await ledger.recordDryRun({
        ...dryRun,
        id: 'dry-3',
        passed: false,
        startedAt: '2026-02-03T09:00:00.000Z',
      });
    });
    assert.deepEqual(
      await readLedger(paths.runbook, async (ledger) =>
        (await ledger.dryRuns('orders')).map((row) => row.id),
      ),
      ['dry-3', 'dry-2'],
    );
    assert.deepEqual(
      await readLedger(paths.runbook, async (ledger) => await ledger.passingDryRun('fp-2')),
      dryRun,
    );
    assert.equal(
      await readLedger(paths.runbook, async (ledger) => await ledger.passingDryRun('fp-unknown')),
      undefined,
    );
  });

  it('creates nothing on disk until saved', async () => {
    const ledger = await SqlJsLedger.open(paths.runbook);
    ledger.upsertOutcome(outcome('1'));
    await ledger.close();
    assert.equal(fs.existsSync(paths.ledgerFile), false);
  });

  it("removes the temporary file a process killed mid-save left, and keeps a live process's", async () => {
    fs.mkdirSync(path.dirname(paths.ledgerFile), { recursive: true });
    const dead = spawnSync(process.execPath, ['-e', '0']).pid; // a process that has exited
    const left = `${paths.ledgerFile}.${dead}.tmp`;
    const live = `${paths.ledgerFile}.${process.pid}.tmp`;
    for (const file of [left, live]) fs.writeFileSync(file, 'half a ledger');
    const ledger = await SqlJsLedger.open(paths.runbook);
    await ledger.close();
    assert.equal(fs.existsSync(left), false);
    assert.equal(fs.existsSync(live), true);
    fs.rmSync(live);
  });

  it("removes what dead processes left beside a chain's segments, tallies and marks, and keeps a live process's", async () => {
    await withSavedLedger(paths.runbook, async (ledger) => {
      await ledger.startRun(run('run-1'));
      ledger.upsertOutcome(outcome('1'));
    });
    const outcomes = path.join(path.dirname(paths.ledgerFile), 'outcomes');
    const [chainDir] = fs
      .readdirSync(outcomes, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => path.join(outcomes, entry.name));
    assert.ok(chainDir, 'the saved ledger has a chain folder');
    const dead = spawnSync(process.execPath, ['-e', '0']).pid; // a process that has exited
    const left = ['0.sqlite', 'tallies.json', 'marks.json'].map((name) =>
      path.join(chainDir, `${name}.${dead}.tmp`),
    );
    const live = path.join(chainDir, `0.sqlite.${process.pid}.tmp`);
    for (const file of [...left, live]) fs.writeFileSync(file, 'half a file');

    const ledger = await SqlJsLedger.open(paths.runbook);
    await ledger.close();

    assert.deepEqual(
      left.filter((file) => fs.existsSync(file)),
      [],
    );
    assert.equal(fs.existsSync(live), true);
    fs.rmSync(live);
  });

  it('migrates a version 1 ledger: keeps its dry runs and adds runs, records and sign-offs', async () => {
    await writeVersion1Ledger(paths.ledgerFile);
    await withSavedLedger(paths.runbook, async (ledger) => {
      assert.equal((await ledger.passingDryRun('fp-1'))?.id, 'dry-1');
      await ledger.startRun(run('run-1'));
      ledger.upsertOutcome(outcome('1'));
      await ledger.recordSignOff({ checklist: 'c', item: 'i', by: 'ada', at: 'now', checked: true });
    });
    assert.equal(await readSchemaVersion(paths.ledgerFile), String(SCHEMA_VERSION));
    const reopened = await readLedger(paths.runbook, async (ledger) => ({
      dryRuns: (await ledger.dryRuns()).length,
      runs: (await ledger.runs()).length,
      outcomes: (await all(ledger.outcomes())).length,
      signOffs: (await ledger.signOffs()).length,
    }));
    assert.deepEqual(reopened, { dryRuns: 1, runs: 1, outcomes: 1, signOffs: 1 });
  });

  it('migrates a version 2 ledger: its outcomes read back unchanged, and mismatches can be stored', async () => {
    const SQL = await loadSqlJs();
    const db = new SQL.Database();
    for (const migration of MIGRATIONS.filter((m) => m.to <= 2)) db.run(migration.sql);
    db.run("INSERT INTO meta VALUES ('schema_version', '2')");
    db.run(
      "INSERT INTO records VALUES ('chain-1', '1', 'run-1', 'orders', 'succeeded', 1, 2, NULL, NULL, NULL, NULL, 'idem-1', '2026-03-01T10:00:00.000Z')",
    );
    fs.mkdirSync(path.dirname(paths.ledgerFile), { recursive: true });
    fs.writeFileSync(paths.ledgerFile, db.export());
    db.close();
    const mismatch = outcome('2', { status: 'mismatch', expected: '{"a":1}', actual: '{"a":2}' });
    await withSavedLedger(paths.runbook, async (ledger) => ledger.upsertOutcome(mismatch));
    assert.equal(await readSchemaVersion(paths.ledgerFile), String(SCHEMA_VERSION));
    assert.deepEqual(await readLedger(paths.runbook, async (ledger) => await all(ledger.outcomes())), [
      outcome('1'),
      mismatch,
    ]);
  });

  it('migrates a version 3 ledger to compact rows: every outcome reads back unchanged', async () => {
    const SQL = await loadSqlJs();
    const db = new SQL.Database();
    for (const migration of MIGRATIONS.filter((m) => m.to <= 3)) db.run(migration.sql);
    db.run("INSERT INTO meta VALUES ('schema_version', '3')");
    const older = [
      outcome('1'),
      outcome('2', { status: 'failed', lastError: 'HTTP 503', errorKind: 'http-5xx', httpStatus: 503 }),
      outcome('3', { chain: 'chain-2', run: 'run-2', cell: 'refunds', durationMs: 1.5 }),
      outcome('4', { status: 'mismatch', expected: '{"a":1}', actual: '{"a":2}', idempotencyKey: '' }),
    ];
    for (const o of older) {
      db.run('INSERT INTO records VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)', [
        o.chain,
        o.key,
        o.run,
        o.cell,
        o.status,
        o.attempts,
        o.line,
        o.lastError ?? null,
        o.errorKind ?? null,
        o.httpStatus ?? null,
        o.durationMs ?? null,
        o.idempotencyKey,
        o.at,
        o.expected ?? null,
        o.actual ?? null,
      ]);
    }
    fs.mkdirSync(path.dirname(paths.ledgerFile), { recursive: true });
    fs.writeFileSync(paths.ledgerFile, db.export());
    db.close();

    await withSavedLedger(paths.runbook, async (ledger) => ledger.upsertOutcome(outcome('5')));
    assert.equal(await readSchemaVersion(paths.ledgerFile), String(SCHEMA_VERSION));
    const [byChain, refunds, mismatch] = await readLedger(paths.runbook, async (ledger) => [
      await all(ledger.outcomes({ chain: 'chain-1' })),
      await all(ledger.outcomes({ cell: 'refunds' })),
      await ledger.outcomeOf('chain-1', '4'),
    ]);
    assert.deepEqual(byChain, [older[0], older[1], older[3], outcome('5')]);
    assert.deepEqual(refunds, [older[2]]);
    assert.deepEqual(mismatch, older[3]);
    assert.deepEqual(
      await sqlOf(
        paths.ledgerFile,
        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'records'",
      ),
      [],
    );
  });

  it('migrates a version 4 ledger: its outcomes read back without rows affected, new ones keep theirs', async () => {
    const SQL = await loadSqlJs();
    const db = new SQL.Database();
    for (const migration of MIGRATIONS.filter((m) => m.to <= 4)) db.run(migration.sql);
    db.run("INSERT INTO meta VALUES ('schema_version', '4')");
    db.run("INSERT INTO names (id, value) VALUES (1, 'chain-1'), (2, 'run-1'), (3, 'orders')");
    const older = outcome('1', { status: 'failed', lastError: 'HTTP 503', httpStatus: 503 });
    db.run('INSERT INTO records VALUES (1, ?, 2, 3, ?, ?, ?, ?, NULL, ?, NULL, ?, ?, NULL, NULL)', [
      older.key,
      older.status,
      older.attempts,
      older.line,
      older.lastError!,
      older.httpStatus!,
      older.idempotencyKey,
      older.at,
    ]);
    fs.mkdirSync(path.dirname(paths.ledgerFile), { recursive: true });
    fs.writeFileSync(paths.ledgerFile, db.export());
    db.close();

    // Read only: migrated in memory, the file untouched, the old outcome as it was.
    const before = fs.readFileSync(paths.ledgerFile);
    assert.deepEqual(
      await readLedger(paths.runbook, async (ledger) => ledger.outcomeOf('chain-1', '1')),
      older,
    );
    assert.ok(fs.readFileSync(paths.ledgerFile).equals(before));

    const sql = outcome('2', { rowsAffected: 3, line: 3 });
    await withSavedLedger(paths.runbook, async (ledger) => ledger.upsertOutcome(sql));
    assert.equal(await readSchemaVersion(paths.ledgerFile), String(SCHEMA_VERSION));
    assert.deepEqual(
      await readLedger(paths.runbook, async (ledger) => all(ledger.outcomes({ chain: 'chain-1' }))),
      [older, sql],
    );
  });

  it('leaves no free pages of the rebuilt table in a migrated version 3 ledger', async () => {
    const SQL = await loadSqlJs();
    const db = new SQL.Database();
    for (const migration of MIGRATIONS.filter((m) => m.to <= 3)) db.run(migration.sql);
    db.run("INSERT INTO meta VALUES ('schema_version', '3')");
    db.run(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000)
      INSERT INTO records SELECT 'chain-1', 'k' || i, 'run-1', 'orders', 'succeeded', 1, i + 1,
        NULL, NULL, NULL, NULL, 'idem-' || i, '2026-03-01T10:00:00.000Z', NULL, NULL FROM n`);
    fs.mkdirSync(path.dirname(paths.ledgerFile), { recursive: true });
    fs.writeFileSync(paths.ledgerFile, db.export());
    db.close();
    const before = fs.statSync(paths.ledgerFile).size;

    await withSavedLedger(paths.runbook, () => undefined);
    assert.deepEqual(await sqlOf(paths.ledgerFile, 'PRAGMA freelist_count'), [[0]]);
    assert.ok(fs.statSync(paths.ledgerFile).size < before, 'the migrated ledger is smaller');
    assert.equal(
      await readLedger(paths.runbook, async (ledger) => (await ledger.countByStatus('chain-1')).succeeded),
      5000,
    );
  });

  it('stores the chain, run and cell an outcome shares with others once', async () => {
    await withSavedLedger(paths.runbook, async (ledger) =>
      ledger.upsertOutcomes(Array.from({ length: 1000 }, (_, i) => outcome(`k${i}`))),
    );
    const [segment, ...others] = segmentFiles(paths.ledgerFile);
    assert.equal(others.length, 0, 'a thousand outcomes of one chain fill one segment');
    assert.deepEqual(await sqlOf(segment!, 'SELECT value FROM names ORDER BY value'), [
      ['chain-1'],
      ['orders'],
      ['run-1'],
    ]);
    assert.deepEqual(await sqlOf(segment!, 'SELECT COUNT(*) FROM records'), [[1000]]);
    assert.deepEqual(
      await sqlOf(paths.ledgerFile, "SELECT name FROM sqlite_master WHERE name = 'records'"),
      [],
      'ledger.sqlite holds no outcome',
    );
  });

  it('keeps no name of a rolled-back transaction: a later outcome with it is saved whole', async () => {
    const ledger = await SqlJsLedger.open(paths.runbook);
    try {
      assert.throws(() =>
        ledger.transaction(() => {
          ledger.upsertOutcome(outcome('1', { chain: 'chain-9', run: 'run-9', cell: 'refunds' }));
          throw new Error('interrupted');
        }),
      );
      ledger.upsertOutcome(outcome('2', { chain: 'chain-9', run: 'run-9', cell: 'refunds' }));
      await ledger.save();
    } finally {
      await ledger.close();
    }
    const later = outcome('2', { chain: 'chain-9', run: 'run-9', cell: 'refunds' });
    assert.deepEqual(await readLedger(paths.runbook, async (reopened) => await all(reopened.outcomes())), [
      later,
    ]);
  });

  it('finds nothing for a chain, run or cell it has never stored', async () => {
    await withSavedLedger(paths.runbook, async (ledger) => ledger.upsertOutcome(outcome('1')));
    const found = await readLedger(paths.runbook, async (ledger) => ({
      byChain: (await all(ledger.outcomes({ chain: 'nope' }))).length,
      byCell: (await all(ledger.outcomes({ cell: 'nope' }))).length,
      keys: (await ledger.keysWithStatus('nope', ['succeeded'])).size,
      one: await ledger.outcomeOf('nope', '1'),
      failed: (await ledger.countByStatus('nope')).failed,
      tally: await ledger.tallyChain('nope'),
      last: await ledger.lastOutcomeAt('nope'),
    }));
    assert.deepEqual(found, {
      byChain: 0,
      byCell: 0,
      keys: 0,
      one: undefined,
      failed: 0,
      tally: [],
      last: undefined,
    });
  });

  it('tallies a chain by status, error kind and run without reading its outcomes one by one', async () => {
    await withSavedLedger(paths.runbook, async (ledger) =>
      ledger.upsertOutcomes([
        outcome('1'),
        outcome('2', { run: 'run-2' }),
        outcome('3', { status: 'failed', errorKind: 'timeout', run: 'run-2' }),
        outcome('4', { status: 'failed', errorKind: 'timeout', run: 'run-2' }),
        outcome('5', { status: 'failed', errorKind: 'http-5xx', run: 'run-2' }),
        outcome('6', { status: 'rejected', errorKind: 'render' }),
        outcome('7', { chain: 'chain-2' }),
      ]),
    );
    const tally = await readLedger(paths.runbook, async (ledger) => await ledger.tallyChain('chain-1'));
    const sorted = (rows: typeof tally) =>
      [...rows].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
    assert.deepEqual(
      sorted(tally),
      sorted([
        { status: 'succeeded', run: 'run-1', count: 1 },
        { status: 'succeeded', run: 'run-2', count: 1 },
        { status: 'failed', errorKind: 'timeout', run: 'run-2', count: 2 },
        { status: 'failed', errorKind: 'http-5xx', run: 'run-2', count: 1 },
        { status: 'rejected', errorKind: 'render', run: 'run-1', count: 1 },
      ]),
    );
  });

  it('gives the time of the last outcome a run recorded', async () => {
    await withSavedLedger(paths.runbook, async (ledger) =>
      ledger.upsertOutcomes([
        outcome('1', { at: '2026-03-01T10:00:02.000Z' }),
        outcome('2', { at: '2026-03-01T10:00:05.000Z' }),
        outcome('3', { at: '2026-03-01T10:00:09.000Z', run: 'run-2' }),
      ]),
    );
    assert.equal(
      await readLedger(paths.runbook, async (ledger) => await ledger.lastOutcomeAt('run-1')),
      '2026-03-01T10:00:05.000Z',
    );
  });

  it('refuses, naming the file, a ledger whose outcome refers to a name it lacks', async () => {
    await withSavedLedger(paths.runbook, async (ledger) => ledger.upsertOutcome(outcome('1')));
    const [segment] = segmentFiles(paths.ledgerFile);
    await editSqlite(segment!, "DELETE FROM names WHERE value = 'run-1'");
    await assert.rejects(
      readLedger(paths.runbook, async (ledger) => await all(ledger.outcomes())),
      (error: Error) => {
        assert.ok(error instanceof UserError);
        assert.ok(error.message.includes(segment!));
        assert.match(error.message, /not a readable backfill ledger \(an outcome refers to name \d+/);
        return true;
      },
    );
  });

  it('does not rewrite a version 1 ledger merely by opening it', async () => {
    await writeVersion1Ledger(paths.ledgerFile);
    const before = fs.readFileSync(paths.ledgerFile);
    await readLedger(paths.runbook, async (ledger) => await ledger.runs());
    assert.deepEqual(fs.readFileSync(paths.ledgerFile), before);
  });

  it('refuses a ledger written by a newer backfill and leaves it byte for byte', async () => {
    await writeVersion1Ledger(paths.ledgerFile);
    await rewriteSchemaVersion(paths.ledgerFile, SCHEMA_VERSION + 1);
    const before = fs.readFileSync(paths.ledgerFile);
    await assert.rejects(SqlJsLedger.open(paths.runbook), (error: Error) => {
      assert.ok(error instanceof UserError);
      assert.match(error.message, /newer backfill .*upgrade backfill/);
      return true;
    });
    assert.deepEqual(fs.readFileSync(paths.ledgerFile), before);
  });

  for (const [name, write] of [
    ['is not SQLite', (file: string) => fs.writeFileSync(file, 'this is not a database\n'.repeat(100))],
    [
      'is SQLite without the meta table',
      (file: string) => writeSqlite(file, 'CREATE TABLE other (x INTEGER)'),
    ],
    ['is empty', (file: string) => fs.writeFileSync(file, '')],
  ] as const) {
    it(`refuses a ledger file that ${name}, naming it, and leaves it byte for byte`, async () => {
      fs.mkdirSync(paths.stateDir, { recursive: true });
      await write(paths.ledgerFile);
      const before = fs.readFileSync(paths.ledgerFile);
      await assert.rejects(SqlJsLedger.open(paths.runbook), (error: Error) => {
        assert.ok(error instanceof UserError);
        assert.ok(error.message.includes(paths.ledgerFile));
        assert.match(error.message, /not a readable backfill ledger.*left untouched/);
        return true;
      });
      assert.deepEqual(fs.readFileSync(paths.ledgerFile), before);
    });
  }

  it('refuses to save over a ledger another process saved since it was opened, and writes nothing', async () => {
    await withSavedLedger(paths.runbook, async (ledger) => await ledger.recordDryRun(dryRun));
    const stale = await SqlJsLedger.open(paths.runbook);
    try {
      await withSavedLedger(paths.runbook, async (other) => await other.recordSignOff(signOff('other')));
      const before = fs.readFileSync(paths.ledgerFile);
      stale.upsertOutcome(outcome('1'));
      assert.equal(stale.isUnchangedOnDisk(), false);
      await assert.rejects(stale.save(), /saved by another backfill process.*nothing was overwritten/);
      assert.deepEqual(fs.readFileSync(paths.ledgerFile), before);
    } finally {
      await stale.close();
    }
  });

  it('saves repeatedly from the same ledger and reloads what another process saved', async () => {
    const ledger = await SqlJsLedger.open(paths.runbook);
    try {
      ledger.upsertOutcome(outcome('1'));
      await ledger.save();
      ledger.upsertOutcome(outcome('2'));
      await ledger.save();
      await withSavedLedger(paths.runbook, async (other) => await other.recordSignOff(signOff('other')));
      ledger.reload();
      assert.equal((await ledger.signOffs()).length, 1);
      assert.equal((await all(ledger.outcomes())).length, 2);
      ledger.upsertOutcome(outcome('3'));
      await ledger.save();
    } finally {
      await ledger.close();
    }
    assert.equal(await readLedger(paths.runbook, async (ledger) => (await all(ledger.outcomes())).length), 3);
  });

  it('looks names up afresh after reloading: outcomes saved after a reload keep their own chain', async () => {
    const ledger = await SqlJsLedger.open(paths.runbook);
    try {
      ledger.upsertOutcome(outcome('1', { chain: 'chain-a' }));
      await withSavedLedger(paths.runbook, async (other) =>
        other.upsertOutcome(outcome('2', { chain: 'chain-b', run: 'run-b', cell: 'cell-b' })),
      );
      ledger.reload();
      ledger.upsertOutcome(outcome('3', { chain: 'chain-a' }));
      await ledger.save();
    } finally {
      await ledger.close();
    }
    assert.deepEqual(await readLedger(paths.runbook, async (ledger) => await all(ledger.outcomes())), [
      outcome('2', { chain: 'chain-b', run: 'run-b', cell: 'cell-b' }),
      // A reload re-reads ledger.sqlite; outcomes not saved yet stay (they live in their segment).
      outcome('1', { chain: 'chain-a' }),
      outcome('3', { chain: 'chain-a' }),
    ]);
  });

  it('leaves no temporary file beside the ledger after saving', async () => {
    await withSavedLedger(paths.runbook, async (ledger) => ledger.upsertOutcome(outcome('1')));
    const files = fs.readdirSync(path.dirname(paths.ledgerFile), { recursive: true }).map(String);
    assert.deepEqual(
      files.filter((file) => file.endsWith('.tmp')),
      [],
    );
    assert.equal(segmentFiles(paths.ledgerFile).length, 1);
  });
});

/** The outcome segments saved beside a ledger file. */
function segmentFiles(ledgerFile: string): string[] {
  const outcomes = path.join(path.dirname(ledgerFile), 'outcomes');
  return fs
    .readdirSync(outcomes, { recursive: true })
    .map(String)
    .filter((file) => file.endsWith('.sqlite'))
    .map((file) => path.join(outcomes, file));
}

function* millionOutcomes(): Generator<RecordOutcome> {
  for (let i = 0; i < 1_000_000; i += 1) {
    yield outcome(`k${i}`, { status: i % 10 === 0 ? 'failed' : 'succeeded', line: i + 2 });
  }
}

function signOff(by: string) {
  return { checklist: 'approvals', item: 'owner', by, at: '2026-03-01T09:00:00.000Z', checked: true };
}

async function readSchemaVersion(file: string): Promise<unknown> {
  const SQL = await loadSqlJs();
  const db = new SQL.Database(fs.readFileSync(file));
  try {
    return db.exec("SELECT value FROM meta WHERE key = 'schema_version'")[0]?.values[0]?.[0];
  } finally {
    db.close();
  }
}

async function rewriteSchemaVersion(file: string, version: number): Promise<void> {
  const SQL = await loadSqlJs();
  const db = new SQL.Database(fs.readFileSync(file));
  db.run("UPDATE meta SET value = ? WHERE key = 'schema_version'", [String(version)]);
  fs.writeFileSync(file, db.export());
  db.close();
}

/** The rows a query returns from a ledger file, read without the Ledger class. */
async function sqlOf(file: string, sql: string): Promise<unknown[][]> {
  const SQL = await loadSqlJs();
  const db = new SQL.Database(fs.readFileSync(file));
  try {
    return db.exec(sql)[0]?.values ?? [];
  } finally {
    db.close();
  }
}

async function editSqlite(file: string, sql: string): Promise<void> {
  const SQL = await loadSqlJs();
  const db = new SQL.Database(fs.readFileSync(file));
  db.run(sql);
  fs.writeFileSync(file, db.export());
  db.close();
}

async function writeSqlite(file: string, sql: string): Promise<void> {
  const SQL = await loadSqlJs();
  const db = new SQL.Database();
  db.run(sql);
  fs.writeFileSync(file, db.export());
  db.close();
}
