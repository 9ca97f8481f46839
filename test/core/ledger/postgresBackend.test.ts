import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { once } from 'node:events';
import { lockPostgresRuns, postgresBackend } from '../../../src/core/ledger/postgresBackend';
import { PostgresLedger } from '../../../src/core/ledger/postgresLedger';
import type { LockInfo } from '../../../src/core/ledger/ledger';
import { UserError } from '../../../src/core/model/types';
import { postgresUnavailable, startPostgres, type PostgresServer } from '../../support/postgresServer.mjs';
import { all, outcome, run } from './helpers';

const HOLDER: LockInfo = {
  pid: 4242,
  host: 'worker-a',
  runId: 'run-1',
  cell: 'full',
  startedAt: '2026-12-06T07:00:00Z',
};

describe('the PostgreSQL ledger as a backend: recorder and run lock', function () {
  this.timeout(120_000);
  let server: PostgresServer;
  let places = 0;
  let place: { url: string; name: string };

  before(async function () {
    if (postgresUnavailable()) this.skip();
    server = await startPostgres();
  });
  beforeEach(() => {
    places += 1;
    place = { url: server.url, name: `backend-${places}` };
  });
  after(async () => server?.stop());

  it('records a run through its recorder: every group commit is in the ledger for another connection', async () => {
    const { ledger, journal } = await postgresBackend(place).openForRun('unused.backfill');
    journal.append({ type: 'run-start', run: run('run-1') });
    journal.append({ type: 'outcome', outcome: outcome('a', { status: 'failed', line: 2 }) });
    journal.append({ type: 'outcome', outcome: outcome('b', { line: 3 }) });
    // Many flushes at once join the same commits, in order: the later outcome of `a` wins.
    await Promise.all([journal.flush(), journal.flush()]);
    journal.append({ type: 'outcome', outcome: outcome('a', { attempts: 2, line: 2 }) });
    journal.append({
      type: 'run-end',
      id: 'run-1',
      outcome: 'succeeded',
      endedAt: '2026-12-06T07:05:00.000Z',
    });
    await journal.checkpoint();
    await journal.close();
    await ledger.close();

    const reader = await PostgresLedger.open(place);
    try {
      assert.deepEqual(await all(reader.outcomes()), [
        outcome('a', { attempts: 2, line: 2 }),
        outcome('b', { line: 3 }),
      ]);
      const [finished] = await reader.runs();
      assert.equal(finished?.outcome, 'succeeded');
      assert.equal(finished?.endedAt, '2026-12-06T07:05:00.000Z');
    } finally {
      await reader.close();
    }
  });

  it('with no outage allowance, stops recording when the database goes away, and nothing of the lost group is in the ledger', async () => {
    const { ledger, journal } = await postgresBackend({
      ...place,
      outageSeconds: 0,
      environment: 'prod',
    }).openForRun('unused.backfill');
    journal.append({ type: 'run-start', run: run('run-1') });
    await journal.flush();
    for (let i = 0; i < 100; i += 1)
      journal.append({ type: 'outcome', outcome: outcome(`k${i}`, { line: i + 2 }) });
    // A session ended while the database stays reachable is replaced at the next commit; one that cannot be
    // replaced within the allowance (none here) halts the run.
    await server.down();
    await assert.rejects(journal.flush(), (error: Error) => {
      assert.ok(error instanceof UserError);
      assert.match(
        error.message,
        /could not be written .*the run must stop; .*sent again, with the same idempotency key/,
      );
      assert.match(error.message, /\(environments\.prod\.ledger\.outageSeconds allows 0 s\)/);
      return true;
    });
    assert.throws(() => journal.append({ type: 'outcome', outcome: outcome('late') }), UserError);
    await journal.close();
    await ledger.close().catch(() => undefined);
    await server.up();
    const reader = await PostgresLedger.open(place);
    try {
      assert.deepEqual(await all(reader.outcomes()), []);
      assert.equal((await reader.runs())[0]?.outcome, 'running');
    } finally {
      await reader.close();
    }
  });

  it('lets one run hold the run lock and tells a second who holds it and the command that stops it', async () => {
    const lock = await lockPostgresRuns(place, HOLDER);
    try {
      await assert.rejects(
        lockPostgresRuns(
          { ...place, environment: 'prod' },
          { ...HOLDER, pid: 1, host: 'worker-b' },
          'orders.backfill',
        ),
        (error: Error) => {
          assert.ok(error instanceof UserError);
          assert.match(error.message, /already being run by pid 4242 on worker-a .*\(run run-1, cell full\)/);
          assert.match(
            error.message,
            /stop it with backfill control orders\.backfill stop --env prod on any host/,
          );
          return true;
        },
      );
    } finally {
      lock.release();
    }
  });

  it('frees the run lock when the process holding it is killed, with nothing to take over', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(__dirname, 'support', 'holdPostgresRunLock.ts'), server.url, place.name],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const [line] = (await once(child.stdout!, 'data')) as [Buffer];
    assert.match(line.toString(), /^locked/);
    await assert.rejects(lockPostgresRuns(place, HOLDER), /already being run by pid \d+/);
    child.kill('SIGKILL');
    await once(child, 'close');
    let lock;
    for (let attempt = 0; !lock && attempt < 50; attempt += 1) {
      lock = await lockPostgresRuns(place, HOLDER).catch(
        () => new Promise((resolve) => setTimeout(resolve, 100)),
      );
    }
    assert.ok(
      lock && typeof lock === 'object' && 'release' in lock,
      'the lock was free again after the kill',
    );
    (lock as { release(): void }).release();
  });

  describe('while the database goes away', () => {
    const OTHER: LockInfo = { ...HOLDER, pid: 99, host: 'worker-b', runId: 'run-2' };
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

    /** Advisory locks held now, by any session. */
    async function advisoryLocks(): Promise<number> {
      const [row] = await server.query<{ n: string }>(
        "SELECT COUNT(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND granted",
      );
      return Number(row?.n);
    }

    it('commits the outcomes appended before and during a restart once the database is back', async () => {
      const { ledger, journal } = await postgresBackend(place).openForRun('unused.backfill');
      journal.append({ type: 'run-start', run: run('run-1') });
      journal.append({ type: 'outcome', outcome: outcome('a', { line: 2 }) });
      await journal.flush();
      await server.restart();
      journal.append({ type: 'outcome', outcome: outcome('b', { line: 3 }) });
      const flushed = journal.flush();
      journal.append({ type: 'outcome', outcome: outcome('c', { line: 4 }) });
      await flushed;
      await journal.flush();
      const rows = await server.query<{ key: string }>(
        `SELECT r.key FROM backfill.records r JOIN backfill.chains c ON c.id = r.chain
          WHERE c.ledger = $1 ORDER BY r.key`,
        [place.name],
      );
      assert.deepEqual(
        rows.map((row) => row.key),
        ['a', 'b', 'c'],
      );
      await journal.close();
      await ledger.close();
    });

    it('halts at once on a failure that is no outage, saying the run must stop', async () => {
      const { ledger, journal } = await postgresBackend(place).openForRun('unused.backfill');
      journal.append({ type: 'run-start', run: run('run-1') });
      await journal.flush();
      // The outcome's chain exists; its records table is gone: the database answers, with an error.
      await server.query('ALTER TABLE backfill.records RENAME TO records_gone');
      try {
        journal.append({ type: 'outcome', outcome: outcome('a', { line: 2 }) });
        await assert.rejects(
          journal.flush(),
          /could not be written \(relation .* does not exist\): the run must stop/,
        );
        assert.throws(() => journal.append({ type: 'outcome', outcome: outcome('b', { line: 3 }) }));
      } finally {
        await server.query('ALTER TABLE backfill.records_gone RENAME TO records');
        await journal.close();
        await ledger.close();
      }
    });

    it('takes the run lock again after a restart, so a second run is still refused', async () => {
      const lock = await lockPostgresRuns(place, HOLDER);
      const lost: string[] = [];
      lock.onLost?.((reason) => lost.push(reason));
      await server.restart();
      for (let tries = 0; (await advisoryLocks()) === 0; tries += 1) {
        assert.ok(tries < 600, 'the lock was taken again');
        await sleep(50);
      }
      await assert.rejects(lockPostgresRuns(place, OTHER), /already being run by pid 4242 on worker-a/);
      assert.deepEqual(lost, []);
      lock.release();
    });

    it('tells the run its lock is lost when another process took it while the database was away', async () => {
      const lock = await lockPostgresRuns(place, HOLDER);
      const lost = new Promise<string>((resolve) => lock.onLost?.(resolve));
      // Down long enough that the holder's backoff is at its longest waits: the other process, started as
      // soon as the database is back, takes the lock first.
      await server.down();
      await sleep(8000);
      await server.up();
      const other = await lockPostgresRuns(place, OTHER);
      assert.match(await lost, /was taken by pid 99 on worker-b \(run run-2\) while the database was away/);
      other.release();
      lock.release();
    });
  });
});
