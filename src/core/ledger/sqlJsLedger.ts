/**
 * The embedded ledger, the default implementation of {@link Ledger}, kept beside the runbook in
 * `<runbook>.d/`: `ledger.sqlite` (sql.js) holds runs, dry runs and sign-offs — small, whatever the size of
 * the backfill — and the outcomes live in fixed-size segments under `outcomes/` (outcomeSegments.ts), of
 * which only the few being filled or read are in memory.
 *
 * sql.js holds a database in memory; `save()` writes each changed one whole to a temporary file, fsyncs
 * it and renames it over the old one, so a crash leaves either the old or the new file, never half of
 * one. A run checkpoints each outcome in the journal (journal.ts), which is folded in here every few
 * seconds. A file that is not a ledger is refused and never overwritten; a `ledger.sqlite` another process
 * saved since this one was opened is never overwritten either.
 *
 * The methods of {@link Ledger} are asynchronous; the few that are not part of it (`transaction`,
 * `upsertOutcomes`, `startRunSync`, `finishRunSync`, `reload`, `isUnchangedOnDisk`, `showingJournal`) are
 * synchronous on purpose: each transaction of a fold applies in one go, which an await would break.
 *
 * This folder cannot depend on the vscode API.
 */
import * as path from 'node:path';
import type { Database, SqlJsStatic, SqlValue } from 'sql.js';
import type { RecordOutcome, RecordStatus, RunOutcome, RunRecord, SignOff } from '../model/runs';
import { loadSqlJs } from '../support/sqlite';
import { UserError } from '../model/types';
import { removeDeadTemporaries, replaceFileDurably } from './durableFs';
import type { ChainTally, DryRunRow, Ledger, OutcomeFilter, OutcomePlace, StatusCounts } from './ledger';
import { OutcomeSegments } from './outcomeSegments';
import type { SegmentMark, SegmentProgress } from './segmentMarks';
import type { Row } from './rows';
import { dryRunParameters, runParameters, toDryRunRow, toOutcome, toRun, toSignOff } from './rows';
import { identityOf, identityOfStats, loadDatabase, PreparedStatements, rowsOf } from './sqlJsFile';
import { NameTable } from './sqlJsNames';
import { FINISH_RUN, UPSERT_RUN } from './sqlJsStatements';
import { assertStateDirUsable, ledgerFileIn, stateDirFor } from './statePaths';

/** The embedded ledger of one runbook; `save()` writes what changed back atomically. */
export class SqlJsLedger implements Ledger {
  private readonly statements = new PreparedStatements(() => this.db);
  private transactionDepth = 0;
  /** Inside `showingJournal`: outcomes upserted now are a reader's view, never saved. */
  private showingJournalDepth = 0;
  /** `ledger.sqlite` changed in memory since it was read or saved. */
  private mainChanged: boolean;

  private constructor(
    private db: Database,
    private readonly sql: SqlJsStatic,
    readonly file: string,
    /** What the file on disk was when this ledger last read or wrote it; see `isUnchangedOnDisk`. */
    private diskIdentity: string,
    private readonly segments: OutcomeSegments,
    migrated: boolean,
  ) {
    this.mainChanged = migrated;
  }

  /**
   * Opens the ledger of a runbook, creating it in memory (not on disk) when it does not exist yet, and
   * migrating an older one in memory (the files change only on `save`).
   */
  static async open(runbookFile: string): Promise<SqlJsLedger> {
    const stateDir = stateDirFor(runbookFile);
    assertStateDirUsable(stateDir);
    removeDeadTemporaries(ledgerFileIn(stateDir));
    const ledger = await SqlJsLedger.openFile(ledgerFileIn(stateDir));
    ledger.segments.removeDeadTemporaries();
    return ledger;
  }

  /**
   * A file that is not SQLite, lacks the meta table or its tables, or was written by a newer backfill is
   * refused with a UserError and left byte for byte as it was. A ledger of schema 5 or older keeps its
   * outcomes in its own `records` table: they move into segments in memory (schema 6), written on save.
   */
  private static async openFile(file: string): Promise<SqlJsLedger> {
    const sql = await loadSqlJs();
    const { db, identity } = loadDatabase(sql, file);
    try {
      const outcomesDir = path.join(path.dirname(file), 'outcomes');
      const legacy = legacyOutcomeCount(db);
      const segments = OutcomeSegments.load(sql, outcomesDir, legacy > 0);
      if (legacy >= 0) moveLegacyOutcomes(db, segments, file);
      return new SqlJsLedger(db, sql, file, identity, segments, legacy >= 0 || identity === 'absent');
    } catch (error) {
      db.close();
      throw error;
    }
  }

  get location(): string {
    return this.file;
  }

  async recordDryRun(row: DryRunRow): Promise<void> {
    this.mainChanged = true;
    this.db.run('INSERT INTO dry_runs VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)', dryRunParameters(row));
  }

  /** Dry runs of a cell (or of all cells), newest first. */
  async dryRuns(cell?: string): Promise<DryRunRow[]> {
    const where = cell === undefined ? '' : 'WHERE cell = ?';
    const sql = `SELECT * FROM dry_runs ${where} ORDER BY started_at DESC, rowid DESC`;
    return this.all(sql, cell === undefined ? [] : [cell]).map(toDryRunRow);
  }

  /** The newest passing dry run with exactly this fingerprint, if any: what the production gate needs. */
  async passingDryRun(fingerprint: string): Promise<DryRunRow | undefined> {
    const sql =
      'SELECT * FROM dry_runs WHERE fingerprint = ? AND passed = 1 ORDER BY started_at DESC, rowid DESC';
    const row = this.all(sql, [fingerprint])[0];
    return row && toDryRunRow(row);
  }

  async startRun(run: RunRecord): Promise<void> {
    this.startRunSync(run);
  }

  /** `startRun`, inside a synchronous `transaction` (the journal's fold). */
  startRunSync(run: RunRecord): void {
    this.mainChanged = true;
    this.statements.get(UPSERT_RUN).run(runParameters(run));
  }

  async finishRun(
    id: string,
    outcome: RunOutcome,
    reason?: string,
    counts?: string,
    endedAt?: string,
  ): Promise<boolean> {
    return this.finishRunSync(id, outcome, reason, counts, endedAt);
  }

  /** `finishRun`, inside a synchronous `transaction` (the journal's fold). */
  finishRunSync(
    id: string,
    outcome: RunOutcome,
    reason?: string,
    counts?: string,
    endedAt: string = new Date().toISOString(),
  ): boolean {
    this.statements.get(FINISH_RUN).run([outcome, reason ?? null, counts ?? null, endedAt, id]);
    const known = this.db.getRowsModified() > 0;
    if (known) this.mainChanged = true;
    return known;
  }

  /** Runs of a cell (or of all cells), newest first. */
  async runs(cell?: string): Promise<RunRecord[]> {
    const where = cell === undefined ? '' : 'WHERE cell = ?';
    const sql = `SELECT * FROM runs ${where} ORDER BY started_at DESC, rowid DESC`;
    return this.all(sql, cell === undefined ? [] : [cell]).map(toRun);
  }

  /** The newest run of a cell, if any. */
  async latestRun(cell: string): Promise<RunRecord | undefined> {
    const row = this.all('SELECT * FROM runs WHERE cell = ? ORDER BY started_at DESC, rowid DESC LIMIT 1', [
      cell,
    ])[0];
    return row && toRun(row);
  }

  /** Runs still marked `running`, oldest first: after a crash, the ones nobody finished. */
  async runningRuns(): Promise<RunRecord[]> {
    return this.all("SELECT * FROM runs WHERE outcome = 'running' ORDER BY started_at, rowid").map(toRun);
  }

  /** Time of the last outcome a run recorded, if it recorded any: the best guess at when it died. */
  async lastOutcomeAt(run: string): Promise<string | undefined> {
    return this.segments.lastOutcomeAt(run);
  }

  async recordOutcomes(outcomes: Iterable<RecordOutcome>): Promise<number> {
    return this.upsertOutcomes(outcomes);
  }

  /** Makes this the latest outcome of its key in its chain, replacing the previous one. */
  upsertOutcome(outcome: RecordOutcome): void {
    this.upsertOutcomes([outcome]);
  }

  /**
   * Makes each outcome the latest of its key in its chain, in order (a later outcome of a key replaces an
   * earlier one); returns how many. A million take seconds.
   */
  upsertOutcomes(outcomes: Iterable<RecordOutcome>): number {
    return this.segments.upsert(outcomes, this.showingJournalDepth > 0);
  }

  /**
   * Runs `work` (applying a live run's journal) so that the outcomes it upserts are shown by this ledger
   * and never saved: only the process holding the run lock writes outcomes.
   */
  showingJournal<T>(work: () => T): T {
    this.showingJournalDepth += 1;
    try {
      return work();
    } finally {
      this.showingJournalDepth -= 1;
    }
  }

  /** Chain by chain in the order the ledger first stored them; see {@link Ledger.outcomes}. */
  async *outcomes(filter: OutcomeFilter = {}): AsyncGenerator<RecordOutcome> {
    yield* this.segments.outcomes(filter);
  }

  /** A page of a chain's outcomes in line order; see {@link Ledger.outcomePlaces}. */
  async outcomePlaces(
    chain: string,
    after: { line: number; key: string } | undefined,
    limit: number,
  ): Promise<OutcomePlace[]> {
    return this.segments.outcomePlaces(chain, after, limit);
  }

  /** Keys of a chain whose latest outcome has one of these statuses: what a resume skips or re-runs. */
  async keysWithStatus(chain: string, statuses: readonly RecordStatus[]): Promise<Set<string>> {
    return this.segments.keysWithStatus(chain, statuses);
  }

  /** The latest outcome of one key in a chain, if it has one. */
  async outcomeOf(chain: string, key: string): Promise<RecordOutcome | undefined> {
    return this.segments.outcomeOf(chain, key);
  }

  /** How many records of a chain are in each status, from the segments' tallies (no outcome is read). */
  async countByStatus(chain: string): Promise<StatusCounts> {
    return this.segments.countByStatus(chain);
  }

  /** The latest outcomes of a chain counted by status, error kind and run, from the segments' tallies. */
  async tallyChain(chain: string): Promise<ChainTally[]> {
    return this.segments.tallyChain(chain);
  }

  /** See {@link Ledger.segmentProgress}. */
  async segmentProgress(chain: string): Promise<SegmentProgress> {
    return this.segments.segmentProgress(chain);
  }

  /** See {@link Ledger.saveSegmentMarks}. */
  async saveSegmentMarks(chain: string, marks: ReadonlyMap<number, SegmentMark>): Promise<void> {
    this.segments.saveSegmentMarks(chain, marks);
  }

  /** Appends a sign-off to the history; unchecking an item is a sign-off with `checked: false`. */
  async recordSignOff(signOff: SignOff): Promise<void> {
    this.mainChanged = true;
    this.db.run('INSERT INTO signoffs (checklist, item, signed_by, at, checked) VALUES (?, ?, ?, ?, ?)', [
      signOff.checklist,
      signOff.item,
      signOff.by,
      signOff.at,
      signOff.checked ? 1 : 0,
    ]);
  }

  /** Sign-offs of a checklist (or of all), in the order they were recorded. */
  async signOffs(checklist?: string): Promise<SignOff[]> {
    const where = checklist === undefined ? '' : 'WHERE checklist = ?';
    return this.all(
      `SELECT * FROM signoffs ${where} ORDER BY id`,
      checklist === undefined ? [] : [checklist],
    ).map(toSignOff);
  }

  /**
   * Runs `work` in one SQLite transaction: all of it is applied or none of it. Without one, sql.js
   * commits every statement on its own, which makes a million upserts take minutes instead of seconds.
   * Nested calls join the outer transaction.
   */
  transaction<T>(work: () => T): T {
    if (this.transactionDepth > 0) return this.nested(work);
    this.db.run('BEGIN');
    try {
      const result = this.segments.transaction(() => this.nested(work));
      this.db.run('COMMIT');
      return result;
    } catch (error) {
      this.db.run('ROLLBACK');
      throw error;
    }
  }

  /** True while no other process has saved the ledger file since this ledger read or wrote it. */
  isUnchangedOnDisk(): boolean {
    return identityOf(this.file) === this.diskIdentity;
  }

  /** Drops what is in memory and reads the file again (another process saved it meanwhile). */
  reload(): void {
    const { db, identity } = loadDatabase(this.sql, this.file);
    this.statements.free();
    this.db.close();
    this.segments.reload();
    this.db = db;
    this.diskIdentity = identity;
  }

  /**
   * Writes what changed atomically, each file by temporary file, fsync, rename, fsync of the folder: the
   * outcome segments first, then `ledger.sqlite`. Refuses (UserError, nothing written) when another
   * process saved `ledger.sqlite` since this ledger read it, because writing this copy would silently
   * drop what that process recorded.
   */
  async save(): Promise<void> {
    if (!this.isUnchangedOnDisk()) {
      throw new UserError(
        `ledger ${this.file} was saved by another backfill process since this one opened it; ` +
          'nothing was overwritten: run the command again',
      );
    }
    this.segments.save();
    if (!this.mainChanged) return;
    // export() is the only way out of sql.js's in-memory file system; `ledger.sqlite` holds no outcomes,
    // so the copy is small. Since sql.js 1.16 it copies through SQLite's backup API: open statements stay.
    this.diskIdentity = identityOfStats(replaceFileDurably(this.file, this.db.export()));
    this.mainChanged = false;
  }

  async close(): Promise<void> {
    this.statements.free();
    this.segments.close();
    this.db.close();
  }

  private nested<T>(work: () => T): T {
    this.transactionDepth += 1;
    try {
      return work();
    } finally {
      this.transactionDepth -= 1;
    }
  }

  private all(sql: string, parameters: SqlValue[] = []): Row[] {
    const statement = this.db.prepare(sql);
    try {
      statement.bind(parameters);
      return [...rowsOf(statement)];
    } finally {
      statement.free();
    }
  }
}

/** How many outcomes a ledger of schema 5 or older holds in its own table; -1 when it has none (schema 6). */
function legacyOutcomeCount(db: Database): number {
  const table = db.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'records'");
  if (table.length === 0) return -1;
  return Number(db.exec('SELECT COUNT(*) FROM records')[0]?.values[0]?.[0] ?? 0);
}

/**
 * The migration to schema 6, in memory: the outcomes of the old `records` table move into segments,
 * chain by chain in the order the ledger first stored them, and the table is dropped. On save the
 * segments are written before `ledger.sqlite`: a crash in between leaves the old file whole, and the
 * next open migrates it again over what the interrupted save left.
 */
function moveLegacyOutcomes(db: Database, segments: OutcomeSegments, file: string): void {
  const names = new NameTable(
    {
      run: (sql, parameters) => db.run(sql, parameters),
      single: (sql, parameters) => db.exec(sql, parameters)[0]?.values[0]?.[0],
    },
    () => file,
  );
  const statement = db.prepare('SELECT * FROM records ORDER BY chain, line, key');
  try {
    const batch: RecordOutcome[] = [];
    for (const row of rowsOf(statement)) {
      batch.push(toOutcome(row, (id) => names.nameOf(id)));
      if (batch.length === 4096) segments.upsert(batch.splice(0));
    }
    segments.upsert(batch);
  } finally {
    statement.free();
  }
  db.run('DROP TABLE records');
  // Without it the old table's pages stay in the file as free pages, saved and loaded every time.
  db.run('VACUUM');
}
