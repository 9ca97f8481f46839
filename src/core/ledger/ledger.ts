/**
 * The ledger: a SQLite database (sql.js) kept beside the runbook, in `<runbook>.d/ledger.sqlite`.
 * It records what happened so later runs can be gated on it: dry-run results (with their job
 * fingerprint) now; runs, per-record outcomes and sign-offs as execution lands.
 *
 * sql.js holds the database in memory; `save()` writes it whole to a temporary file, fsyncs it and
 * renames it over the old one, so a crash leaves either the old or the new ledger, never half of one.
 * A file that is not a ledger is refused and never overwritten.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Database } from 'sql.js';
import { loadSqlJs } from './sqlite';
import { UserError } from './types';

const SCHEMA_VERSION = 1;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS dry_runs (
  id TEXT PRIMARY KEY,
  cell TEXT NOT NULL,
  job TEXT NOT NULL,
  environment TEXT NOT NULL,
  operator TEXT NOT NULL,
  host TEXT NOT NULL,
  started_at TEXT NOT NULL,
  finished_at TEXT NOT NULL,
  definition_hash TEXT NOT NULL,
  content_hash TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  passed INTEGER NOT NULL,
  total INTEGER NOT NULL,
  valid INTEGER NOT NULL,
  rejected INTEGER NOT NULL,
  duplicates INTEGER NOT NULL,
  report TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS dry_runs_by_fingerprint ON dry_runs (fingerprint, passed);
`;

export interface DryRunRow {
  id: string;
  cell: string;
  job: string;
  environment: string;
  operator: string;
  host: string;
  startedAt: string;
  finishedAt: string;
  definitionHash: string;
  contentHash: string;
  fingerprint: string;
  passed: boolean;
  total: number;
  valid: number;
  rejected: number;
  duplicates: number;
  /** The full dry-run report as JSON, secrets already redacted. */
  report: string;
}

/** Folder beside the runbook holding its ledger and run state: `orders.backfill` → `orders.backfill.d/`. */
export function stateDirFor(runbookFile: string): string {
  return `${path.resolve(runbookFile)}.d`;
}

export class Ledger {
  private constructor(
    private readonly db: Database,
    readonly file: string,
  ) {}

  /** Opens the ledger of a runbook, creating it in memory when it does not exist yet. */
  static async open(runbookFile: string): Promise<Ledger> {
    const file = path.join(stateDirFor(runbookFile), 'ledger.sqlite');
    const SQL = await loadSqlJs();
    if (!fs.existsSync(file)) {
      const db = new SQL.Database();
      db.run(SCHEMA);
      db.run('INSERT INTO meta VALUES (?, ?)', ['schema_version', String(SCHEMA_VERSION)]);
      return new Ledger(db, file);
    }
    let db: Database;
    try {
      db = new SQL.Database(fs.readFileSync(file));
      const version = db.exec("SELECT value FROM meta WHERE key = 'schema_version'")[0]?.values[0]?.[0];
      if (version === undefined) throw new Error('no schema version');
      if (Number(version) > SCHEMA_VERSION) {
        throw new UserError(
          `ledger ${file} was written by a newer backfill (schema ${version}): upgrade backfill`,
        );
      }
      db.run(SCHEMA);
    } catch (error) {
      if (error instanceof UserError) throw error;
      throw new UserError(
        `ledger ${file} is not a readable backfill ledger (${(error as Error).message}); ` +
          'it was left untouched: move it aside to start a new ledger, or restore it from a backup',
      );
    }
    return new Ledger(db, file);
  }

  recordDryRun(row: DryRunRow): void {
    this.db.run('INSERT INTO dry_runs VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)', [
      row.id,
      row.cell,
      row.job,
      row.environment,
      row.operator,
      row.host,
      row.startedAt,
      row.finishedAt,
      row.definitionHash,
      row.contentHash,
      row.fingerprint,
      row.passed ? 1 : 0,
      row.total,
      row.valid,
      row.rejected,
      row.duplicates,
      row.report,
    ]);
  }

  /** Dry runs of a cell, newest first. */
  dryRuns(cell?: string): DryRunRow[] {
    const statement = this.db.prepare(
      `SELECT * FROM dry_runs ${cell ? 'WHERE cell = :cell' : ''} ORDER BY started_at DESC, rowid DESC`,
    );
    if (cell) statement.bind({ ':cell': cell });
    const rows: DryRunRow[] = [];
    while (statement.step()) rows.push(toDryRunRow(statement.getAsObject()));
    statement.free();
    return rows;
  }

  /** The newest passing dry run with exactly this fingerprint, if any: what the production gate needs. */
  passingDryRun(fingerprint: string): DryRunRow | undefined {
    return this.dryRuns().find((row) => row.fingerprint === fingerprint && row.passed);
  }

  /** Writes the whole database atomically: temp file, fsync, rename. */
  save(): void {
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    const temporary = `${this.file}.${process.pid}.tmp`;
    const fd = fs.openSync(temporary, 'w');
    try {
      fs.writeSync(fd, this.db.export());
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(temporary, this.file);
  }

  close(): void {
    this.db.close();
  }
}

function toDryRunRow(row: Record<string, unknown>): DryRunRow {
  return {
    id: String(row.id),
    cell: String(row.cell),
    job: String(row.job),
    environment: String(row.environment),
    operator: String(row.operator),
    host: String(row.host),
    startedAt: String(row.started_at),
    finishedAt: String(row.finished_at),
    definitionHash: String(row.definition_hash),
    contentHash: String(row.content_hash),
    fingerprint: String(row.fingerprint),
    passed: row.passed === 1,
    total: Number(row.total),
    valid: Number(row.valid),
    rejected: Number(row.rejected),
    duplicates: Number(row.duplicates),
    report: String(row.report),
  };
}
