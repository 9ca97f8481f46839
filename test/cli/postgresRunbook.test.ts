import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO, runCli, tempDir } from '../support/cli';
import { postgresUnavailable, startPostgres, type PostgresServer } from '../support/postgresServer.mjs';

describe('PostgreSQL runbooks: the sample and the sql template', function () {
  this.timeout(120_000);
  let pg: PostgresServer;
  let work: ReturnType<typeof tempDir>;

  before(async function () {
    if (postgresUnavailable()) this.skip();
    pg = await startPostgres();
    await pg.query(fs.readFileSync(path.join(REPO, 'runbooks', 'data', 'postgres-orders.sql'), 'utf8'));
    work = tempDir();
    fs.copyFileSync(
      path.join(REPO, 'runbooks', 'postgres-orders.backfill'),
      path.join(work.dir, 'orders.backfill'),
    );
  });
  after(async () => {
    work?.cleanup();
    await pg?.stop();
  });

  it('dry-runs, backfills every order from its settled payments, and verifies them all', async () => {
    const file = path.join(work.dir, 'orders.backfill');
    const env = { ORDERS_DB_URL: pg.url };
    const dry = await runCli(['dry-run', file, '--json'], { env });
    assert.equal(dry.code, 0, dry.stderr);
    const [report] = JSON.parse(dry.stdout);
    assert.deepEqual(report.counts, { total: 300, valid: 300, rejected: 0, duplicates: 0, selected: 300 });
    assert.equal(
      (await pg.query('SELECT count(*)::int AS n FROM orders WHERE paid_cents IS NOT NULL'))[0]!.n,
      0,
    );

    const run = await runCli(['run', file, '--cell', 'full', '--execute'], { env });
    assert.equal(run.code, 0, run.stderr + run.stdout);
    const wrong = await pg.query(`
      SELECT o.id FROM orders o
      WHERE o.paid_cents IS DISTINCT FROM (SELECT sum(cents) FROM payments p WHERE p.order_id = o.id AND settled)`);
    assert.deepEqual(wrong, []);

    const verify = await runCli(['run', file, '--cell', 'check'], { env });
    assert.equal(verify.code, 0, verify.stderr + verify.stdout);
    const verified = await runCli(
      ['ledger', file, '--cell', 'check', '--status', 'verified', '--format', 'jsonl'],
      { env },
    );
    assert.equal(verified.stdout.trim().split('\n').length, 300);
  });

  it('backfill new --kind sql scaffolds a runbook that passes check and runs against a database', async () => {
    const file = path.join(work.dir, 'fix-values.backfill');
    const created = await runCli(['new', file, '--kind', 'sql', '--owner', 'Ada']);
    assert.equal(created.code, 0, created.stderr);
    assert.equal((await runCli(['check', file])).code, 0);
    await pg.query('CREATE TABLE records (id int PRIMARY KEY, value text)');
    await pg.query(`INSERT INTO records SELECT i, 'old' FROM generate_series(1, 5) i`);
    await pg.query('CREATE TABLE corrections (id int PRIMARY KEY, new_value text, created_at date)');
    await pg.query(
      `INSERT INTO corrections SELECT i, 'new ' || i, date '2025-06-01' FROM generate_series(1, 5) i`,
    );
    await pg.query(`INSERT INTO corrections VALUES (6, 'too late', date '2026-06-01')`);
    const env = { DATABASE_URL: pg.url };
    const dry = await runCli(['dry-run', file, '--cell', 'preview'], { env });
    assert.equal(dry.code, 0, dry.stderr + dry.stdout);
    assert.match(dry.stdout, /5 read, 5 valid/);
    const run = await runCli(['run', file, '--cell', 'full', '--execute'], { env });
    assert.equal(run.code, 0, run.stderr + run.stdout);
    const values = await pg.query<{ value: string }>('SELECT value FROM records ORDER BY id');
    assert.deepEqual(
      values.map((row) => row.value),
      ['new 1', 'new 2', 'new 3', 'new 4', 'new 5'],
    );
  });
});
