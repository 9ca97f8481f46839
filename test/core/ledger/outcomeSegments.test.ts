import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Journal } from '../../../src/core/ledger/journal';
import { openLedger } from '../../../src/core/ledger/openLedger';
import { MIGRATIONS } from '../../../src/core/ledger/schema';
import { SqlJsLedger } from '../../../src/core/ledger/sqlJsLedger';
import { loadSqlJs } from '../../../src/core/support/sqlite';
import { all, dryRunRow, outcome, readLedger, run, useRunbook, withSavedLedger } from './helpers';

/** The segment files of a ledger, relative to its `outcomes/` folder, sorted. */
function segmentFiles(stateDir: string): string[] {
  const outcomes = path.join(stateDir, 'outcomes');
  if (!fs.existsSync(outcomes)) return [];
  return fs
    .readdirSync(outcomes, { recursive: true })
    .map(String)
    .filter((file) => file.endsWith('.sqlite'))
    .sort();
}

/** The keys a segment file holds, read with sql.js, not through backfill. */
async function keysIn(stateDir: string, segment: string): Promise<string[]> {
  const SQL = await loadSqlJs();
  const db = new SQL.Database(fs.readFileSync(path.join(stateDir, 'outcomes', segment)));
  try {
    return (db.exec('SELECT key FROM records ORDER BY line')[0]?.values ?? []).map(([key]) => String(key));
  } finally {
    db.close();
  }
}

describe('the embedded ledger in segments', () => {
  const paths = useRunbook();
  let before: string | undefined;
  beforeEach(() => {
    before = process.env.BACKFILL_LINES_PER_SEGMENT;
    process.env.BACKFILL_LINES_PER_SEGMENT = '100';
  });
  afterEach(() => {
    if (before === undefined) delete process.env.BACKFILL_LINES_PER_SEGMENT;
    else process.env.BACKFILL_LINES_PER_SEGMENT = before;
  });

  /** Outcomes of keys k2…k(n+1) on lines 2…n+1, every tenth failed. */
  const outcomes = (n: number, overrides = {}) =>
    Array.from({ length: n }, (_, i) =>
      outcome(`k${i + 2}`, { line: i + 2, status: i % 10 === 0 ? 'failed' : 'succeeded', ...overrides }),
    );

  it('keeps each range of source lines in a file of its own, and streams them back in line order', async () => {
    const written = outcomes(450);
    // Recorded out of order, as retries finish: the segment of each is its line's.
    await withSavedLedger(paths.runbook, (ledger) => ledger.upsertOutcomes([...written].reverse()));
    const files = segmentFiles(paths.stateDir);
    assert.equal(files.length, 5, `lines 2–451 in segments of 100: ${files.join(', ')}`);
    assert.deepEqual(
      await keysIn(
        paths.stateDir,
        files.find((f) => f.endsWith('/3.sqlite'))!,
      ),
      [...Array.from({ length: 100 }, (_, i) => `k${300 + i}`)],
    );
    const read = await readLedger(paths.runbook, async (ledger) =>
      all(ledger.outcomes({ chain: 'chain-1' })),
    );
    assert.deepEqual(read, written);
  });

  it('reads outcomes of some statuses only from the segments whose tallies hold them', async () => {
    // Failed outcomes on lines 2–101 only (segments 0 and 1); the other segments hold successes alone.
    const written = outcomes(450).map((each) =>
      each.line > 101 ? { ...each, status: 'succeeded' as const } : each,
    );
    await withSavedLedger(paths.runbook, (ledger) => ledger.upsertOutcomes(written));
    // Segment 3 made unreadable: a read that opened it would fail.
    const third = segmentFiles(paths.stateDir).find((f) => f.endsWith('/3.sqlite'))!;
    fs.writeFileSync(path.join(paths.stateDir, 'outcomes', third), 'not a database');
    const failed = await readLedger(paths.runbook, async (ledger) =>
      all(ledger.outcomes({ chain: 'chain-1', status: 'failed' })),
    );
    assert.deepEqual(
      failed,
      written.filter((each) => each.status === 'failed'),
    );
    await assert.rejects(
      readLedger(paths.runbook, async (ledger) =>
        all(ledger.outcomes({ chain: 'chain-1', status: 'succeeded' })),
      ),
    );
  });

  it('pages a chain’s places in line order across segment boundaries, from any place on', async () => {
    const written = outcomes(450);
    await withSavedLedger(paths.runbook, (ledger) => ledger.upsertOutcomes([...written].reverse()));
    const paged: string[] = [];
    await readLedger(paths.runbook, async (ledger) => {
      let after: { line: number; key: string } | undefined;
      for (;;) {
        const page = await ledger.outcomePlaces('chain-1', after, 70);
        if (page.length === 0) break;
        paged.push(...page.map((place) => `${place.line}:${place.key}:${place.status}`));
        after = page[page.length - 1];
      }
      assert.deepEqual(
        (await ledger.outcomePlaces('chain-1', { line: 299, key: 'k299' }, 3)).map((p) => p.key),
        ['k300', 'k301', 'k302'],
        'a page that starts at the end of one segment goes on in the next',
      );
    });
    assert.deepEqual(
      paged,
      written.map((o) => `${o.line}:${o.key}:${o.status}`),
    );
  });

  it('counts a chain from the tallies of its segments, also after outcomes change status', async () => {
    await withSavedLedger(paths.runbook, (ledger) => ledger.upsertOutcomes(outcomes(450)));
    // The failed ones succeed on a re-run: each segment's tally is counted again.
    await withSavedLedger(paths.runbook, (ledger) =>
      ledger.upsertOutcomes(
        outcomes(450)
          .filter((o) => o.status === 'failed')
          .map((o) => ({ ...o, status: 'succeeded', run: 'run-2' })),
      ),
    );
    const [counts, tally, last] = await readLedger(paths.runbook, async (ledger) => [
      await ledger.countByStatus('chain-1'),
      await ledger.tallyChain('chain-1'),
      await ledger.lastOutcomeAt('run-2'),
    ]);
    assert.equal(counts.succeeded, 450);
    assert.equal(counts.failed, 0);
    assert.deepEqual(
      [...tally].sort((a, b) => a.count - b.count),
      [
        { status: 'succeeded', run: 'run-2', count: 45 },
        { status: 'succeeded', run: 'run-1', count: 405 },
      ],
    );
    assert.equal(last, '2026-03-01T10:00:00.000Z');
  });

  it('keeps every key’s latest outcome when plain outcomes and failures replace each other in one fold', async () => {
    // 600 lines in one segment: plain outcomes, failures replacing some (error columns set), then plain
    // ones replacing some failures (error columns NULL again): runs of both shapes, of odd lengths.
    process.env.BACKFILL_LINES_PER_SEGMENT = '1000';
    const plain = (i: number, run: string) => outcome(`k${i}`, { line: i, run, durationMs: i % 7 });
    const failed = (i: number) =>
      outcome(`k${i}`, {
        line: i,
        run: 'run-2',
        status: 'failed',
        lastError: `HTTP 500 for k${i}`,
        errorKind: 'http-5xx',
        httpStatus: 500,
        rowsAffected: 0,
      });
    const written = [
      ...Array.from({ length: 600 }, (_, i) => plain(i + 1, 'run-1')),
      ...Array.from({ length: 301 }, (_, i) => failed(i + 1)),
      ...Array.from({ length: 37 }, (_, i) => plain(i + 1, 'run-3')),
    ];
    await withSavedLedger(paths.runbook, (ledger) => ledger.upsertOutcomes(written));
    const latest = new Map(written.map((o) => [o.key, o]));
    const read = await readLedger(paths.runbook, (ledger) => all(ledger.outcomes({ chain: 'chain-1' })));
    const counts = await readLedger(paths.runbook, (ledger) => ledger.countByStatus('chain-1'));
    assert.equal(read.length, 600);
    for (const got of read) assert.deepEqual(got, latest.get(got.key));
    assert.equal(counts.failed, 301 - 37);
    assert.equal(counts.succeeded, 600 - 301 + 37);
  });

  it('saves segments with the triggers that keep their tallies, for any version that writes them', async () => {
    await withSavedLedger(paths.runbook, (ledger) => ledger.upsertOutcomes(outcomes(50)));
    const [file] = segmentFiles(paths.stateDir);
    const SQL = await loadSqlJs();
    const bytes = fs.readFileSync(path.join(paths.stateDir, 'outcomes', file!));
    const db = new SQL.Database(bytes);
    try {
      // A writer that counts with the file's triggers, as the versions before this one did.
      db.run('PRAGMA recursive_triggers = ON');
      db.run(
        `INSERT OR REPLACE INTO records (chain, key, run, cell, status, attempts, line, idempotency_key, at)
         SELECT chain, key, run, cell, 'failed', 2, line, idempotency_key, at FROM records WHERE key = 'k3'`,
      );
      const tallies = db.exec('SELECT status, count FROM tallies WHERE count > 0 ORDER BY status')[0]?.values;
      assert.deepEqual(tallies, [
        ['failed', 6],
        ['succeeded', 44],
      ]);
      fs.writeFileSync(path.join(paths.stateDir, 'outcomes', file!), db.export());
    } finally {
      db.close();
    }
    // This version goes on from what that writer counted.
    await withSavedLedger(paths.runbook, (ledger) =>
      ledger.upsertOutcomes([outcome('k60', { line: 60 }), outcome('k4', { line: 4, status: 'failed' })]),
    );
    const counts = await readLedger(paths.runbook, (ledger) => ledger.countByStatus('chain-1'));
    assert.equal(counts.failed, 7);
    assert.equal(counts.succeeded, 44);
  });

  it('shows a live run’s journal to a reader, and never saves it from there', async () => {
    await withSavedLedger(paths.runbook, async (ledger) => {
      await ledger.startRun(run('run-1'));
      ledger.upsertOutcomes(outcomes(150));
    });
    const savedBefore = new Map(
      segmentFiles(paths.stateDir).map((f) => [f, fs.readFileSync(path.join(paths.stateDir, 'outcomes', f))]),
    );
    // The run goes on: 150 more outcomes are in its journal, not folded yet.
    const journal = await Journal.open(paths.stateDir);
    for (const o of outcomes(300).slice(150)) journal.append({ type: 'outcome', outcome: o });
    await journal.flush();
    await journal.close();

    // A reader sees all 300 at once; a dry run recorded meanwhile saves ledger.sqlite only.
    const reader = await openLedger(paths.runbook);
    try {
      assert.equal((await reader.countByStatus('chain-1')).succeeded, 270);
      assert.equal((await all(reader.outcomes())).length, 300);
      await reader.recordDryRun(dryRunRow());
      await reader.save();
    } finally {
      await reader.close();
    }
    const savedAfter = segmentFiles(paths.stateDir);
    assert.deepEqual(savedAfter, [...savedBefore.keys()], 'no segment of the journal was written');
    for (const [file, bytes] of savedBefore) {
      assert.deepEqual(fs.readFileSync(path.join(paths.stateDir, 'outcomes', file)), bytes, file);
    }
    assert.equal((await readLedger(paths.runbook, (ledger) => ledger.dryRuns())).length, 1);
  });

  it('keeps the segment size a ledger was made with', async () => {
    await withSavedLedger(paths.runbook, (ledger) => ledger.upsertOutcomes(outcomes(150)));
    process.env.BACKFILL_LINES_PER_SEGMENT = '1000';
    await withSavedLedger(paths.runbook, (ledger) => ledger.upsertOutcomes(outcomes(450).slice(150)));
    assert.equal(segmentFiles(paths.stateDir).length, 5, 'still 100 lines a segment');
    assert.equal((await readLedger(paths.runbook, (l) => l.countByStatus('chain-1'))).succeeded, 405);
  });

  it('replaces what an interrupted migration left, and keeps the old ledger whole until it is saved', async () => {
    // A schema-5 ledger: its outcomes in its own records table (what SqlJsLedger makes of it on open).
    const SQL = await loadSqlJs();
    const db = new SQL.Database();
    for (const migration of MIGRATIONS.filter((m) => m.to <= 5)) db.run(migration.sql);
    db.run("INSERT INTO meta VALUES ('schema_version', '5')");
    db.run("INSERT INTO names (value) VALUES ('chain-1'), ('run-1'), ('orders')");
    for (let i = 2; i < 252; i += 1) {
      db.run(
        "INSERT INTO records (chain, key, run, cell, status, attempts, line, idempotency_key, at) VALUES (1, ?, 2, 3, 'succeeded', 1, ?, ?, '2026-03-01T10:00:00.000Z')",
        [`k${i}`, i, `idem-k${i}`],
      );
    }
    fs.mkdirSync(paths.stateDir, { recursive: true });
    fs.writeFileSync(paths.ledgerFile, db.export());
    db.close();
    const original = fs.readFileSync(paths.ledgerFile);
    // What an interrupted migration could leave: a stray segment with a wrong outcome, and a chain list.
    await withSavedLedger(path.join(path.dirname(paths.runbook), 'scratch.backfill'), (l) =>
      l.upsertOutcomes([outcome('k2', { status: 'failed', line: 2 }), outcome('k999', { line: 5 })]),
    );
    fs.cpSync(
      path.join(path.dirname(paths.runbook), 'scratch.backfill.d', 'outcomes'),
      path.join(paths.stateDir, 'outcomes'),
      {
        recursive: true,
      },
    );

    // Reading migrates in memory only: the stray segment is ignored, the file stays as it was.
    const counts = await readLedger(paths.runbook, (l) => l.countByStatus('chain-1'));
    assert.equal(counts.succeeded, 250);
    assert.equal(counts.failed, 0);
    assert.deepEqual(fs.readFileSync(paths.ledgerFile), original);

    // A save writes the segments, then the schema-6 ledger; the stray outcomes are gone.
    await withSavedLedger(paths.runbook, () => undefined);
    const keys = await readLedger(paths.runbook, async (l) => (await all(l.outcomes())).map((o) => o.key));
    assert.deepEqual(
      keys,
      Array.from({ length: 250 }, (_, i) => `k${i + 2}`),
    );
    assert.equal(segmentFiles(paths.stateDir).length, 3);
  });

  it('keeps no outcome in ledger.sqlite: they are all in segments', async () => {
    const ledger = await SqlJsLedger.open(paths.runbook);
    try {
      ledger.upsertOutcomes(outcomes(250));
      await ledger.save();
    } finally {
      await ledger.close();
    }
    const SQL = await loadSqlJs();
    const db = new SQL.Database(fs.readFileSync(paths.ledgerFile));
    try {
      assert.deepEqual(db.exec("SELECT name FROM sqlite_master WHERE name = 'records'"), []);
    } finally {
      db.close();
    }
  });
});
