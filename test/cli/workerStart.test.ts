import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tempDir } from '../support/cli';
import { killAll, sleep, startCli, waitFor, type RunningCli } from '../support/cliProcess';
import { postgresUnavailable, startPostgres, type PostgresServer } from '../support/postgresServer.mjs';
import {
  keyOf,
  usePostgresLedger,
  writeFixtureRunbook,
  type FixtureOptions,
} from '../support/runbookFixture';
import { startTargetServer, type TargetServer } from '../support/targetServer';

/** The line a worker says once when its ledger's database cannot be reached. */
const DATABASE_WAIT =
  /waiting for the ledger's database \(cannot connect to PostgreSQL at 127\.0\.0\.1:\d+\/postgres: .*ECONNREFUSED.*\): retrying for up to \d+ s \(environments\.test\.ledger\.outageSeconds\)/;

/** How many lines of `text` say that. */
function databaseWaits(text: string): number {
  return text.split('\n').filter((line) => DATABASE_WAIT.test(line)).length;
}

/**
 * A worker started before what it needs is there, as a scheduler starts everything at once: its ledger's
 * PostgreSQL (a proxy sidecar not up yet), and the run it joins. Real processes, a real server stopped
 * and started, a counting target.
 */
describe('backfill worker started before its database and its run', function () {
  this.timeout(180_000);
  let database: PostgresServer;
  let work: ReturnType<typeof tempDir>;
  let target: TargetServer;
  let hosts = 0;
  const started: RunningCli[] = [];

  before(async function () {
    if (postgresUnavailable()) this.skip();
    database = await startPostgres();
  });
  after(async () => database?.stop());
  beforeEach(async () => {
    work = tempDir('backfill-worker-start-');
    target = await startTargetServer(() => ({ delayMs: 2 }));
    await database.up().catch(() => undefined); // a test that failed with the server down
    await database.query('DROP SCHEMA IF EXISTS backfill CASCADE');
  });
  afterEach(async () => {
    await killAll(started);
    await target?.stop();
    await database.up().catch(() => undefined);
    work.cleanup();
  });

  /** A host's copy of the fixture runbook, its ledger in PostgreSQL with `ledgerExtra` settings. */
  function newHost(fixture: FixtureOptions, ledgerExtra = '      chunkSize: 100\n'): string {
    const dir = path.join(work.dir, `h${(hosts += 1)}`);
    fs.mkdirSync(dir);
    const file = writeFixtureRunbook(dir, fixture);
    usePostgresLedger(file, ledgerExtra);
    return file;
  }

  function start(as: 'run' | 'worker', file: string, extra: string[] = []): RunningCli {
    const execute = as === 'run' ? ['--execute'] : [];
    const args = [as, file, '--cell', 'full', ...execute, '--no-progress', '--var', `BASE_URL=${target.url}`];
    const cli = startCli([...args, ...extra], { LEDGER_URL: database.url });
    started.push(cli);
    return cli;
  }

  it('waits for its stopped database and then for the run, joins it, and every key reaches the target once', async () => {
    const records = 3000;
    const fixture = { records, rate: 600, concurrency: 8 };
    await database.down();
    const worker = start('worker', newHost(fixture));
    await waitFor(() => DATABASE_WAIT.test(worker.stderr()), 'the worker to say it waits', 30_000);
    await sleep(3000);
    assert.equal(worker.child.exitCode, null, `the worker gave up: ${worker.stderr()}`);
    await database.up();
    // The database is back; the run is not there yet: the worker waits for it too.
    await waitFor(() => /waiting for a live run of cell full/.test(worker.stderr()), 'the run wait', 30_000);
    assert.equal(target.arrivals.length, 0);
    const run = start('run', newHost(fixture));
    const codes = await Promise.all([run.exited, worker.exited]);
    const output = [run, worker].map((cli) => cli.stdout() + cli.stderr()).join('\n----\n');
    assert.deepEqual(codes, [0, 0], output);
    assert.equal(databaseWaits(worker.stderr()), 1, `said once: ${worker.stderr()}`);
    // The worker worked: chunks done under its pid, as the ledger holds them.
    const done = await database.query<{ n: number }>(
      `SELECT COUNT(*)::int AS n FROM backfill.chunks WHERE state = 'done' AND split_part(worker, ':', 2) = $1`,
      [String(worker.child.pid)],
    );
    assert.ok(done[0]!.n > 0, `the worker did no chunk: ${output}`);
    // Every key once at the target, and the ledger holds each as succeeded.
    const counts = target.countsByKey();
    assert.deepEqual(
      [...counts.keys()].sort(),
      Array.from({ length: records }, (_, i) => keyOf(i + 1)),
    );
    assert.deepEqual([...new Set(counts.values())], [1]);
    const [stored] = await database.query<{ n: number }>(
      "SELECT COUNT(*)::int AS n FROM backfill.records WHERE status = 'succeeded'",
    );
    assert.equal(stored!.n, records);
  });

  it('gives up on a database that never comes after its outageSeconds, naming the setting, and sends nothing', async () => {
    await database.down();
    const worker = start('worker', newHost({ records: 20 }, '      outageSeconds: 2\n'));
    const code = await Promise.race([worker.exited, sleep(60_000).then(() => 'still waiting')]);
    assert.equal(code, 2, worker.stdout() + worker.stderr());
    assert.equal(databaseWaits(worker.stderr()), 1, worker.stderr());
    assert.match(
      worker.stderr(),
      /the ledger's database could not be reached within 2 s of this worker's start, as long as environments\.test\.ledger\.outageSeconds lets it wait .*ECONNREFUSED.*: start the database .* or raise environments\.test\.ledger\.outageSeconds/,
    );
    assert.equal(target.arrivals.length, 0);
  });

  it('gives up on a run that is never created after --wait-for-run, saying how to start it', async () => {
    const worker = start('worker', newHost({ records: 20 }), ['--wait-for-run', '1']);
    assert.equal(await worker.exited, 2, worker.stdout() + worker.stderr());
    assert.match(worker.stderr(), /waiting for a live run of cell full in PostgreSQL .*, for up to 1 s/);
    assert.match(
      worker.stderr(),
      /no live run of cell full in PostgreSQL .*: start it with backfill run .* --cell full .* first \(this worker waited 1 s for it: --wait-for-run SECONDS\)/,
    );
    assert.equal(target.arrivals.length, 0);
  });
});
