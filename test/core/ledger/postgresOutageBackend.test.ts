import { strict as assert } from 'node:assert';
import { lockPostgresRuns, postgresBackend } from '../../../src/core/ledger/postgresBackend';
import type { LockInfo } from '../../../src/core/ledger/ledger';
import { postgresUnavailable, startPostgres, type PostgresServer } from '../../support/postgresServer.mjs';
import { outcome, run } from './helpers';

const HOLDER: LockInfo = {
  pid: 4242,
  host: 'worker-a',
  runId: 'run-1',
  cell: 'full',
  startedAt: '2026-12-06T07:00:00Z',
};
const OTHER: LockInfo = { ...HOLDER, pid: 99, host: 'worker-b', runId: 'run-2' };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the PostgreSQL ledger while its database goes away: recorder and run lock', function () {
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
    place = { url: server.url, name: `outage-${places}` };
  });
  after(async () => server?.stop());

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
