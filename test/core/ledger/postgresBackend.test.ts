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
    const scan = await journal.checkpoint();
    assert.equal(scan.entries, 5);
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

  it('stops recording when its connection is lost, and nothing of the lost group is in the ledger', async () => {
    const { ledger, journal } = await postgresBackend(place).openForRun('unused.backfill');
    journal.append({ type: 'run-start', run: run('run-1') });
    await journal.flush();
    for (let i = 0; i < 100; i += 1)
      journal.append({ type: 'outcome', outcome: outcome(`k${i}`, { line: i + 2 }) });
    // The database ends the session, as it does when the network drops or an operator kills it.
    await server.query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'postgres' AND pid <> pg_backend_pid() AND backend_type = 'client backend'",
    );
    await assert.rejects(journal.flush(), (error: Error) => {
      assert.ok(error instanceof UserError);
      assert.match(
        error.message,
        /could not be written .*the run must stop; .*sent again, with the same idempotency key/,
      );
      return true;
    });
    assert.throws(() => journal.append({ type: 'outcome', outcome: outcome('late') }), UserError);
    await journal.close();
    await ledger.close().catch(() => undefined);
    const reader = await PostgresLedger.open(place);
    try {
      assert.deepEqual(await all(reader.outcomes()), []);
      assert.equal((await reader.runs())[0]?.outcome, 'running');
    } finally {
      await reader.close();
    }
  });

  it('lets one run hold the run lock and tells a second who holds it', async () => {
    const lock = await lockPostgresRuns(place, HOLDER);
    try {
      await assert.rejects(
        lockPostgresRuns(place, { ...HOLDER, pid: 1, host: 'worker-b' }),
        (error: Error) => {
          assert.ok(error instanceof UserError);
          assert.match(error.message, /already being run by pid 4242 on worker-a .*\(run run-1, cell full\)/);
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
});
