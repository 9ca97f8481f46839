import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { COMMITTED_WINDOW_PER_SLOT } from '../../src/core/ledger/ledger';
import { sleep, waitFor, type RunningCli } from '../support/cliProcess';
import { keyOf } from '../support/runbookFixture';
import { usePostgresFleet } from '../support/postgresFleet';
import { startTargetServer, type TargetServer } from '../support/targetServer';

const RECORDS = 3000;
const CONCURRENCY = 4;
/** What may be sent while outcomes cannot be recorded: the units in flight and the durability window. */
const IN_FLIGHT_BOUND = CONCURRENCY * (1 + COMMITTED_WINDOW_PER_SLOT);

describe('a run on a PostgreSQL ledger while the database goes away', function () {
  this.timeout(180_000);
  const pg = usePostgresFleet('backfill-pg-outage-', { password: 'outage-CANARY-4h8d' });
  let target: TargetServer;
  beforeEach(async () => {
    target = await startTargetServer(() => ({ delayMs: 2 }));
  });
  afterEach(async () => target.stop());

  /** Hosts with the fixture runbook, its ledger in PostgreSQL; `backfill run` started on the first. */
  function startRun(hosts: string[], rate: number): string[] {
    const fixture = { records: RECORDS, rate, concurrency: CONCURRENCY };
    const files = hosts.map((name) => pg.host(name, fixture, '      chunkSize: 500\n'));
    cliOn(files[0]!, 'run');
    return files;
  }

  /** `backfill run FILE --cell full --execute` (the run's creator), or `backfill worker FILE --cell full`. */
  function cliOn(file: string, as: 'run' | 'worker'): RunningCli {
    return pg.startOn(file, as, target.url);
  }

  /**
   * Every process exited 0; every key arrived, each under the one idempotency key the ledger has and at
   * most the in-flight bound of them twice; the ledger holds every record succeeded and the run finished.
   */
  async function audit(processes = 1): Promise<void> {
    for (const cli of pg.started) {
      const code = await cli.exited;
      const output = cli.stdout() + cli.stderr();
      assert.equal(code, 0, output);
      assert.doesNotMatch(output, /CANARY/);
    }
    const rows = await pg.database.query<{ key: string; status: string; idempotency_key: string }>(
      `SELECT r.key, r.status, r.idempotency_key FROM backfill.records r
         JOIN backfill.chains c ON c.id = r.chain WHERE c.ledger = 'fixture-job'`,
    );
    assert.equal(rows.length, RECORDS);
    assert.deepEqual(
      rows.filter((row) => row.status !== 'succeeded'),
      [],
    );
    const expected = Array.from({ length: RECORDS }, (_, i) => keyOf(i + 1));
    assert.deepEqual([...target.countsByKey().keys()].sort(), expected);
    const sentUnder = new Map<string, Set<string | undefined>>();
    for (const arrival of target.arrivals) {
      const keys = sentUnder.get(arrival.key) ?? new Set();
      keys.add(arrival.idempotencyKey);
      sentUnder.set(arrival.key, keys);
    }
    for (const row of rows) assert.deepEqual([...sentUnder.get(row.key)!], [row.idempotency_key], row.key);
    assert.ok(
      target.arrivals.length - RECORDS <= processes * IN_FLIGHT_BOUND,
      `${target.arrivals.length - RECORDS} records sent twice`,
    );
    const runs = await pg.database.query<{ outcome: string }>(
      "SELECT outcome FROM backfill.runs WHERE ledger = 'fixture-job' AND cell = 'full'",
    );
    assert.deepEqual(
      runs.map((run) => run.outcome),
      ['succeeded'],
    );
  }

  it('carries on through pg_ctl restart, nothing lost and nothing sent twice', async () => {
    startRun(['a'], 400);
    await waitFor(() => target.arrivals.length >= 500, 'a sixth of the records to arrive', 30_000);
    await pg.database.restart();
    await audit();
  });

  it('stops sending while the database is stopped for 10 s, then carries on when it is back', async () => {
    const [file] = startRun(['a'], 300);
    await waitFor(() => target.arrivals.length >= 500, 'a sixth of the records to arrive', 30_000);
    await pg.database.down();
    const atStop = target.arrivals.length;
    await sleep(10_000);
    const whileDown = target.arrivals.length - atStop;
    // The live status says why nothing is sent.
    const status = JSON.parse(fs.readFileSync(path.join(`${file!}.d`, 'status.json'), 'utf8')) as {
      state: string;
      waiting?: string;
    };
    await pg.database.up();
    assert.ok(whileDown <= IN_FLIGHT_BOUND, `${whileDown} records sent while the ledger was down`);
    assert.equal(status.state, 'running');
    assert.match(status.waiting ?? '', /^for the ledger: reconnecting/);
    await audit();
  });

  it('carries on with a worker beside the run through a 10 s stop, each of them sending nothing meanwhile', async () => {
    const [, workerFile] = startRun(['a', 'b'], 300);
    await waitFor(() => target.arrivals.length >= 100, 'the run to start sending', 30_000);
    cliOn(workerFile!, 'worker');
    await waitFor(() => target.arrivals.length >= 800, 'a quarter of the records to arrive', 30_000);
    await pg.database.down();
    const atStop = target.arrivals.length;
    await sleep(10_000);
    const whileDown = target.arrivals.length - atStop;
    await pg.database.up();
    assert.ok(whileDown <= 2 * IN_FLIGHT_BOUND, `${whileDown} records sent while the ledger was down`);
    await audit(2);
    const workers = await pg.database.query(
      "SELECT DISTINCT worker FROM backfill.chunks WHERE ledger = 'fixture-job'",
    );
    assert.equal(workers.length, 2, 'both processes worked on chunks');
  });
});
