/**
 * One segment of the embedded ledger's outcomes: the latest outcome of every key of one chain whose
 * source line falls in one fixed range, in a small sql.js database of its own
 * (`<runbook>.d/outcomes/<chain>/<n>.sqlite`). Its tables are the ledger's schema-5 `records` and `names`,
 * so rows convert exactly as they always did (rows.ts). A segment is opened, changed and saved whole,
 * like every sql.js database; what keeps memory flat is that a segment never grows past its range.
 *
 * This folder cannot depend on the vscode API.
 */
import type { Database, SqlJsStatic, SqlValue } from 'sql.js';
import type { ErrorKind, RecordOutcome, RecordStatus } from '../model/runs';
import { readFileIfExists, replaceFileDurably } from './durableFs';
import type { OutcomePlace } from './ledger';
import {
  isPlainOutcome,
  OUTCOME_COLUMNS,
  type OutcomeNameIds,
  PLAIN_OUTCOME_COLUMNS,
  pushOutcomeParameters,
  type Row,
  toOutcome,
} from './rows';
import { notALedger, placeholders, PreparedStatements, rowsOf } from './sqlJsFile';
import { NameTable } from './sqlJsNames';
import { TallyChanges, type TallyGroup } from './segmentTallies';
import {
  DROP_SEGMENT_TRIGGERS,
  JOURNAL_IN_MEMORY,
  SEGMENT_TABLES,
  SEGMENT_TRIGGERS,
  SELECT_ROWS_OF_KEYS,
} from './segmentSchema';
import { insertOutcomesSql, OUTCOMES_PER_STATEMENT, SELECT_OUTCOME } from './sqlJsStatements';

/**
 * Source lines per segment: 2^16. At about 120 bytes an outcome a full segment is 8 MB, which a fold
 * rewrites whole every few seconds while the run fills it (2^18 made each fold save 30 MB), and the
 * few a run holds at once stay far below the 500 MB a run may use.
 * A ledger keeps the size it was created with (chains.json says it). Tests make small segments with
 * `BACKFILL_LINES_PER_SEGMENT`, to cross many boundaries with a few thousand records.
 */
export function linesPerNewSegment(): number {
  const wanted = Number(process.env.BACKFILL_LINES_PER_SEGMENT);
  return Number.isSafeInteger(wanted) && wanted > 0 ? wanted : 65_536;
}

/** The segment an outcome of this source line belongs to. */
export function segmentOfLine(line: number, linesPerSegment: number): number {
  return Number.isFinite(line) && line > 0 ? Math.floor(line / linesPerSegment) : 0;
}

/** A segment's outcomes counted by status, error kind and run, with the time of the run's last one. */
export interface SegmentTally {
  status: RecordStatus;
  errorKind?: ErrorKind;
  run: string;
  count: number;
  lastAt: string;
}

/** Which rows of a segment to read: by cell name and status (both optional). */
export interface SegmentFilter {
  cell?: string;
  statuses?: readonly RecordStatus[];
}

export class OutcomeSegment {
  private readonly statements = new PreparedStatements(() => this.db);
  private readonly names: NameTable;
  /** Changed since it was read or saved, and to be saved. */
  dirty = false;
  /**
   * Holds outcomes a reader applied from a live run's journal: shown, never saved (only the process that
   * holds the run lock writes segments), and never dropped from memory, since the file lacks them.
   */
  volatile = false;
  /** Iterations reading it now: it is not closed under them. */
  readers = 0;
  private inTransaction = false;
  /** The names of the latest outcome upserted, with their ids. */
  private lastIds: (OutcomeNameIds & { chainName: string; runName: string; cellName: string }) | undefined;

  private constructor(
    private readonly db: Database,
    readonly file: string,
  ) {
    this.names = new NameTable(
      {
        run: (sql, parameters) => this.statements.get(sql).run(parameters),
        single: (sql, parameters) => this.single(sql, parameters),
      },
      () => file,
    );
  }

  /** The segment saved in `file`, or a new empty one when there is none (or `fresh` says to ignore it). */
  static open(sql: SqlJsStatic, file: string, fresh = false): OutcomeSegment {
    const bytes = fresh ? undefined : readFileIfExists(file);
    if (bytes === undefined) {
      const db = new sql.Database();
      db.run(JOURNAL_IN_MEMORY);
      db.run(SEGMENT_TABLES);
      return new OutcomeSegment(db, file);
    }
    const db = new sql.Database(bytes);
    try {
      db.run(JOURNAL_IN_MEMORY);
      db.exec('SELECT 1 FROM records LIMIT 1; SELECT 1 FROM names LIMIT 1; SELECT 1 FROM tallies LIMIT 1');
      db.run(DROP_SEGMENT_TRIGGERS);
    } catch (error) {
      db.close();
      throw notALedger(file, `not an outcome segment: ${(error as Error).message}`);
    }
    return new OutcomeSegment(db, file);
  }

  /**
   * Opens a transaction that the next upserts join, until `commit` or `rollback`: how the ledger makes a
   * journal's fold all or nothing across the segments it touches.
   */
  begin(): void {
    if (this.inTransaction) return;
    this.db.run('BEGIN');
    this.inTransaction = true;
  }

  commit(): void {
    if (!this.inTransaction) return;
    this.db.run('COMMIT');
    this.inTransaction = false;
  }

  /** Undoes the upserts since `begin`; the names they added are gone with them. */
  rollback(): void {
    if (!this.inTransaction) return;
    this.db.run('ROLLBACK');
    this.inTransaction = false;
    this.forgetNames();
  }

  /** Upserts outcomes in one transaction (or the one `begin` opened), in order, several per statement. */
  upsert(outcomes: readonly RecordOutcome[]): void {
    if (outcomes.length === 0) return;
    const own = !this.inTransaction;
    if (own) this.db.run('BEGIN');
    try {
      // The tallies change as the triggers changed them: the row each outcome replaces (one already
      // here, or an earlier one of this batch) is uncounted, and the outcome counted.
      const tallies = new TallyChanges();
      const replaced = this.rowsOfKeys(outcomes, tallies);
      const written = new Map<string, TallyGroup>();
      // In order, as runs of plain outcomes (few columns to bind) and of the others, many rows a statement.
      let parameters: SqlValue[] = [];
      let rows = 0;
      let plain = true;
      for (const outcome of outcomes) {
        const ids = this.ids(outcome);
        const before = written.get(outcome.key) ?? replaced.get(outcome.key);
        if (before) tallies.remove(before);
        const group = tallies.group(outcome.status, outcome.errorKind ?? '', ids.run);
        tallies.add(group, outcome.at);
        written.set(outcome.key, group);
        const isPlain = isPlainOutcome(outcome);
        if (rows > 0 && (isPlain !== plain || rows === OUTCOMES_PER_STATEMENT)) {
          this.insertRows(parameters, rows, plain);
          parameters = [];
          rows = 0;
        }
        plain = isPlain;
        pushOutcomeParameters(parameters, outcome, ids, plain);
        rows += 1;
      }
      this.insertRows(parameters, rows, plain);
      for (const [sql, values] of tallies.statements()) this.statements.get(sql).run(values);
      if (own) this.db.run('COMMIT');
    } catch (error) {
      if (own) this.db.run('ROLLBACK');
      if (own) this.forgetNames();
      throw error;
    }
    this.dirty = true;
  }

  /** The segment's outcomes matching the filter, in source-line order, read as the iteration advances. */
  *outcomes(filter: SegmentFilter = {}): Generator<RecordOutcome> {
    const conditions: string[] = [];
    const parameters: SqlValue[] = [];
    if (filter.cell !== undefined) {
      const id = this.names.idOf(filter.cell);
      if (id === undefined) return;
      conditions.push('cell = ?');
      parameters.push(id);
    }
    if (filter.statuses !== undefined) {
      if (filter.statuses.length === 0) return;
      conditions.push(`status IN (${placeholders(filter.statuses.length)})`);
      parameters.push(...filter.statuses);
    }
    const where = conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '';
    const statement = this.db.prepare(`SELECT * FROM records ${where} ORDER BY line, key`);
    const nameOf = (id: SqlValue | undefined) => this.names.nameOf(id);
    this.readers += 1;
    try {
      statement.bind(parameters);
      for (const row of rowsOf(statement)) yield toOutcome(row, nameOf);
    } finally {
      statement.free();
      this.readers -= 1;
    }
  }

  /** Up to `limit` outcomes after (line, key), in line order: line, key, status and time only. */
  placesAfter(after: { line: number; key: string }, limit: number): OutcomePlace[] {
    const rows = this.all(
      `SELECT line, key, status, at FROM records WHERE line > ? OR (line = ? AND key > ?)
        ORDER BY line, key LIMIT ?`,
      [after.line, after.line, after.key, limit],
    );
    return rows.map((row) => ({
      line: Number(row.line),
      key: String(row.key),
      status: String(row.status) as RecordStatus,
      at: String(row.at),
    }));
  }

  /** Keys whose latest outcome has one of these statuses, built inside SQLite in one call. */
  keysWithStatus(statuses: readonly RecordStatus[]): string[] {
    if (statuses.length === 0) return [];
    const [row] = this.all(
      `SELECT json_group_array(key) AS keys FROM records WHERE status IN (${placeholders(statuses.length)})`,
      [...statuses],
    );
    return JSON.parse(String(row?.keys ?? '[]')) as string[];
  }

  /** The latest outcome of a key, if this segment has one. */
  outcomeOf(key: string): RecordOutcome | undefined {
    const statement = this.statements.get(SELECT_OUTCOME);
    let row: Row | undefined;
    try {
      statement.bind([key]);
      row = rowsOf(statement).next().value ?? undefined;
    } finally {
      statement.reset();
    }
    return row && toOutcome(row, (id) => this.names.nameOf(id));
  }

  /**
   * Counts by status, error kind and run, kept by the segment's triggers as outcomes come and go; the
   * time is that of the run's latest outcome here, even one a later run has since replaced.
   */
  tally(): SegmentTally[] {
    const rows = this.all('SELECT * FROM tallies WHERE count > 0');
    return rows.map((row) => ({
      status: String(row.status) as RecordStatus,
      ...(row.error_kind === '' ? {} : { errorKind: String(row.error_kind) as ErrorKind }),
      run: this.names.nameOf(row.run),
      count: Number(row.count),
      lastAt: String(row.last_at),
    }));
  }

  /** Writes the segment atomically (temporary file, fsync, rename) and marks it clean. */
  save(): void {
    // Saved with the triggers, as every segment file has them (SEGMENT_TRIGGERS).
    this.db.run(SEGMENT_TRIGGERS);
    let bytes: Uint8Array;
    try {
      bytes = this.db.export();
    } finally {
      this.db.run(DROP_SEGMENT_TRIGGERS);
    }
    replaceFileDurably(this.file, bytes);
    this.dirty = false;
  }

  close(): void {
    this.statements.free();
    this.forgetNames();
    this.db.close();
  }

  /** The ids of an outcome's names: those of the previous outcome when it has the same (nearly always). */
  private ids(outcome: RecordOutcome): OutcomeNameIds {
    const last = this.lastIds;
    if (
      last &&
      last.chainName === outcome.chain &&
      last.runName === outcome.run &&
      last.cellName === outcome.cell
    ) {
      return last;
    }
    this.lastIds = {
      chainName: outcome.chain,
      runName: outcome.run,
      cellName: outcome.cell,
      // One chain per segment: its id is always 1, the name stays in `names` for a reader's sake.
      chain: this.names.intern(outcome.chain),
      run: this.names.intern(outcome.run),
      cell: this.names.intern(outcome.cell),
    };
    return this.lastIds;
  }

  /**
   * The tally groups of the rows already here under the keys of `outcomes`, by key: read in one query per
   * chain (a segment holds one), nothing found for a key not written before.
   */
  private rowsOfKeys(outcomes: readonly RecordOutcome[], tallies: TallyChanges): Map<string, TallyGroup> {
    const keysByChain = new Map<number, string[]>();
    for (const outcome of outcomes) {
      const chain = this.ids(outcome).chain;
      const keys = keysByChain.get(chain);
      if (keys) keys.push(outcome.key);
      else keysByChain.set(chain, [outcome.key]);
    }
    const found = new Map<string, TallyGroup>();
    const statement = this.statements.get(SELECT_ROWS_OF_KEYS);
    for (const [chain, keys] of keysByChain) {
      try {
        statement.bind([chain, JSON.stringify(keys)]);
        while (statement.step()) {
          const [key, status, errorKind, run] = statement.get();
          found.set(String(key), tallies.group(String(status), String(errorKind ?? ''), Number(run)));
        }
      } finally {
        statement.reset();
      }
    }
    return found;
  }

  /** Drops what is known of the names' ids: they may no longer be in the database (rollback, close). */
  private forgetNames(): void {
    this.names.forget();
    this.lastIds = undefined;
  }

  /**
   * Inserts `rows` rows of `parameters` in statements of 256, 128, …, 1 rows: any number in a few
   * statements (a slice's last rows went one statement each).
   */
  private insertRows(parameters: SqlValue[], rows: number, plain: boolean): void {
    const width = plain ? PLAIN_OUTCOME_COLUMNS.length : OUTCOME_COLUMNS.length;
    let done = 0;
    for (let size = OUTCOMES_PER_STATEMENT; size >= 1 && done < rows; size >>= 1) {
      while (rows - done >= size) {
        const values =
          done === 0 && size === rows ? parameters : parameters.slice(done * width, (done + size) * width);
        this.statements.get(insertOutcomesSql(size, plain)).run(values);
        done += size;
      }
    }
  }

  private single(sql: string, parameters: SqlValue[]): SqlValue | undefined {
    const statement = this.statements.get(sql);
    try {
      statement.bind(parameters);
      return statement.step() ? statement.get()[0] : undefined;
    } finally {
      statement.reset();
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
