/**
 * The sql.js side of the embedded ledger's file: reading and checking it, migrating an older schema in
 * memory, telling whether another process replaced it, and reading rows out of statements.
 *
 * This folder cannot depend on the vscode API.
 */
import * as fs from 'node:fs';
import type { Database, SqlJsStatic, SqlValue, Statement } from 'sql.js';
import { UserError } from '../model/types';
import type { Row } from './rows';
import { MIGRATIONS, REQUIRED_TABLES, SCHEMA_VERSION } from './schema';

/**
 * Reads and checks a ledger file, migrating an older schema in memory (the file changes only on save).
 * The file is read through one descriptor so its identity and its bytes belong to the same version even
 * if another process replaces it meanwhile.
 */
export function loadDatabase(sql: SqlJsStatic, file: string): { db: Database; identity: string } {
  const fd = openIfExists(file);
  if (fd === undefined) return { db: migrated(new sql.Database(), file, 0), identity: ABSENT };
  let bytes: Buffer;
  let identity: string;
  try {
    identity = identityOfStats(fs.fstatSync(fd, { bigint: true }));
    bytes = fs.readFileSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  const db = new sql.Database(bytes);
  try {
    return { db: migrated(db, file, readSchemaVersion(db, file)), identity };
  } catch (error) {
    db.close();
    throw error;
  }
}

function openIfExists(file: string): number | undefined {
  try {
    return fs.openSync(file, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

function readSchemaVersion(db: Database, file: string): number {
  let value: SqlValue | undefined;
  try {
    value = db.exec("SELECT value FROM meta WHERE key = 'schema_version'")[0]?.values[0]?.[0];
  } catch (error) {
    throw notALedger(file, (error as Error).message);
  }
  const version = Number(value);
  if (value === undefined || value === null || !Number.isInteger(version) || version < 1) {
    throw notALedger(file, 'no schema version');
  }
  if (version > SCHEMA_VERSION) {
    throw new UserError(
      `ledger ${file} was written by a newer backfill (schema ${version}): upgrade backfill`,
    );
  }
  return version;
}

/** Applies the migrations after `version`, then checks every table of the current schema is there. */
function migrated(db: Database, file: string, version: number): Database {
  const pending = MIGRATIONS.filter((migration) => migration.to > version);
  if (pending.length > 0) {
    db.run('BEGIN');
    for (const migration of pending) if (migration.sql) db.run(migration.sql);
    db.run("INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)", [String(SCHEMA_VERSION)]);
    db.run('COMMIT');
    if (pending.some((migration) => migration.rebuilds)) db.run('VACUUM');
  }
  const tables = new Set(db.exec("SELECT name FROM sqlite_master WHERE type = 'table'")[0]?.values.flat());
  const missing = REQUIRED_TABLES.filter((table) => !tables.has(table));
  if (missing.length > 0) throw notALedger(file, `missing table ${missing.join(', ')}`);
  return db;
}

export function notALedger(file: string, why: string): UserError {
  return new UserError(
    `ledger ${file} is not a readable backfill ledger (${why}); ` +
      'it was left untouched: move it aside to start a new ledger, or restore it from a backup',
  );
}

/** The identity of a ledger file that does not exist (yet). */
const ABSENT = 'absent';

/** Device, inode, size and modification time: every save renames a new file in, so any save changes it. */
export function identityOf(file: string): string {
  try {
    return identityOfStats(fs.statSync(file, { bigint: true }));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return ABSENT;
    throw error;
  }
}

export function identityOfStats(stats: fs.BigIntStats): string {
  return `${stats.dev}:${stats.ino}:${stats.size}:${stats.mtimeNs}`;
}

/**
 * The rows of a bound statement as objects. Reads column names once: `getAsObject` asks sql.js for them
 * on every row, which doubles the time to read a million outcomes.
 */
export function* rowsOf(statement: Statement): Generator<Row> {
  let names: string[] | undefined;
  while (statement.step()) {
    names ??= statement.getColumnNames();
    const values = statement.get();
    const row: Row = {};
    for (let column = 0; column < names.length; column += 1)
      row[names[column] as string] = values[column] ?? null;
    yield row;
  }
}

/**
 * Statements prepared once per database and reused: a million upserts must not parse their SQL a million
 * times. `database` is asked each time, for a ledger that replaces its database when it reloads.
 */
export class PreparedStatements {
  private readonly bySql = new Map<string, Statement>();

  constructor(private readonly database: () => Database) {}

  get(sql: string): Statement {
    let statement = this.bySql.get(sql);
    if (!statement) {
      statement = this.database().prepare(sql);
      this.bySql.set(sql, statement);
    }
    return statement;
  }

  /** Frees them all: before the database is closed or replaced. */
  free(): void {
    for (const statement of this.bySql.values()) statement.free();
    this.bySql.clear();
  }
}

export function placeholders(count: number): string {
  return Array.from({ length: count }, () => '?').join(', ');
}
