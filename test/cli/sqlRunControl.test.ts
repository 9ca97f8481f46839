import { strict as assert } from 'node:assert';
import { runCli } from '../support/cli';
import { sleep, startCli } from '../support/cliProcess';
import { postgresVerifyCell, writeSqlRunbook } from '../support/sqlRunbook';
import { useOrdersDatabase } from '../support/sqlTables';

const ROWS = 40;
const SLOW = 'UPDATE orders SET total = :amount, note = :note WHERE id = :id AND pg_sleep(0.2) IS NOT NULL';

describe('a SQL run steered live, and its statement timeout', function () {
  this.timeout(120_000);
  const db = useOrdersDatabase(ROWS);
  const env = db.env;

  const updatedCount = async () =>
    (await db.pg.query<{ n: number }>('SELECT count(*)::int AS n FROM orders WHERE updates > 0'))[0]!.n;
  /** Sessions running `text` right now: what the database sees of the run's concurrency. */
  const running = async (text: string) =>
    (
      await db.pg.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE state = 'active' AND query LIKE $1`,
        [`${text}%`],
      )
    )[0]!.n;
  const waitUntil = async (condition: () => Promise<boolean>, what: string) => {
    for (let i = 0; i < 1200; i++) {
      if (await condition()) return;
      await sleep(25);
    }
    throw new Error(`timed out waiting until ${what}`);
  };
  const cellState = async (file: string) => {
    const status = await runCli(['status', file, '--json'], { env: env() });
    const cells =
      status.code === 0 ? (JSON.parse(status.stdout).cells as { cell: string; state: string }[]) : [];
    return cells.find((cell) => cell.cell === 'full')?.state;
  };
  const control = async (file: string, ...command: string[]) => {
    const sent = await runCli(['control', file, ...command]);
    assert.equal(sent.code, 0, sent.stderr);
  };

  it('raises the connections a SQL action uses when control concurrency goes up', async () => {
    const file = writeSqlRunbook(db.dir, { statement: SLOW, concurrency: 1, batchSize: 1 });
    const run = startCli(['run', file, '--cell', 'full', '--execute'], env());
    try {
      await waitUntil(async () => (await updatedCount()) > 0, 'the run updates rows');
      assert.equal(await running('UPDATE orders'), 1, 'one statement at a time at concurrency 1');
      await control(file, 'concurrency', '4');
      let most = 0;
      await waitUntil(async () => {
        most = Math.max(most, await running('UPDATE orders'));
        return most >= 3 || (await updatedCount()) === ROWS;
      }, 'more statements run at once');
      assert.ok(most >= 3, `statements at once after concurrency 4: ${most}`);
    } finally {
      run.child.kill('SIGKILL');
      await run.exitedWith;
    }
  });

  it('raises the connections a postgres check uses when control concurrency goes up', async () => {
    const verify = postgresVerifyCell('SELECT id FROM orders WHERE id = :id AND pg_sleep(0.2) IS NOT NULL', {
      before: 'throttle:\n  concurrency: 1\n',
    });
    const file = writeSqlRunbook(db.dir, { extraCells: verify });
    const run = startCli(['run', file, '--cell', 'check'], env());
    try {
      await waitUntil(async () => (await running('SELECT id FROM orders')) > 0, 'the check queries');
      await control(file, 'concurrency', '4');
      let most = 0;
      await waitUntil(async () => {
        most = Math.max(most, await running('SELECT id FROM orders'));
        return most >= 3 || run.child.exitCode !== null;
      }, 'more checks run at once');
      assert.ok(most >= 3, `checks at once after concurrency 4: ${most}`);
    } finally {
      run.child.kill('SIGKILL');
      await run.exitedWith;
    }
  });

  it('stops a SQL run on control stop with the ledger agreeing with the rows, and a resume finishes each once', async () => {
    const file = writeSqlRunbook(db.dir, { statement: SLOW, concurrency: 1, batchSize: 2 });
    const run = startCli(['run', file, '--cell', 'full', '--execute'], env());
    await waitUntil(async () => (await updatedCount()) >= 4, 'the run updates rows');
    await control(file, 'stop');
    assert.equal(await run.exitedWith, 3, run.stdout() + run.stderr());
    const stopped = await updatedCount();
    assert.ok(stopped < ROWS, `stopped mid-run (${stopped} rows)`);
    const ledger = await runCli(
      ['ledger', file, '--cell', 'full', '--status', 'succeeded', '--format', 'jsonl'],
      {
        env: env(),
      },
    );
    const recorded = ledger.stdout.trim().split('\n').filter(Boolean).length;
    assert.equal(recorded, stopped, 'every row the run changed is in its ledger, and no other');

    const resumed = await runCli(['run', file, '--cell', 'full', '--execute'], { env: env() });
    assert.equal(resumed.code, 0, resumed.stderr + resumed.stdout);
    const rows = await db.pg.query<{ updates: number }>('SELECT updates FROM orders');
    assert.ok(
      rows.every((row) => row.updates === 1),
      'every row updated exactly once',
    );
  });

  it('pauses a SQL run on control pause (no row changes meanwhile) and goes on after resume', async () => {
    const file = writeSqlRunbook(db.dir, { statement: SLOW, concurrency: 1, batchSize: 1 });
    const run = startCli(['run', file, '--cell', 'full', '--execute'], env());
    try {
      await waitUntil(async () => (await updatedCount()) >= 2, 'the run updates rows');
      await control(file, 'pause');
      // The runner sees the control file on its next poll: until its status says paused, a gap between two
      // statements is not a pause.
      await waitUntil(async () => (await cellState(file)) === 'paused', 'the run says it is paused');
      // The statement in flight when the pause arrived may still finish; after it, nothing moves.
      await waitUntil(async () => (await running('UPDATE orders')) === 0, 'the statement in flight ends');
      const paused = await updatedCount();
      await sleep(1500);
      assert.equal(await updatedCount(), paused, 'no row changed while paused');
      assert.ok(paused < ROWS);
      await control(file, 'resume');
      assert.equal(await run.exitedWith, 0, run.stdout() + run.stderr());
      const rows = await db.pg.query<{ updates: number }>('SELECT updates FROM orders');
      assert.ok(rows.every((row) => row.updates === 1));
    } finally {
      run.child.kill('SIGKILL');
      await run.exitedWith;
    }
  });

  it('cancels a statement slower than statementTimeoutMs and fails only its record', async () => {
    const file = writeSqlRunbook(db.dir, {
      statement:
        'UPDATE orders SET total = :amount, note = :note WHERE id = :id AND (CASE WHEN :id = 3 THEN pg_sleep(5) END) IS NULL',
      extraAction: '  statementTimeoutMs: 300\n',
      batchSize: 1,
      retries: 1,
    });
    const result = await runCli(['run', file, '--cell', 'full', '--execute'], { env: env() });
    // The runbook's successThreshold is 0: the run ends, its one failure in the ledger.
    assert.equal(result.code, 0, result.stderr + result.stdout);
    const rows = await db.pg.query<{ id: number; updates: number }>(
      'SELECT id, updates FROM orders ORDER BY id',
    );
    assert.deepEqual(
      rows.filter((row) => row.updates !== 1).map((row) => row.id),
      [3],
    );
    const failed = await runCli(
      ['ledger', file, '--cell', 'full', '--status', 'failed', '--format', 'jsonl'],
      {
        env: env(),
      },
    );
    const outcome = JSON.parse(failed.stdout.trim()) as { key: string; attempts: number; lastError: string };
    assert.equal(outcome.key, '3');
    assert.equal(outcome.attempts, 2, 'a timeout is retried');
    assert.match(outcome.lastError, /canceling statement due to statement timeout \(57014\)/);
  });

  it('refuses a check query the database refuses at its line, exit 2, checking nothing', async () => {
    const verify = postgresVerifyCell('SELEC total FROM orders WHERE id = :id');
    const file = writeSqlRunbook(db.dir, { extraCells: verify });
    const result = await runCli(['run', file, '--cell', 'check'], { env: env() });
    assert.equal(result.code, 2, result.stdout + result.stderr);
    assert.match(
      result.stderr,
      /orders\.backfill:\d+: cell check: check\.query: PostgreSQL at 127\.0\.0\.1:\d+\/postgres refuses the query: syntax error at or near "SELEC"/,
    );
    assert.doesNotMatch(result.stderr, /postgresql:\/\//);
    const ledger = await runCli(['ledger', file, '--cell', 'check', '--format', 'jsonl'], { env: env() });
    assert.equal(ledger.stdout.trim(), '');
  });
});
