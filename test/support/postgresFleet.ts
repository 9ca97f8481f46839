import * as fs from 'node:fs';
import * as path from 'node:path';
import { tempDir } from './cli';
import { killAll, startCli, type RunningCli } from './cliProcess';
import { postgresUnavailable, startPostgres, type PostgresServer } from './postgresServer.mjs';
import { usePostgresLedger, writeFixtureRunbook, type FixtureOptions } from './runbookFixture';

/** The suite's PostgreSQL server and this test's folder and processes (see {@link usePostgresFleet}). */
export interface PostgresFleet {
  /** The suite's server, started in its `before`. */
  readonly database: PostgresServer;
  /** This test's temporary folder, removed after it. */
  readonly work: { dir: string; cleanup: () => void };
  /** The processes this test started through {@link start}, in order. */
  readonly started: readonly RunningCli[];
  /** What every process needs for its ledger: the secret LEDGER_URL. */
  env(): { LEDGER_URL: string };
  /** `backfill ARGS`, with the ledger's secret and `env`; killed after the test if still running. */
  start(args: string[], env?: NodeJS.ProcessEnv): RunningCli;
  /**
   * `backfill run FILE --cell full --execute` (the run's creator) or `backfill worker FILE --cell full`,
   * sending to the target at `baseUrl`.
   */
  startOn(file: string, as: 'run' | 'worker', baseUrl: string): RunningCli;
  /**
   * A "host": its own folder `name` in {@link work} with the fixture runbook and its records, the
   * environment's ledger in PostgreSQL (the URL a secret) with `ledgerExtra` settings — the same runbook
   * and data on every host, as a worker on another machine has them.
   */
  host(name: string, fixture: FixtureOptions, ledgerExtra?: string): string;
}

/**
 * The set-up of the CLI tests of runs whose ledger is in PostgreSQL, registered as the calling suite's
 * mocha hooks: one server for the suite (skipped where PostgreSQL cannot run), and for each test a new
 * folder and no `backfill` schema left by the test before, and after it every process it started killed
 * and awaited, so none outlives its test or writes into the next one's ledger.
 */
export function usePostgresFleet(tempPrefix: string, server: { password?: string } = {}): PostgresFleet {
  let database: PostgresServer | undefined;
  let work: { dir: string; cleanup: () => void } | undefined;
  const started: RunningCli[] = [];
  before(async function () {
    if (postgresUnavailable()) this.skip();
    database = await startPostgres(server);
  });
  after(async () => database?.stop());
  beforeEach(async () => {
    work = tempDir(tempPrefix);
    await fleet.database.query('DROP SCHEMA IF EXISTS backfill CASCADE');
  });
  afterEach(async () => {
    await killAll(started);
    work?.cleanup();
  });
  const fleet: PostgresFleet = {
    get database() {
      if (!database) throw new Error("the PostgreSQL server is started in the suite's before hook");
      return database;
    },
    get work() {
      if (!work) throw new Error('the test folder is made in the beforeEach hook');
      return work;
    },
    started,
    env: () => ({ LEDGER_URL: fleet.database.url }),
    start(args, env = {}) {
      const cli = startCli(args, { ...fleet.env(), ...env });
      started.push(cli);
      return cli;
    },
    startOn(file, as, baseUrl) {
      const execute = as === 'run' ? ['--execute'] : [];
      return fleet.start([
        as,
        file,
        '--cell',
        'full',
        ...execute,
        '--no-progress',
        '--var',
        `BASE_URL=${baseUrl}`,
      ]);
    },
    host(name, fixture, ledgerExtra = '') {
      const dir = path.join(fleet.work.dir, name);
      fs.mkdirSync(dir);
      const file = writeFixtureRunbook(dir, fixture);
      usePostgresLedger(file, ledgerExtra);
      return file;
    },
  };
  return fleet;
}
