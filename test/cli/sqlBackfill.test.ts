import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import { runCli } from '../support/cli';
import { startCli } from '../support/cliProcess';
import { freePort } from '../support/freePort.mjs';
import { postgresVerifyCell, writeSqlRunbook } from '../support/sqlRunbook';
import { killDuringCommit, slowCommitOnce, useOrdersDatabase } from '../support/sqlTables';

const ROWS = 20;

describe('SQL backfill from a postgres source', function () {
  this.timeout(120_000);
  const db = useOrdersDatabase(ROWS);
  const env = db.env;

  const orders = () =>
    db.pg.query<{ id: number; total: string | null; note: string | null; updates: number }>(
      'SELECT id, total::text AS total, note, updates FROM orders ORDER BY id',
    );

  it('dry-runs without changing a row, showing the statement, its parameters and the plan', async () => {
    const file = writeSqlRunbook(db.dir);
    const result = await runCli(['dry-run', file, '--cell', 'preview'], { env: env() });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /UPDATE orders SET total = :amount, note = :note WHERE id = :id/);
    assert.match(result.stdout, /params: \{"amount":"2.5","note":"paid 1","id":1\}/);
    assert.match(result.stdout, /plan: Update on orders/);
    assert.match(result.stdout, /20 read, 20 valid/);
    assert.ok((await orders()).every((row) => row.total === null && row.updates === 0));
  });

  it('updates every row exactly once, in transactions of batchSize, and keeps rows affected per record', async () => {
    const file = writeSqlRunbook(db.dir);
    const result = await runCli(['run', file, '--cell', 'full', '--execute'], { env: env() });
    assert.equal(result.code, 0, result.stderr + result.stdout);
    const rows = await orders();
    assert.equal(rows.length, ROWS);
    for (const row of rows) {
      assert.equal(Number(row.total), row.id * 2.5);
      assert.equal(row.note, `paid ${row.id}`);
      assert.equal(row.updates, 1);
    }
    const ledger = await runCli(['ledger', file, '--cell', 'full', '--format', 'jsonl'], { env: env() });
    const outcomes = ledger.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { status: string; rowsAffected?: number });
    assert.equal(outcomes.length, ROWS);
    assert.ok(
      outcomes.every((outcome) => outcome.status === 'succeeded' && outcome.rowsAffected === 1),
      ledger.stdout,
    );
  });

  it('fails only the record whose value the database refuses, and commits the rest of its batch', async () => {
    await db.pg.query(`UPDATE payments SET amount = 'not a number' WHERE order_id = 3`);
    const file = writeSqlRunbook(db.dir);
    const result = await runCli(['run', file, '--cell', 'full', '--execute', '--json'], { env: env() });
    assert.notEqual(result.code, 2, result.stderr);
    const rows = await orders();
    assert.equal(rows.find((row) => row.id === 3)!.total, null);
    assert.ok(rows.filter((row) => row.id !== 3).every((row) => row.updates === 1 && row.total !== null));
    const ledger = await runCli(
      ['ledger', file, '--cell', 'full', '--status', 'failed', '--format', 'jsonl'],
      { env: env() },
    );
    const failed = ledger.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { key: string; lastError: string });
    assert.deepEqual(
      failed.map((outcome) => outcome.key),
      ['3'],
    );
    assert.match(failed[0]!.lastError, /invalid input syntax for type numeric: "not a number" \(22P02\)/);
  });

  it("stores '); DROP TABLE orders; -- as data and leaves the table intact", async () => {
    await db.pg.query(`UPDATE payments SET note = $1 WHERE order_id = 5`, ["'); DROP TABLE orders; --"]);
    const file = writeSqlRunbook(db.dir);
    const result = await runCli(['run', file, '--cell', 'full', '--execute'], { env: env() });
    assert.equal(result.code, 0, result.stderr + result.stdout);
    const rows = await orders();
    assert.equal(rows.length, ROWS);
    assert.equal(rows.find((row) => row.id === 5)!.note, "'); DROP TABLE orders; --");
  });

  it('refuses a statement with a syntax error at the action line, with the database message, sending nothing', async () => {
    const file = writeSqlRunbook(db.dir, { statement: 'UPDATE orders SET totl = :amount WHERE id = :id' });
    for (const args of [
      ['run', file, '--cell', 'full', '--execute'],
      ['dry-run', file, '--cell', 'preview'],
    ]) {
      const result = await runCli(args, { env: env() });
      assert.equal(result.code, 2, result.stdout + result.stderr);
      assert.match(
        result.stderr,
        /orders\.backfill:\d+: cell totals: action\.statement: PostgreSQL refuses the statement: column "totl" of relation "orders" does not exist/,
      );
    }
    assert.ok((await orders()).every((row) => row.updates === 0));
  });

  for (const statement of [
    'UPDATE orders SET total = :amount WHERE id = :id; DELETE FROM audit',
    "UPDATE orders SET note = 'x'; DELETE FROM audit -- no parameter: pg would send it as a simple query",
  ]) {
    it(`refuses a second statement at action.statement, exit 2, and changes nothing: ${statement.slice(0, 40)}…`, async () => {
      await db.pg.query(
        'DROP TABLE IF EXISTS audit; CREATE TABLE audit (id int); INSERT INTO audit SELECT generate_series(1, 5)',
      );
      const file = writeSqlRunbook(db.dir, { statement: JSON.stringify(statement) });
      for (const args of [
        ['dry-run', file, '--cell', 'preview'],
        ['run', file, '--cell', 'full', '--execute'],
        ['check', file],
      ]) {
        const result = await runCli(args, { env: env() });
        assert.equal(result.code, 2, `${args[0]}: ${result.stdout}${result.stderr}`);
        assert.match(
          result.stderr + result.stdout,
          /orders\.backfill:\d+: cell (totals|preview|full): action\.statement: column \d+: a second statement follows the ";": write exactly one statement/,
        );
      }
      assert.equal((await db.pg.query('SELECT * FROM audit')).length, 5, 'the audit table is intact');
      assert.ok((await orders()).every((row) => row.updates === 0));
    });
  }

  it('refuses CALL at action.statement with what to write instead, exit 2', async () => {
    const file = writeSqlRunbook(db.dir, { statement: 'CALL fix_order(:id)' });
    const result = await runCli(['dry-run', file, '--cell', 'preview'], { env: env() });
    assert.equal(result.code, 2, result.stdout + result.stderr);
    assert.match(
      result.stderr,
      /action\.statement: CALL cannot be prepared or explained.*SELECT my_function\(:id\)/,
    );
  });

  it('says at action.appliedTable when the user can neither create nor use the markers table, and runs once it exists', async () => {
    await db.pg.query('DROP ROLE IF EXISTS app_user');
    await db.pg.query('CREATE ROLE app_user LOGIN');
    await db.pg.query('GRANT SELECT ON payments TO app_user; GRANT SELECT, UPDATE ON orders TO app_user');
    const app = { DB_URL: db.pg.url.replace('//backfill@', '//app_user@') };
    assert.notEqual(app.DB_URL, db.pg.url);
    const file = writeSqlRunbook(db.dir);
    for (const args of [
      ['dry-run', file, '--cell', 'preview'],
      ['run', file, '--cell', 'full', '--execute'],
    ]) {
      const result = await runCli(args, { env: app });
      assert.equal(result.code, 2, `${args[0]}: ${result.stdout}${result.stderr}`);
      assert.match(
        result.stderr,
        /orders\.backfill:\d+: cell totals: action\.appliedTable: the table of applied records "backfill_applied" cannot be created or read: the table "backfill_applied" does not exist, and this user may not create it in schema public: grant CREATE/,
      );
    }
    assert.ok((await orders()).every((row) => row.updates === 0));
    // Created by someone who may, with only SELECT and INSERT for the backfill's user (README).
    await db.pg.query(
      'CREATE TABLE backfill_applied (idempotency_key text PRIMARY KEY, rows_affected integer NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())',
    );
    await db.pg.query('GRANT SELECT, INSERT ON backfill_applied TO app_user');
    assert.equal((await runCli(['dry-run', file, '--cell', 'preview'], { env: app })).code, 0);
    const result = await runCli(['run', file, '--cell', 'full', '--execute'], { env: app });
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.ok((await orders()).every((row) => row.updates === 1));
    const marked = await db.pg.query<{ n: number }>('SELECT count(*)::int AS n FROM backfill_applied');
    assert.equal(marked[0]!.n, ROWS);
  });

  it('refuses a parameter the query returns no column for at action.statement, exit 2, sending nothing', async () => {
    const file = writeSqlRunbook(db.dir, {
      statement: 'UPDATE orders SET total = :amount WHERE id = :order_no',
    });
    for (const args of [
      ['dry-run', file, '--cell', 'preview'],
      ['run', file, '--cell', 'full', '--execute'],
    ]) {
      const result = await runCli(args, { env: env() });
      assert.equal(result.code, 2, `${args[0]}: ${result.stdout}${result.stderr}`);
      assert.match(
        result.stderr,
        /orders\.backfill:\d+: cell totals: action\.statement: uses :order_no, but the source's query returns no such column \(it returns id, amount, note\)/,
      );
    }
    assert.ok((await orders()).every((row) => row.updates === 0));
    const ledger = await runCli(['ledger', file, '--cell', 'full', '--format', 'jsonl'], { env: env() });
    assert.equal(ledger.stdout.trim(), '', 'no outcome recorded');
  });

  it('refuses a parameter the declared fields lack in backfill check, with no database', async () => {
    const file = writeSqlRunbook(db.dir, {
      statement: 'UPDATE orders SET total = :amount WHERE id = :order_no',
      query: 'SELECT order_id AS id, amount, note FROM payments\n  fields: { amount: string, note: string }',
    });
    const result = await runCli(['check', file], { env: {} });
    assert.equal(result.code, 2, result.stdout + result.stderr);
    assert.match(
      result.stdout + result.stderr,
      /orders\.backfill:\d+: cell totals: action\.statement: uses :order_no, not among the source's declared fields \(amount, note, id\)/,
    );
  });

  it('does not call a run succeeded when every record was rejected', async () => {
    const file = writeSqlRunbook(db.dir, {
      query: 'SELECT order_id AS id, amount, note FROM payments\n  fields: { amount: string, note: integer }',
    });
    const result = await runCli(['run', file, '--cell', 'full', '--execute'], { env: env() });
    assert.notEqual(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout + result.stderr, /all 20 records were rejected and none was sent/);
    assert.ok((await orders()).every((row) => row.updates === 0));
  });

  it('says a database it cannot reach is unreachable, exit 2, with no password and no stack trace', async () => {
    const port = await freePort();
    const file = writeSqlRunbook(db.dir);
    const url = `postgresql://backfill:Sup3rSecretPw@127.0.0.1:${port}/postgres`;
    for (const args of [
      ['dry-run', file, '--cell', 'preview'],
      ['run', file, '--cell', 'full', '--execute'],
    ]) {
      const result = await runCli(args, { env: { DB_URL: url } });
      assert.equal(result.code, 2, result.stdout + result.stderr);
      const output = result.stdout + result.stderr;
      assert.match(output, new RegExp(`cannot connect to PostgreSQL at 127\\.0\\.0\\.1:${port}/postgres`));
      assert.match(output, /is the database running and reachable from here\?/);
      assert.doesNotMatch(output, /Sup3rSecretPw|\n\s+at /);
    }
    assert.ok((await orders()).every((row) => row.updates === 0));
  });

  for (const [what, code] of [
    ['a serialization failure', '40001'],
    ['a deadlock', '40P01'],
  ] as const) {
    it(`retries a batch that hit ${what}, and every row is updated exactly once`, async () => {
      // The first statement for order 3 fails with the SQLSTATE; a sequence (not rolled back) remembers it.
      await db.pg.query('DROP SEQUENCE IF EXISTS conflicts; CREATE SEQUENCE conflicts');
      await db.pg.query(`CREATE OR REPLACE FUNCTION conflict_once(id int) RETURNS boolean AS $$
        BEGIN
          IF id = 3 AND nextval('conflicts') = 1 THEN
            RAISE EXCEPTION 'simulated conflict' USING ERRCODE = '${code}';
          END IF;
          RETURN true;
        END $$ LANGUAGE plpgsql`);
      const file = writeSqlRunbook(db.dir, {
        statement: 'UPDATE orders SET total = :amount, note = :note WHERE id = :id AND conflict_once(:id)',
      });
      const result = await runCli(['run', file, '--cell', 'full', '--execute'], { env: env() });
      assert.equal(result.code, 0, result.stderr + result.stdout);
      const rows = await orders();
      assert.ok(
        rows.every((row) => row.updates === 1 && Number(row.total) === row.id * 2.5),
        JSON.stringify(rows),
      );
      const ledger = await runCli(['ledger', file, '--cell', 'full', '--format', 'jsonl'], { env: env() });
      const three = ledger.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { key: string; status: string; attempts: number })
        .find((outcome) => outcome.key === '3');
      assert.deepEqual(three && { status: three.status, attempts: three.attempts }, {
        status: 'succeeded',
        attempts: 2,
      });
    });
  }

  it('fails a record whose statement changes no row, unless zeroRows says succeed', async () => {
    await db.pg.query('DELETE FROM orders WHERE id = 7');
    const file = writeSqlRunbook(db.dir);
    await runCli(['run', file, '--cell', 'full', '--execute'], { env: env() });
    const failed = await runCli(
      ['ledger', file, '--cell', 'full', '--status', 'failed', '--format', 'jsonl'],
      { env: env() },
    );
    assert.match(failed.stdout, /changed 0 rows/);
    assert.equal(failed.stdout.trim().split('\n').length, 1);
    assert.deepEqual(
      { key: JSON.parse(failed.stdout).key, rows: JSON.parse(failed.stdout).rowsAffected },
      { key: '7', rows: 0 },
    );

    const lenient = writeSqlRunbook(db.dir, { extraAction: '  zeroRows: succeed\n' });
    fs.rmSync(`${lenient}.d`, { recursive: true, force: true });
    await runCli(['run', lenient, '--cell', 'full', '--execute'], { env: env() });
    const seven = await runCli(['ledger', lenient, '--cell', 'full', '--format', 'jsonl'], { env: env() });
    const outcome = seven.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { key: string; status: string; rowsAffected?: number })
      .find((o) => o.key === '7');
    assert.deepEqual(outcome && { status: outcome.status, rows: outcome.rowsAffected }, {
      status: 'succeeded',
      rows: 0,
    });
  });

  it('totals the rows the run changed in the report, from the ledger', async () => {
    await db.pg.query('DELETE FROM orders WHERE id IN (7, 8)');
    const file = writeSqlRunbook(db.dir, { extraAction: '  zeroRows: succeed\n' });
    assert.equal((await runCli(['run', file, '--cell', 'full', '--execute'], { env: env() })).code, 0);
    const changed = await db.pg.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM orders WHERE updates = 1',
    );
    assert.equal(changed[0]!.n, 18);
    for (const format of ['md', 'html']) {
      const result = await runCli(['report', file, '--format', format], { env: env() });
      assert.equal(result.code, 0, result.stderr);
      const report = fs.readFileSync(file.replace(/\.backfill$/, `.report.${format}`), 'utf8');
      assert.match(report, /\b18 rows affected/, `the ${format} report`);
    }
  });

  it('shows rows affected in a rolled-back transaction with dryRun: rollback, changing nothing', async () => {
    const file = writeSqlRunbook(db.dir, { extraAction: '  dryRun: rollback\n' });
    const result = await runCli(['dry-run', file, '--cell', 'preview'], { env: env() });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /rows affected \(rolled back\): 1/);
    assert.ok((await orders()).every((row) => row.updates === 0));
  });

  it('verifies the backfill with a postgres check, and finds a row changed since', async () => {
    const verify = postgresVerifyCell('SELECT total::float8 AS total, note FROM orders WHERE id = :id', {
      after: '  expect:\n    columns:\n      total: ${record:amount}\n      note: ${record:note}\n',
    });
    const file = writeSqlRunbook(db.dir, { extraCells: verify });
    assert.equal((await runCli(['run', file, '--cell', 'full', '--execute'], { env: env() })).code, 0);
    await db.pg.query(`UPDATE orders SET total = 1 WHERE id = 4`);
    await db.pg.query(`DELETE FROM orders WHERE id = 9`);
    const result = await runCli(['run', file, '--cell', 'check'], { env: env() });
    assert.notEqual(result.code, 2, result.stderr);
    const ledger = async (status: string) =>
      (
        await runCli(['ledger', file, '--cell', 'check', '--status', status, '--format', 'jsonl'], {
          env: env(),
        })
      ).stdout
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as { key: string; lastError?: string });
    assert.equal((await ledger('verified')).length, ROWS - 2);
    const mismatch = await ledger('mismatch');
    assert.deepEqual(
      mismatch.map((row) => row.key),
      ['4'],
    );
    assert.match(mismatch[0]!.lastError!, /total: expected "10.0", got 1/);
    assert.deepEqual(
      (await ledger('missing')).map((row) => row.key),
      ['9'],
    );
  });

  describe('reads the rows its dry run read, or says where they changed', () => {
    const updated = async () => (await orders()).filter((row) => row.total !== null).map((row) => row.id);

    it('refuses a production run when a row changed since the passing dry run, says where, and sends nothing', async () => {
      const file = writeSqlRunbook(db.dir, { production: true });
      const dry = await runCli(['dry-run', file, '--cell', 'preview', '--env', 'prod'], { env: env() });
      assert.equal(dry.code, 0, dry.stderr + dry.stdout);
      await db.pg.query(`UPDATE payments SET amount = '999' WHERE order_id = 12`);
      const result = await runCli(
        ['run', file, '--cell', 'full', '--env', 'prod', '--production', '--confirm', 'orders-totals'],
        { env: env() },
      );
      assert.equal(result.code, 4, result.stderr + result.stdout);
      assert.match(result.stderr, /the source data changed since the last passing dry run/);
      // Pages of 7: the row of key 12 is in the second, after the first page's last key.
      assert.match(
        result.stderr,
        /first change: the rows with keys after 7 up to 14 differ from what the dry run read/,
      );
      assert.deepEqual(await updated(), []);
    });

    it('stops at the page where a row changed after the check before the run, having sent only the pages before it', async () => {
      // The first record's statement changes the source row of key 20, in the last of three pages of 7,
      // long before the run reads that page (rate 2/s): the run must not send that page's rows.
      const file = writeSqlRunbook(db.dir, {
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

  for (const markers of [true, false]) {
    it(
      markers
        ? 'after kill -9 between a batch commit and its ledger entry, a resume updates every row exactly once'
        : 'without applied markers (appliedTable: false), the same kill runs the committed batch twice',
      async () => {
        const total = 400;
        await db.pg.query(`INSERT INTO orders (id) SELECT generate_series(${ROWS + 1}, ${total})`);
        await db.pg.query(
          `INSERT INTO payments SELECT i, (i * 2.5)::text, 'paid ' || i FROM generate_series(${ROWS + 1}, ${total}) i`,
        );
        // The batch holding order 103 sleeps inside its COMMIT (a deferred trigger, once): the kill lands
        // while the database commits a batch whose outcome the ledger will never learn from this process.
        await slowCommitOnce(db.pg, 'orders', 103);
        const file = writeSqlRunbook(db.dir, {
          rate: 200,
          batchSize: 5,
          ...(markers ? {} : { extraAction: '  appliedTable: false\n' }),
        });
        const first = startCli(['run', file, '--cell', 'full', '--execute'], env());
        await killDuringCommit(db.pg, first);
        const committed = await db.pg.query<{ updates: number }>('SELECT updates FROM orders WHERE id = 103');
        assert.equal(committed[0]!.updates, 1, 'the batch of order 103 committed after the kill');
        const updated = await db.pg.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM orders WHERE updates > 0',
        );
        assert.ok(updated[0]!.n < total, `the kill landed mid-run (${updated[0]!.n} rows updated)`);

        const resumed = await runCli(['run', file, '--cell', 'full', '--execute'], { env: env() });
        assert.equal(resumed.code, 0, resumed.stderr + resumed.stdout);
        const rows = await orders();
        assert.equal(rows.length, total);
        for (const row of rows) assert.equal(Number(row.total), row.id * 2.5, `order ${row.id}`);
        const twice = rows.filter((row) => row.updates !== 1).map((row) => row.id);
        if (!markers) {
          assert.ok(twice.includes(103), `order 103 ran twice without markers (${twice.join(', ')})`);
          return;
        }
        assert.deepEqual(twice, [], 'every row updated exactly once');
        const ledger = await runCli(['ledger', file, '--cell', 'full', '--format', 'jsonl'], { env: env() });
        const outcomes = ledger.stdout
          .trim()
          .split('\n')
          .map((line) => JSON.parse(line) as { key: string; status: string; rowsAffected?: number });
        assert.equal(outcomes.length, total);
        assert.ok(
          outcomes.every((o) => o.status === 'succeeded' && o.rowsAffected === 1),
          'every record succeeded with the row it changed',
        );
        const marked = await db.pg.query<{ n: number }>('SELECT count(*)::int AS n FROM backfill_applied');
        assert.equal(marked[0]!.n, total, 'one applied marker per record, in the target database');
      },
    );
  }
});
