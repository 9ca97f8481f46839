/**
 * SQLite record source: the rows of one query over a database file, read with sql.js (WebAssembly,
 * so no native module has to match the host). sql.js works on an in-memory copy, so the file on disk
 * is never written; the connection is also made query-only so a writing query fails loudly.
 */
import { readFile } from 'node:fs/promises';
import type { Database, SqlJsStatic, Statement } from 'sql.js';
import { loadSqlJs } from '../support/sqlite';
import type { RecordStream, SourceItem } from '../model/types';
import { UserError, type Issue } from '../model/types';
import { z } from 'zod';
import { createRecordStream } from './recordStream';
import { sourceCommon } from './sourceFields';
import { fileSourceParts, hashFile, locateSourceFile } from './sourceFile';
import type { OpenSourceOptions, SourceKind } from './sourceKind';

/**
 * Largest SQLite source file: 1 GiB. sql.js reads the whole file into its WebAssembly memory (at most
 * 2 GiB, and Node reads no file above 2 GiB at once), so a bigger file cannot be read: it is refused
 * before the run starts, with what to do instead.
 */
export const MAX_SQLITE_SOURCE_BYTES = 1024 * 1024 * 1024;

/** Refuses a SQLite source file above {@link MAX_SQLITE_SOURCE_BYTES}, located at the job's source when known. */
function refuseHugeFile(path: string, size: number, location: OpenSourceOptions['location']): void {
  if (size <= MAX_SQLITE_SOURCE_BYTES) return;
  const message =
    `${path} is ${(size / 2 ** 30).toFixed(1)} GiB: a sqlite source reads its file whole into memory, ` +
    `up to 1 GiB; export the query's rows to CSV or JSON Lines (sqlite3 -csv ${path} "the source's query" > rows.csv) and read that ` +
    `with a csv or jsonl source, which streams`;
  if (!location) throw new UserError(`source.path: ${message}`);
  const issue: Issue = {
    file: location.file,
    line: location.line,
    cell: location.cell,
    field: 'source.path',
    message,
  };
  throw new UserError(`the source of job ${location.cell} cannot be read`, [issue]);
}

/** Reads the rows of `query` from the SQLite file at `path` (already resolved and known to exist). */
export function sqliteSource(
  path: string,
  query: string,
  options: { totalBytes: number; signal?: AbortSignal; location?: OpenSourceOptions['location'] },
): RecordStream {
  refuseHugeFile(path, options.totalBytes, options.location);
  return createRecordStream(async function* (tap) {
    const SQL = await loadSqlJsForUser();
    const bytes = await readFile(path);
    tap.update(bytes);
    hashQuery(tap, query);
    const db = openQueryOnly(SQL, bytes, path);
    try {
      for (const item of queryRows(db, query, path)) {
        options.signal?.throwIfAborted();
        yield item;
      }
    } finally {
      db.close();
    }
  }, options.totalBytes);
}

/**
 * The one rule of what a SQLite source's content is: the file's bytes, then the query (the same file
 * queried differently is different data). Both the stream and the up-front hash end with this.
 */
function hashQuery(hash: { update(data: string): unknown }, query: string): void {
  hash.update('\0');
  hash.update(query);
}

const sqliteSourceSchema = z.strictObject({
  type: z.literal('sqlite'),
  path: z.string().min(1),
  query: z.string().min(1),
  ...sourceCommon,
});

/** The SQLite source kind: the rows of one query, read from an in-memory copy of the file. */
export const sqliteSourceKind: SourceKind<typeof sqliteSourceSchema> = {
  type: 'sqlite',
  schema: sqliteSourceSchema,
  ...fileSourceParts<z.output<typeof sqliteSourceSchema>>((path, spec, read) =>
    sqliteSource(path, spec.query, read),
  ),
  // Raw bytes, with no sql.js and no parsing, so a resume starts fast; a file too big to read is refused
  // here, before a run starts, rather than after hashing all of it.
  contentHash: async (spec, options) => {
    const file = locateSourceFile(spec.path, options.baseDir);
    refuseHugeFile(file.path, file.size, options.location);
    const hash = await hashFile(file.path, options.signal);
    hashQuery(hash, spec.query);
    return hash.digest('hex');
  },
  fieldHelp: { path: 'File, relative to the runbook.', query: 'SQL query (sqlite source).' },
};

/** sql.js is shared with the ledger (one wasm instance per process); its loader knows where the wasm is. */
export async function loadSqlJsForUser(): Promise<SqlJsStatic> {
  try {
    return await loadSqlJs();
  } catch (error) {
    throw new UserError(`cannot load SQLite support: ${(error as Error).message}`);
  }
}

/** Opens an in-memory copy of a database whose statements cannot write (a writing query fails loudly). */
export function openQueryOnly(SQL: SqlJsStatic, bytes: Uint8Array, path: string): Database {
  let db: Database | undefined;
  try {
    db = new SQL.Database(bytes);
    db.run('PRAGMA query_only = ON');
    return db;
  } catch (error) {
    db?.close();
    throw new UserError(`cannot open ${path} as a SQLite database: ${(error as Error).message}`);
  }
}

/** Yields one record per result row; its "line" is the 1-based row number. */
function* queryRows(db: Database, query: string, path: string): Generator<SourceItem> {
  const statement = prepare(db, query, path);
  try {
    const columns = statement.getColumnNames();
    for (let row = 1; step(statement, query, path); row++) {
      const values = (statement as BigIntStatement).get(null, { useBigInt: true });
      yield {
        kind: 'record',
        line: row,
        fields: Object.fromEntries(columns.map((c, i) => [c, toJsValue(values[i])])),
      };
    }
  } finally {
    statement.free();
  }
}

function prepare(db: Database, query: string, path: string): Statement {
  try {
    return db.prepare(query);
  } catch (error) {
    throw queryError(error, query, path);
  }
}

function step(statement: Statement, query: string, path: string): boolean {
  try {
    return statement.step();
  } catch (error) {
    throw queryError(error, query, path);
  }
}

function queryError(error: unknown, query: string, path: string): UserError {
  return new UserError(`the SQLite query failed on ${path}: ${(error as Error).message} (query: ${query})`);
}

/** sql.js supports `useBigInt` at runtime, but its type declarations do not list the option. */
interface BigIntStatement {
  get(params: null, config: { useBigInt: boolean }): Array<number | bigint | string | Uint8Array | null>;
}

/**
 * Integers come back as bigint so that ids beyond 2^53 are not silently rounded: those stay exact as
 * strings, smaller ones become numbers. Blobs become base64 so a record stays plain JSON.
 */
function toJsValue(value: number | bigint | string | Uint8Array | null | undefined): unknown {
  if (typeof value === 'bigint') {
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(value)
      : value.toString();
  }
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  return value ?? null;
}
