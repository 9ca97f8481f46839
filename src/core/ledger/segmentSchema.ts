/**
 * The SQL of an outcome segment (outcomeSegment.ts): its tables, the triggers its files keep, and the
 * settings and queries of an open one. The tables are the ledger's schema-5 `records` and `names`, plus
 * the tallies. This folder cannot depend on the vscode API.
 */

export const SEGMENT_TABLES = `
CREATE TABLE names (id INTEGER PRIMARY KEY, value TEXT NOT NULL UNIQUE);
CREATE TABLE records (
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
  rows_affected INTEGER,
  PRIMARY KEY (chain, key)
) WITHOUT ROWID;
CREATE TABLE tallies (
  status TEXT NOT NULL,
  error_kind TEXT NOT NULL,
  run INTEGER NOT NULL,
  count INTEGER NOT NULL,
  last_at TEXT NOT NULL,
  PRIMARY KEY (status, error_kind, run)
) WITHOUT ROWID;
`;

/**
 * What kept the tallies before the fold counted them itself (segmentTallies.ts): still in every saved
 * segment, so a segment reads and is written the same by every version, but dropped from the open
 * connection, where a trigger per row cost SQLite nearly as much as the row.
 */
export const SEGMENT_TRIGGERS = `
CREATE TRIGGER count_outcome AFTER INSERT ON records BEGIN
  INSERT INTO tallies VALUES (new.status, coalesce(new.error_kind, ''), new.run, 1, new.at)
    ON CONFLICT DO UPDATE SET count = count + 1, last_at = max(last_at, excluded.last_at);
END;
CREATE TRIGGER uncount_outcome AFTER DELETE ON records BEGIN
  UPDATE tallies SET count = count - 1
    WHERE status = old.status AND error_kind = coalesce(old.error_kind, '') AND run = old.run;
END;
`;

export const DROP_SEGMENT_TRIGGERS =
  'DROP TRIGGER IF EXISTS count_outcome; DROP TRIGGER IF EXISTS uncount_outcome';

/**
 * The rollback journal of each transaction kept in memory rather than in sql.js's in-memory file system:
 * a fold commits every 512 outcomes, and each commit created, grew and deleted a journal file there (a
 * quarter of a fold's time in SQLite). Durability is not sql.js's job here (a segment is saved whole,
 * atomically); ROLLBACK still works. A setting of the connection, not of the file.
 */
export const JOURNAL_IN_MEMORY = 'PRAGMA journal_mode = MEMORY';

/** The latest row of each of a chain's keys given as a JSON array, as far as this segment has one. */
export const SELECT_ROWS_OF_KEYS = `SELECT key, status, error_kind, run FROM records
  WHERE chain = ? AND key IN (SELECT value FROM json_each(?))`;
