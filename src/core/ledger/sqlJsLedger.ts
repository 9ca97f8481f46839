/**
 * The embedded ledger, the default implementation of {@link Ledger}: a SQLite database (sql.js) kept
 * beside the runbook, in `<runbook>.d/ledger.sqlite`.
 *
 * sql.js holds the database in memory; `save()` writes it whole to a temporary file, fsyncs it and
 * renames it over the old one, so a crash leaves either the old or the new ledger, never half of one.
 * Because only the whole database can be written, a run checkpoints each outcome in the journal
 * (journal.ts) and folds it in here. A file that is not a ledger is refused and never overwritten; a
 * ledger another process saved since this one was opened is never overwritten either.
 *
 * The methods of {@link Ledger} are asynchronous; the few that end in a plain name but are not part of it
 * (`transaction`, `upsertOutcome(s)`, `startRunSync`, `finishRunSync`, `reload`, `isUnchangedOnDisk`) are
 * synchronous on purpose: the journal folds into one SQLite transaction, which an await would break.
 *
 * This folder cannot depend on the vscode API.
 */
import type { Database, SqlJsStatic, SqlValue, Statement } from 'sql.js';
import { RECORD_STATUSES } from '../model/runs';
import type { ErrorKind, RecordOutcome, RecordStatus, RunOutcome, RunRecord, SignOff } from '../model/runs';
import { loadSqlJs } from '../support/sqlite';
import { UserError } from '../model/types';
import { removeDeadTemporaries, replaceFileDurably } from './durableFs';
import type { ChainTally, DryRunRow, Ledger, OutcomeFilter, OutcomePlace, StatusCounts } from './ledger';
import type { Row } from './rows';
import {
  dryRunParameters,
  OUTCOME_COLUMNS,
  outcomeParameters,
  runParameters,
  toDryRunRow,
  toOutcome,
  toRun,
  toSignOff,
} from './rows';
import { identityOf, identityOfStats, loadDatabase, placeholders, rowsOf } from './sqlJsFile';
import { NameTable } from './sqlJsNames';
import {
  FINISH_RUN,
  INSERT_OUTCOME,
  INSERT_OUTCOMES,
  outcomeWhere,
  OUTCOMES_PER_STATEMENT,
  SELECT_OUTCOME,
  UPSERT_RUN,
} from './sqlJsStatements';
import { assertStateDirUsable, ledgerFileIn, stateDirFor } from './statePaths';

/** The embedded ledger of one runbook, held in memory; `save()` writes it back atomically. */
export class SqlJsLedger implements Ledger {
  /** Prepared statements of the hot paths, reused so a million upserts do not parse SQL a million times. */
  private readonly statements = new Map<string, Statement>();
  private transactionDepth = 0;
  /** Chains, runs and cells of outcome rows, stored as ids; forgotten whenever the database is rolled back or replaced. */
  private readonly names = new NameTable(
    {
      run: (sql, parameters) => this.prepared(sql).run(parameters),
      single: (sql, parameters) => this.single(sql, parameters),
    },
    () => this.file,
  );

  private constructor(
    private db: Database,
    private readonly sql: SqlJsStatic,
    readonly file: string,
    /** What the file on disk was when this ledger last read or wrote it; see `isUnchangedOnDisk`. */
    private diskIdentity: string,
  ) {}

  /**
   * Opens the ledger of a runbook, creating it in memory (not on disk) when it does not exist yet, and
   * migrating an older one in memory (the file changes only on `save`).
   */
  static async open(runbookFile: string): Promise<SqlJsLedger> {
    const stateDir = stateDirFor(runbookFile);
    assertStateDirUsable(stateDir);
    removeDeadTemporaries(ledgerFileIn(stateDir));
    return SqlJsLedger.openFile(ledgerFileIn(stateDir));
  }

  /**
   * A file that is not SQLite, lacks the meta table or its tables, or was written by a newer backfill is
   * refused with a UserError and left byte for byte as it was.
   */
  private static async openFile(file: string): Promise<SqlJsLedger> {
    const sql = await loadSqlJs();
    const { db, identity } = loadDatabase(sql, file);
    return new SqlJsLedger(db, sql, file, identity);
  }

  get location(): string {
    return this.file;
  }

  async recordDryRun(row: DryRunRow): Promise<void> {
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
    this.prepared(UPSERT_RUN).run(runParameters(run));
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
    this.prepared(FINISH_RUN).run([outcome, reason ?? null, counts ?? null, endedAt, id]);
    return this.db.getRowsModified() > 0;
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
    const id = this.names.idOf(run);
    if (id === undefined) return undefined;
    const value = this.all('SELECT MAX(at) AS at FROM records WHERE run = ?', [id])[0]?.at;
    return typeof value === 'string' ? value : undefined;
  }

  async recordOutcomes(outcomes: Iterable<RecordOutcome>): Promise<number> {
    return this.upsertOutcomes(outcomes);
  }

  /** Makes this the latest outcome of its key in its chain, replacing the previous one. */
  upsertOutcome(outcome: RecordOutcome): void {
    this.prepared(INSERT_OUTCOME).run(this.outcomeParameters(outcome));
  }

  /**
   * Upserts many outcomes in one transaction, in order (a later outcome of a key replaces an earlier
   * one), several per statement; returns how many. A million take seconds.
   */
  upsertOutcomes(outcomes: Iterable<RecordOutcome>): number {
    return this.transaction(() => {
      let count = 0;
      let parameters: SqlValue[] = [];
      for (const outcome of outcomes) {
        for (const value of this.outcomeParameters(outcome)) parameters.push(value);
        count += 1;
        if (count % OUTCOMES_PER_STATEMENT === 0) {
          this.prepared(INSERT_OUTCOMES).run(parameters);
          parameters = [];
        }
      }
      const rest = count % OUTCOMES_PER_STATEMENT;
      for (let row = 0; row < rest; row += 1) {
        const from = row * OUTCOME_COLUMNS.length;
        this.prepared(INSERT_OUTCOME).run(parameters.slice(from, from + OUTCOME_COLUMNS.length));
      }
      return count;
    });
  }

  /** Chain by chain in the order the ledger first stored them; see {@link Ledger.outcomes}. */
  async *outcomes(filter: OutcomeFilter = {}): AsyncGenerator<RecordOutcome> {
    const { where, parameters } = outcomeWhere(filter, (name) => this.names.idOf(name));
    const statement = this.db.prepare(`SELECT * FROM records ${where} ORDER BY chain, line, key`);
    const nameOf = (id: SqlValue | undefined) => this.names.nameOf(id);
    try {
      statement.bind(parameters);
      for (const row of rowsOf(statement)) yield toOutcome(row, nameOf);
    } finally {
      statement.free();
    }
  }

  /** A page of a chain's outcomes in line order; see {@link Ledger.outcomePlaces}. */
  async outcomePlaces(
    chain: string,
    after: { line: number; key: string } | undefined,
    limit: number,
  ): Promise<OutcomePlace[]> {
    const id = this.names.idOf(chain);
    if (id === undefined || limit <= 0) return [];
    const from = after ?? { line: -1, key: '' };
    const rows = this.all(
      `SELECT line, key, status, at FROM records WHERE chain = ? AND (line > ? OR (line = ? AND key > ?))
        ORDER BY line, key LIMIT ?`,
      [id, from.line, from.line, from.key, limit],
    );
    return rows.map((row) => ({
      line: Number(row.line),
      key: String(row.key),
      status: String(row.status) as RecordStatus,
      at: String(row.at),
    }));
  }

  /** Keys of a chain whose latest outcome has one of these statuses: what a resume skips or re-runs. */
  async keysWithStatus(chain: string, statuses: readonly RecordStatus[]): Promise<Set<string>> {
    const keys = new Set<string>();
    const id = this.names.idOf(chain);
    if (statuses.length === 0 || id === undefined) return keys;
    // One JSON array built inside SQLite: stepping through 600,000 rows one by one across the wasm
    // boundary took twice as long.
    const [row] = this.all(
      `SELECT json_group_array(key) AS keys FROM records
        WHERE chain = ? AND status IN (${placeholders(statuses.length)})`,
      [id, ...statuses],
    );
    for (const key of JSON.parse(String(row?.keys ?? '[]')) as string[]) keys.add(key);
    return keys;
  }

  /** The latest outcome of one key in a chain, if it has one. */
  async outcomeOf(chain: string, key: string): Promise<RecordOutcome | undefined> {
    const id = this.names.idOf(chain);
    if (id === undefined) return undefined;
    const statement = this.prepared(SELECT_OUTCOME);
    let row: Row | undefined;
    try {
      statement.bind([id, key]);
      row = rowsOf(statement).next().value ?? undefined;
    } finally {
      statement.reset();
    }
    return row && toOutcome(row, (value) => this.names.nameOf(value));
  }

  /** How many records of a chain are in each status (every status is present, zero when none). */
  async countByStatus(chain: string): Promise<StatusCounts> {
    const counts = Object.fromEntries(RECORD_STATUSES.map((status) => [status, 0])) as StatusCounts;
    const id = this.names.idOf(chain);
    if (id === undefined) return counts;
    const rows = this.all('SELECT status, COUNT(*) AS n FROM records WHERE chain = ? GROUP BY status', [id]);
    for (const row of rows) counts[String(row.status) as RecordStatus] += Number(row.n);
    return counts;
  }

  /**
   * The latest outcomes of a chain counted by status, error kind and run, in one pass inside SQLite:
   * a summary of a million outcomes without reading them out one by one.
   */
  async tallyChain(chain: string): Promise<ChainTally[]> {
    const id = this.names.idOf(chain);
    if (id === undefined) return [];
    const rows = this.all(
      `SELECT status, error_kind, run, COUNT(*) AS n FROM records WHERE chain = ?
        GROUP BY status, error_kind, run`,
      [id],
    );
    return rows.map((row) => ({
      status: String(row.status) as RecordStatus,
      ...(row.error_kind === null || row.error_kind === undefined
        ? {}
        : { errorKind: String(row.error_kind) as ErrorKind }),
      run: this.names.nameOf(row.run),
      count: Number(row.n),
    }));
  }

  /** Appends a sign-off to the history; unchecking an item is a sign-off with `checked: false`. */
  async recordSignOff(signOff: SignOff): Promise<void> {
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
      const result = this.nested(work);
      this.db.run('COMMIT');
      return result;
    } catch (error) {
      this.db.run('ROLLBACK');
      // Names added by the transaction are gone with it: their ids must not be reused from memory.
      this.names.forget();
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
    this.freeStatements();
    this.names.forget();
    this.db.close();
    this.db = db;
    this.diskIdentity = identity;
  }

  /**
   * Writes the whole database atomically: temporary file, fsync, rename, fsync of the folder. Refuses
   * (UserError, nothing written) when another process saved the file since this ledger read it, because
   * writing this copy would silently drop what that process recorded.
   */
  async save(): Promise<void> {
    if (!this.isUnchangedOnDisk()) {
      throw new UserError(
        `ledger ${this.file} was saved by another backfill process since this one opened it; ` +
          'nothing was overwritten: run the command again',
      );
    }
    // export() is the only way out of sql.js's in-memory file system (sql.js does not expose it), so a
    // save holds the database twice for a moment; that is why outcome rows are kept small (schema 4).
    // Since sql.js 1.16 it copies through SQLite's backup API: open statements and transactions stay.
    this.diskIdentity = identityOfStats(replaceFileDurably(this.file, this.db.export()));
  }

  async close(): Promise<void> {
    this.freeStatements();
    this.names.forget();
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

  private prepared(sql: string): Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  private outcomeParameters(outcome: RecordOutcome): SqlValue[] {
    return outcomeParameters(outcome, {
      chain: this.names.intern(outcome.chain),
      run: this.names.intern(outcome.run),
      cell: this.names.intern(outcome.cell),
    });
  }

  /** The first column of the first row of a prepared statement, if it returns a row. */
  private single(sql: string, parameters: SqlValue[]): SqlValue | undefined {
    const statement = this.prepared(sql);
    try {
      statement.bind(parameters);
      return statement.step() ? statement.get()[0] : undefined;
    } finally {
      statement.reset();
    }
  }

  private freeStatements(): void {
    for (const statement of this.statements.values()) statement.free();
    this.statements.clear();
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
