import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import initSqlJs from 'sql.js';
import { SCHEMA_VERSION } from '../../src/core/ledger/schema';
import { REPO, runCli, tempDir } from '../support/cli';
import { sleep, startCli } from '../support/cliProcess';
import { ledgerRows } from '../support/cliWorkspace';
import { startTargetServer, type TargetServer } from '../support/targetServer';

/**
 * A ledger written by the release before schema 5 (commit 20234fe; see the fixture's README): 120 valid
 * records of which three failed with HTTP 500, and two malformed rows. Copied before every test, because
 * opening it for a run migrates it.
 */
const FIXTURE = path.join(REPO, 'test', 'fixtures', 'ledgers', 'schema4');
const FAILED = ['k00007', 'k00050', 'k00101'];
/**
 * The fixture's target address. A run's fingerprint covers its environment, target URL included, so a
 * resume of the fixture's runs must call the very same URL: the one pinned port of the suite, below the
 * kernel's ephemeral range, where the free ports other tests take never land.
 */
const FIXTURE_PORT = 29417;

function sha256(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** The schema version a ledger file says it has, read with sql.js directly, not through backfill. */
async function schemaVersionOf(file: string): Promise<number> {
  const SQL = await initSqlJs();
  const db = new SQL.Database(fs.readFileSync(file));
  try {
    return Number(db.exec("SELECT value FROM meta WHERE key = 'schema_version'")[0]?.values[0]?.[0]);
  } finally {
    db.close();
  }
}

function countByStatus(rows: { status: string }[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const row of rows) counts[row.status] = (counts[row.status] ?? 0) + 1;
  return counts;
}

describe('a schema-4 ledger from the previous release', function () {
  this.timeout(300_000);
  let work: ReturnType<typeof tempDir>;
  let file: string;
  let ledgerFile: string;
  let journalFile: string;
  let target: TargetServer | undefined;

  beforeEach(() => {
    work = tempDir('backfill-migration-');
    fs.cpSync(FIXTURE, work.dir, { recursive: true });
    file = path.join(work.dir, 'job.backfill');
    ledgerFile = path.join(work.dir, 'job.backfill.d', 'ledger.sqlite');
    journalFile = path.join(work.dir, 'job.backfill.d', 'journal.jsonl');
  });
  afterEach(async () => {
    await target?.stop();
    target = undefined;
    work.cleanup();
  });

  it('is read by status and ledger as it is, and the file is left byte for byte', async () => {
    const before = sha256(ledgerFile);
    assert.equal(await schemaVersionOf(ledgerFile), 4);
    const status = await runCli(['status', file, '--json']);
    assert.equal(status.code, 0, status.stderr);
    const full = (
      JSON.parse(status.stdout) as { cells: { cell: string; succeeded: number; failed: number }[] }
    ).cells.find((cell) => cell.cell === 'full');
    assert.equal(full?.succeeded, 117);
    assert.equal(full?.failed, 3);
    const failed = await ledgerRows(file, { status: 'failed' });
    assert.deepEqual(failed.map((row) => row.key).sort(), FAILED);
    assert.equal(sha256(ledgerFile), before, 'reading migrates in memory only');
  });

  it('is migrated by the next run, which keeps every outcome and re-sends only the failed records', async () => {
    target = await startTargetServer(undefined, FIXTURE_PORT);
    const before = await ledgerRows(file);
    const run = await runCli([
      'run',
      file,
      '--cell',
      'full',
      '--only',
      'failed',
      '--execute',
      '--no-progress',
    ]);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.deepEqual([...target.countsByKey().keys()].sort(), FAILED);
    assert.equal(await schemaVersionOf(ledgerFile), SCHEMA_VERSION);
    const after = await ledgerRows(file);
    assert.deepEqual(countByStatus(after), { succeeded: 120, rejected: 2 });
    // The records the run did not touch kept their outcome and idempotency key from the old release.
    const untouched = (rows: typeof after) =>
      rows
        .filter((row) => !FAILED.includes(row.key))
        .map((row) => `${row.key} ${row.status} ${row.idempotencyKey}`)
        .sort();
    assert.deepEqual(untouched(after), untouched(before));
  });

  it('survives a kill -9 at any instant of its migration: the file is the old ledger or a complete new one', async () => {
    // Slow answers keep each run alive long enough for kills to land before, during and after the fold
    // that saves the migrated ledger.
    target = await startTargetServer(() => ({ delayMs: 1000 }), FIXTURE_PORT);
    const original = sha256(ledgerFile);
    const args = ['run', file, '--cell', 'full', '--only', 'failed', '--execute', '--no-progress'];
    // Kills at growing delays, until some landed after the run had journaled outcomes into the old file
    // and some after the migrated ledger was saved: both windows of the migration were crossed.
    const seen = { journaledIntoSchema4: false, migrated: false };
    for (let kill = 0; kill < 20 && !(seen.journaledIntoSchema4 && seen.migrated); kill += 1) {
      const delayMs = 150 + kill * 250;
      const run = startCli(args);
      await sleep(delayMs);
      run.child.kill('SIGKILL');
      await run.exited;
      const version = await schemaVersionOf(ledgerFile);
      if (version === 4) {
        assert.equal(sha256(ledgerFile), original, 'a schema-4 file is the untouched original');
        if (fs.statSync(journalFile, { throwIfNoEntry: false })?.size) seen.journaledIntoSchema4 = true;
      } else {
        assert.equal(version, SCHEMA_VERSION);
        seen.migrated = true;
      }
      // Every record still has an outcome: the journal holds what the ledger file does not yet.
      const rows = await ledgerRows(file);
      assert.equal(rows.length, 122, `after a kill at ${delayMs} ms`);
      assert.ok(
        rows.filter((row) => row.status === 'succeeded').length >= 117,
        `after a kill at ${delayMs} ms`,
      );
    }
    assert.deepEqual(seen, { journaledIntoSchema4: true, migrated: true }, 'kills landed in both windows');
    // A killed re-run may have finished its three records and died before recording its end; then
    // there is nothing left to re-run. Otherwise the same command resumes it.
    const left = (await ledgerRows(file, { status: 'failed' })).length;
    if (left > 0) {
      const finished = await runCli(args);
      assert.equal(finished.code, 0, finished.stdout + finished.stderr);
    }
    assert.equal(await schemaVersionOf(ledgerFile), SCHEMA_VERSION);
    assert.deepEqual(countByStatus(await ledgerRows(file)), { succeeded: 120, rejected: 2 });
    // Only the three failed records were ever sent, each always with one idempotency key.
    assert.deepEqual([...target.countsByKey().keys()].sort(), FAILED);
    const arrivals = target.arrivals;
    for (const key of FAILED) {
      const keys = new Set(arrivals.filter((a) => a.key === key).map((a) => a.idempotencyKey));
      assert.equal(keys.size, 1, `${key} arrived under ${[...keys].join(', ')}`);
    }
  });
});
