import { strict as assert } from 'node:assert';
import { runCli, tempDir } from '../support/cli';
import { postgresUnavailable, startPostgres, type PostgresServer } from '../support/postgresServer.mjs';
import { writeSqlRunbook } from '../support/sqlRunbook';

const ROWS = 20;

describe('a run reads the PostgreSQL rows its dry run read, or says where they changed', function () {
  this.timeout(120_000);
  let pg: PostgresServer;
  let work: ReturnType<typeof tempDir>;
  const env = () => ({ DB_URL: pg.url });

  before(async function () {
    if (postgresUnavailable()) this.skip();
    pg = await startPostgres();
  });
  after(() => pg?.stop());
  beforeEach(async () => {
    work = tempDir();
    await pg.query('DROP TABLE IF EXISTS orders, payments');
    await pg.query('CREATE TABLE orders (id int PRIMARY KEY, total numeric, note text)');
    await pg.query('CREATE TABLE payments (order_id int PRIMARY KEY, amount text, note text)');
    await pg.query(`INSERT INTO orders (id) SELECT generate_series(1, ${ROWS})`);
    await pg.query(
      `INSERT INTO payments SELECT i, (i * 2.5)::text, 'paid ' || i FROM generate_series(1, ${ROWS}) i`,
    );
  });
  afterEach(() => work.cleanup());

  const updated = async () =>
    (await pg.query<{ id: number }>('SELECT id FROM orders WHERE total IS NOT NULL ORDER BY id')).map(
      (row) => row.id,
    );

  it('refuses a production run when a row changed since the passing dry run, sending nothing', async () => {
    const file = writeSqlRunbook(work.dir, { production: true });
    const dry = await runCli(['dry-run', file, '--cell', 'preview', '--env', 'prod'], { env: env() });
    assert.equal(dry.code, 0, dry.stderr + dry.stdout);
    await pg.query(`UPDATE payments SET amount = '999' WHERE order_id = 12`);
    const result = await runCli(
      ['run', file, '--cell', 'full', '--env', 'prod', '--production', '--confirm', 'orders-totals'],
      { env: env() },
    );
    assert.equal(result.code, 4, result.stderr + result.stdout);
    assert.match(result.stderr, /the source data changed since the last passing dry run/);
    assert.deepEqual(await updated(), []);
  });

  it('stops at the page where a row changed after the check before the run, having sent only the pages before it', async () => {
    // The first record's statement changes the source row of key 20, in the last of three pages of 7,
    // long before the run reads that page (rate 2/s): the run must not send that page's rows.
    const file = writeSqlRunbook(work.dir, {
      statement:
        "WITH touched AS (UPDATE payments SET note = 'changed' WHERE order_id = 20 AND :id = 1 RETURNING 1) UPDATE orders SET total = :amount, note = :note WHERE id = :id",
      batchSize: 1,
      concurrency: 1,
      rate: 4,
    });
    const result = await runCli(['run', file, '--cell', 'full', '--execute'], { env: env() });
    assert.equal(result.code, 2, result.stderr + result.stdout);
    assert.match(
      result.stderr,
      /orders\.backfill:\d+: cell totals: source: the source data changed while the run was reading it: the rows with keys after 14 up to 20 are not the 6 rows it read there/,
    );
    assert.deepEqual(
      await updated(),
      Array.from({ length: 14 }, (_, i) => i + 1),
    );
    assert.doesNotMatch(result.stderr, /postgresql:\/\//);
  });
});
