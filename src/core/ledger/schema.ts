/**
 * The ledger's tables and how a ledger written by an older backfill is brought up to date. A new ledger
 * is created by the very same migrations, so every migration runs on every new ledger too.
 */

/** The schema this backfill writes; a ledger with a higher version is refused (upgrade backfill). */
export const SCHEMA_VERSION = 6;

/** Version 1: the meta table and the dry runs (what the production gate reads). */
const VERSION_1 = `
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

/**
 * Version 2: execution. `records` keeps only the latest outcome of each key in a run chain, which is
 * what resume and verification need; it is WITHOUT ROWID because its primary key is the natural one
 * and a second b-tree for a rowid would only slow down a million upserts.
 */
const VERSION_2 = `
CREATE TABLE IF NOT EXISTS runs (
  id TEXT PRIMARY KEY,
  chain TEXT NOT NULL,
  cell TEXT NOT NULL,
  job TEXT NOT NULL,
  mode TEXT NOT NULL,
  environment TEXT NOT NULL,
  operator TEXT NOT NULL,
  host TEXT NOT NULL,
  pid INTEGER NOT NULL,
  started_at TEXT NOT NULL,
  ended_at TEXT,
  fingerprint TEXT NOT NULL,
  params TEXT NOT NULL,
  outcome TEXT NOT NULL,
  reason TEXT,
  counts TEXT
);
CREATE INDEX IF NOT EXISTS runs_by_cell ON runs (cell, started_at);
CREATE INDEX IF NOT EXISTS runs_by_outcome ON runs (outcome);
CREATE TABLE IF NOT EXISTS records (
  chain TEXT NOT NULL,
  key TEXT NOT NULL,
  run TEXT NOT NULL,
  cell TEXT NOT NULL,
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  line INTEGER NOT NULL,
  last_error TEXT,
  error_kind TEXT,
  http_status INTEGER,
  duration_ms REAL,
  idempotency_key TEXT NOT NULL,
  at TEXT NOT NULL,
  PRIMARY KEY (chain, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS records_by_cell_status ON records (cell, status);
CREATE TABLE IF NOT EXISTS signoffs (
  id INTEGER PRIMARY KEY,
  checklist TEXT NOT NULL,
  item TEXT NOT NULL,
  signed_by TEXT NOT NULL,
  at TEXT NOT NULL,
  checked INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS signoffs_by_checklist ON signoffs (checklist);
`;

/**
 * Version 3: verification. A check's outcome keeps what differed — the expected and the actual values,
 * as JSON — so a mismatch can be exported and fixed without checking the record again.
 */
const VERSION_3 = `
ALTER TABLE records ADD COLUMN expected TEXT;
ALTER TABLE records ADD COLUMN actual TEXT;
`;

/**
 * Version 4: compact outcome rows, because sql.js holds the whole ledger in memory and saving it copies it
 * once more: at 280 bytes a row, a million outcomes made a 280 MB file and a 700 MB process. The run,
 * chain and cell of an outcome — two UUIDs and a name, the same on every row of a run — are stored once
 * in `names` and referenced by number (`Ledger` translates both ways), and the index on (cell, status)
 * is gone: the queries that matter (resume, counts, verification) are by chain, the primary key's prefix,
 * and the few by cell (reports, exports) scan the table, which costs about what their sort does anyway.
 * A million outcomes now take about 120 bytes each, and a fold does one b-tree insert per outcome
 * instead of two.
 */
const VERSION_4 = `
CREATE TABLE IF NOT EXISTS names (id INTEGER PRIMARY KEY, value TEXT NOT NULL UNIQUE);
INSERT OR IGNORE INTO names (value)
  SELECT chain FROM records UNION SELECT run FROM records UNION SELECT cell FROM records;
CREATE TABLE records_v4 (
  chain INTEGER NOT NULL,
  key TEXT NOT NULL,
  run INTEGER NOT NULL,
  cell INTEGER NOT NULL,
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  line INTEGER NOT NULL,
  last_error TEXT,
  error_kind TEXT,
  http_status INTEGER,
  duration_ms REAL,
  idempotency_key TEXT NOT NULL,
  at TEXT NOT NULL,
  expected TEXT,
  actual TEXT,
  PRIMARY KEY (chain, key)
) WITHOUT ROWID;
INSERT INTO records_v4
  SELECT (SELECT id FROM names WHERE value = r.chain), r.key, (SELECT id FROM names WHERE value = r.run),
    (SELECT id FROM names WHERE value = r.cell), r.status, r.attempts, r.line, r.last_error, r.error_kind,
    r.http_status, r.duration_ms, r.idempotency_key, r.at, r.expected, r.actual
  FROM records r;
DROP TABLE records;
ALTER TABLE records_v4 RENAME TO records;
`;

/**
 * Version 5: rows affected per record, for SQL actions, NULL for every other kind (and for every outcome
 * an older backfill wrote). A column added at the end: the rows are not rebuilt.
 */
const VERSION_5 = `
ALTER TABLE records ADD COLUMN rows_affected INTEGER;
`;

/**
 * Version 6: outcomes leave `ledger.sqlite` for fixed-size segment files under `outcomes/`, because
 * sql.js holds a database whole in memory: a 10M-record run held a 1.2 GB ledger. Moving the rows is done
 * in code (SqlJsLedger's `moveLegacyOutcomes`), which then drops `records`; the SQL has nothing to do.
 */
const VERSION_6 = '';

/**
 * Migrations in order; `sql` brings a ledger from version `to - 1` to version `to`. One that `rebuilds` a
 * table leaves the old table's pages free in the file (SQLite keeps them for reuse), so the ledger is
 * vacuumed after it: a migrated million-outcome ledger would otherwise be saved at 400 MB, not 120 MB.
 */
export const MIGRATIONS: readonly { to: number; sql: string; rebuilds?: true }[] = [
  { to: 1, sql: VERSION_1 },
  { to: 2, sql: VERSION_2 },
  { to: 3, sql: VERSION_3 },
  { to: 4, sql: VERSION_4, rebuilds: true },
  { to: 5, sql: VERSION_5 },
  { to: 6, sql: VERSION_6 },
];

/** Tables a ledger of the current version must hold; a file without them is not a ledger. */
export const REQUIRED_TABLES = ['meta', 'dry_runs', 'runs', 'names', 'signoffs'] as const;
