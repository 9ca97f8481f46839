/**
 * The tables of the PostgreSQL ledger, in a schema of their own (`backfill` unless told otherwise), and
 * how the tool creates and migrates them. Many runbooks can share one database: every table is scoped by
 * `ledger`, the name a runbook's ledger has there.
 *
 * Two processes opening a new database at once must not both create the tables: migrations run inside a
 * transaction holding a transaction-level advisory lock, and the version is read again under it.
 *
 * This folder cannot depend on the vscode API.
 */
import type { Client } from 'pg';
import { UserError } from '../model/types';

/** The schema version this backfill writes; a database with a higher one is refused (upgrade backfill). */
export const POSTGRES_SCHEMA_VERSION = 5;

/**
 * Version 1. Timestamps are kept as the ISO text the rest of backfill uses, so they read back exactly;
 * booleans as 0/1 like the embedded ledger's, so both share one row conversion (rows.ts). `records` keeps
 * the latest outcome of each key in a chain; its chain is a number from `chains`, whose order is the
 * order the ledger first stored them (what `outcomes()` promises). `run_locks` says who holds a ledger's
 * run lock (an advisory lock, which names no holder), so a refused run can say who to wait for.
 */
function version1(schema: string): string {
  return `
CREATE TABLE ${schema}.meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE ${schema}.dry_runs (
  seq BIGINT GENERATED ALWAYS AS IDENTITY,
  ledger TEXT NOT NULL,
  id TEXT NOT NULL,
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
  total BIGINT NOT NULL,
  valid BIGINT NOT NULL,
  rejected BIGINT NOT NULL,
  duplicates BIGINT NOT NULL,
  report TEXT NOT NULL,
  PRIMARY KEY (ledger, id)
);
CREATE INDEX dry_runs_by_fingerprint ON ${schema}.dry_runs (ledger, fingerprint, passed);
CREATE TABLE ${schema}.runs (
  seq BIGINT GENERATED ALWAYS AS IDENTITY,
  ledger TEXT NOT NULL,
  id TEXT NOT NULL,
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
  counts TEXT,
  PRIMARY KEY (ledger, id)
);
CREATE INDEX runs_by_cell ON ${schema}.runs (ledger, cell, started_at);
CREATE TABLE ${schema}.chains (
  id INTEGER GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  ledger TEXT NOT NULL,
  name TEXT NOT NULL,
  UNIQUE (ledger, name)
);
CREATE TABLE ${schema}.records (
  chain INTEGER NOT NULL REFERENCES ${schema}.chains (id),
  key TEXT NOT NULL,
  run TEXT NOT NULL,
  cell TEXT NOT NULL,
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  line BIGINT NOT NULL,
  last_error TEXT,
  error_kind TEXT,
  http_status INTEGER,
  duration_ms DOUBLE PRECISION,
  idempotency_key TEXT NOT NULL,
  at TEXT NOT NULL,
  expected TEXT,
  actual TEXT,
  rows_affected BIGINT,
  PRIMARY KEY (chain, key)
);
CREATE INDEX records_in_line_order ON ${schema}.records (chain, line, key);
CREATE INDEX records_by_run ON ${schema}.records (run, at);
CREATE TABLE ${schema}.signoffs (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  ledger TEXT NOT NULL,
  checklist TEXT NOT NULL,
  item TEXT NOT NULL,
  signed_by TEXT NOT NULL,
  at TEXT NOT NULL,
  checked INTEGER NOT NULL
);
CREATE INDEX signoffs_by_checklist ON ${schema}.signoffs (ledger, checklist, id);
CREATE TABLE ${schema}.run_locks (ledger TEXT PRIMARY KEY, holder TEXT NOT NULL);
`;
}

/**
 * Version 2: a run shared by many workers. `chunks` splits a run's source into ranges a worker claims with
 * a lease (`FOR UPDATE SKIP LOCKED`); `workers` is the fleet, one row per worker process of a run, kept
 * alive by its heartbeat (`heartbeat_at` is the database's clock, so hosts with skewed clocks agree on who
 * is lost); `controls` is `control.json` for the whole fleet, one row per ledger, announced with NOTIFY;
 * `slow_until` and `slow_by` carry one member's overload (a 429 or 503) to all the others.
 */
function version2(schema: string): string {
  return `
CREATE TABLE ${schema}.chunks (
  ledger TEXT NOT NULL,
  run TEXT NOT NULL,
  n INTEGER NOT NULL,
  first_line BIGINT NOT NULL,
  last_line BIGINT NOT NULL,
  key_from TEXT,
  key_to TEXT,
  state TEXT NOT NULL DEFAULT 'pending',
  worker TEXT,
  lease_until TIMESTAMPTZ,
  claims INTEGER NOT NULL DEFAULT 0,
  done_at TEXT,
  PRIMARY KEY (ledger, run, n)
);
CREATE INDEX chunks_by_state ON ${schema}.chunks (ledger, run, state, n);
CREATE TABLE ${schema}.workers (
  ledger TEXT NOT NULL,
  run TEXT NOT NULL,
  id TEXT NOT NULL,
  host TEXT NOT NULL,
  pid INTEGER NOT NULL,
  started_at TEXT NOT NULL,
  heartbeat_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  chunk INTEGER,
  rate DOUBLE PRECISION NOT NULL DEFAULT 0,
  sent BIGINT NOT NULL DEFAULT 0,
  state TEXT NOT NULL DEFAULT 'working',
  PRIMARY KEY (ledger, run, id)
);
CREATE TABLE ${schema}.controls (
  ledger TEXT PRIMARY KEY,
  seq BIGINT NOT NULL DEFAULT 0,
  paused INTEGER NOT NULL DEFAULT 0,
  stop INTEGER NOT NULL DEFAULT 0,
  rate DOUBLE PRECISION,
  concurrency INTEGER,
  slow_until TIMESTAMPTZ,
  slow_by TEXT
);
`;
}

/**
 * Version 3: a chunk of a database source's keys (`key_from` .. `key_to`) keeps the hash of its rows as the
 * run was split (`fingerprint: rows`), which a worker compares before it sends any of them; a member
 * waiting for another's lease with nothing to claim says so (`waiting`), and takes no share of the rate.
 */
function version3(schema: string): string {
  return `
ALTER TABLE ${schema}.chunks ADD COLUMN rows_hash TEXT;
ALTER TABLE ${schema}.workers ADD COLUMN waiting BOOLEAN NOT NULL DEFAULT false;
`;
}

/**
 * Version 4: `tallies` counts each chain's latest outcomes by status, error kind and run, kept by triggers
 * on `records` in the transaction that writes them, so a status read once a second by every viewer of a
 * fleet costs a few rows instead of a GROUP BY over all of a chain's records (100 million of them, for a
 * big backfill). A replaced outcome (a retry in a later run, a record repeated after a kill) moves from its
 * old counts to its new ones. Each connection counts into rows of its own (`shard`, its backend pid), so
 * the workers of a fleet never wait for one another's counts; a reader sums the shards. The counts of
 * what the ledger already holds go into shard 0.
 */
function version4(schema: string): string {
  const counted = (rows: string, sign: string) =>
    `SELECT chain, status, coalesce(error_kind, ''), run, ${sign}1 AS n FROM ${rows}`;
  const add = (deltas: string) => `
  INSERT INTO ${schema}.tallies AS t (chain, status, error_kind, run, shard, n)
  SELECT d.chain, d.status, d.error_kind, d.run, pg_backend_pid(), sum(d.n)
    FROM (${deltas}) AS d (chain, status, error_kind, run, n)
   GROUP BY d.chain, d.status, d.error_kind, d.run HAVING sum(d.n) <> 0
  ON CONFLICT (chain, status, error_kind, run, shard) DO UPDATE SET n = t.n + excluded.n;`;
  return `
CREATE TABLE ${schema}.tallies (
  chain INTEGER NOT NULL,
  status TEXT NOT NULL,
  error_kind TEXT NOT NULL,
  run TEXT NOT NULL,
  shard INTEGER NOT NULL,
  n BIGINT NOT NULL,
  PRIMARY KEY (chain, status, error_kind, run, shard)
);
INSERT INTO ${schema}.tallies (chain, status, error_kind, run, shard, n)
SELECT chain, status, coalesce(error_kind, ''), run, 0, count(*) FROM ${schema}.records
 GROUP BY chain, status, coalesce(error_kind, ''), run;
CREATE FUNCTION ${schema}.tally_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN${add(counted('new_rows', '+'))}
  RETURN NULL;
END $$;
CREATE FUNCTION ${schema}.tally_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN${add(`${counted('new_rows', '+')} UNION ALL ${counted('old_rows', '-')}`)}
  RETURN NULL;
END $$;
CREATE FUNCTION ${schema}.tally_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN${add(counted('old_rows', '-'))}
  RETURN NULL;
END $$;
CREATE TRIGGER records_tallied_on_insert AFTER INSERT ON ${schema}.records
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ${schema}.tally_inserted();
CREATE TRIGGER records_tallied_on_update AFTER UPDATE ON ${schema}.records
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ${schema}.tally_updated();
CREATE TRIGGER records_tallied_on_delete AFTER DELETE ON ${schema}.records
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION ${schema}.tally_deleted();
`;
}

/**
 * Version 5: a chunk of a file source (CSV, JSON Lines) keeps the byte offset where its first line starts
 * (`first_byte`), a line where a row starts, so a worker opens the file there instead of reading it from
 * its first byte to skip the lines before (sources/sourceSeek.ts). NULL for the chunks of other sources
 * and of runs split before version 5: those are read from the source's start, as before.
 */
function version5(schema: string): string {
  return `ALTER TABLE ${schema}.chunks ADD COLUMN first_byte BIGINT;`;
}

/** Migrations in order; `sql(schema)` brings the database from version `to - 1` to version `to`. */
const MIGRATIONS: readonly { to: number; sql: (schema: string) => string }[] = [
  { to: 1, sql: version1 },
  { to: 2, sql: version2 },
  { to: 3, sql: version3 },
  { to: 4, sql: version4 },
  { to: 5, sql: version5 },
];

/** A schema name that can be written into SQL as it is: what `ledger.schema` in a runbook may say. */
export const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Creates the schema or brings it up to date, under an advisory lock so concurrent first opens do not
 * race. A database written by a newer backfill is refused and left as it is.
 */
export async function migratePostgresLedger(client: Client, schema: string, where: string): Promise<void> {
  if (!SCHEMA_NAME.test(schema)) throw new Error(`invalid ledger schema name ${schema}`);
  if ((await readVersion(client, schema, where)) === POSTGRES_SCHEMA_VERSION) return;
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`backfill-ledger:${schema}`]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    const version = await readVersion(client, schema, where);
    for (const migration of MIGRATIONS.filter((m) => m.to > version)) {
      await client.query(migration.sql(schema));
    }
    await client.query(
      `INSERT INTO ${schema}.meta (key, value) VALUES ('schema_version', $1)
       ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
      [String(POSTGRES_SCHEMA_VERSION)],
    );
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/** The version the schema holds: 0 when it (or its meta table) does not exist yet. */
async function readVersion(client: Client, schema: string, where: string): Promise<number> {
  const exists = await client.query('SELECT to_regclass($1) AS meta', [`${schema}.meta`]);
  if (exists.rows[0]?.meta === null) return 0;
  const row = (await client.query(`SELECT value FROM ${schema}.meta WHERE key = 'schema_version'`)).rows[0];
  const version = Number(row?.value ?? 0);
  if (version > POSTGRES_SCHEMA_VERSION) {
    throw new UserError(
      `the ledger in ${where} (schema ${schema}) was written by a newer backfill (version ${version}): upgrade backfill`,
    );
  }
  return version;
}
