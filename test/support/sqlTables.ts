/**
 * Tables and database tricks of the SQL backfill tests: `orders` (with an `updates` counter a trigger
 * keeps, so "exactly once" is read from the rows) and `payments`, and a kill -9 that lands while the
 * database commits a batch.
 */
import { tempDir } from './cli';
import type { RunningCli } from './cliProcess';
import { sleep } from './cliProcess';
import { postgresUnavailable, startPostgres, type PostgresServer } from './postgresServer.mjs';

/** Drops and creates `orders` (ids 1..rows, `updates` counted by a trigger) and `payments` for them. */
export async function createOrdersTables(pg: PostgresServer, rows: number): Promise<void> {
  await pg.query('DROP TABLE IF EXISTS orders, payments, backfill_applied');
  await pg.query('CREATE TABLE orders (id int PRIMARY KEY, total numeric, note text, updates int DEFAULT 0)');
  await pg.query('CREATE TABLE payments (order_id int PRIMARY KEY, amount text, note text)');
  await pg.query(`INSERT INTO orders (id) SELECT generate_series(1, ${rows})`);
  await pg.query(
    `INSERT INTO payments SELECT i, (i * 2.5)::text, 'paid ' || i FROM generate_series(1, ${rows}) i`,
  );
  await countUpdates(pg, 'orders');
}

/** A trigger that counts the updates of each row of `table` in its `updates` column. */
export async function countUpdates(pg: PostgresServer, table: string): Promise<void> {
  await pg.query(`CREATE OR REPLACE FUNCTION count_update() RETURNS trigger AS $$
    BEGIN NEW.updates := OLD.updates + 1; RETURN NEW; END $$ LANGUAGE plpgsql`);
  await pg.query(
    `CREATE TRIGGER count_updates BEFORE UPDATE ON ${table} FOR EACH ROW EXECUTE FUNCTION count_update()`,
  );
}

/**
 * The first transaction that updates row `id` of `table` sleeps 2 s inside its COMMIT (a deferred
 * trigger): a client killed meanwhile never learns that its batch committed.
 */
export async function slowCommitOnce(pg: PostgresServer, table: string, id: number): Promise<void> {
  await pg.query('DROP SEQUENCE IF EXISTS slow_commits; CREATE SEQUENCE slow_commits');
  await pg.query(`CREATE OR REPLACE FUNCTION slow_commit() RETURNS trigger AS $$
    BEGIN IF nextval('slow_commits') = 1 THEN PERFORM pg_sleep(2); END IF; RETURN NULL; END $$ LANGUAGE plpgsql`);
  await pg.query(`CREATE CONSTRAINT TRIGGER slow_commit AFTER UPDATE ON ${table} DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW WHEN (NEW.id = ${id}) EXECUTE FUNCTION slow_commit()`);
}

/** Kills `run` with SIGKILL while a batch sleeps in its COMMIT, then waits for that commit to end. */
export async function killDuringCommit(pg: PostgresServer, run: RunningCli): Promise<void> {
  const sleeping = async () =>
    (
      await pg.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event = 'PgSleep'",
      )
    )[0]!.n;
  for (let i = 0; i < 600 && (await sleeping()) === 0; i++) await sleep(25);
  run.child.kill('SIGKILL');
  if ((await run.exitedWith) !== 'SIGKILL') throw new Error('the run ended before the kill');
  for (let i = 0; i < 200 && (await sleeping()) > 0; i++) await sleep(25);
}

/**
 * Mocha hooks of a database suite, called inside its `describe`: one PostgreSQL for the suite (the suite
 * is skipped without one) and a fresh folder for each test, then `setup` for each test.
 */
export function usePostgres(setup?: (pg: PostgresServer) => Promise<void>): {
  readonly pg: PostgresServer;
  readonly dir: string;
  env(): { DB_URL: string };
} {
  let pg: PostgresServer | undefined;
  let work: ReturnType<typeof tempDir> | undefined;
  before(async function () {
    if (postgresUnavailable()) this.skip();
    pg = await startPostgres();
  });
  after(() => pg?.stop());
  beforeEach(async () => {
    work = tempDir();
    await setup?.(pg!);
  });
  afterEach(() => work?.cleanup());
  return {
    get pg() {
      return pg!;
    },
    get dir() {
      return work!.dir;
    },
    env: () => ({ DB_URL: pg!.url }),
  };
}

/** {@link usePostgres} with fresh `orders` and `payments` (ids 1..rows) for each test. */
export function useOrdersDatabase(rows: number): ReturnType<typeof usePostgres> {
  return usePostgres((pg) => createOrdersTables(pg, rows));
}
