import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadRunbook } from '../../src/cli/loadRunbook';
import { COMMITTED_WINDOW_PER_SLOT } from '../../src/core/ledger/ledger';
import { planHash } from '../../src/core/signoff/signOffPlan';
import { runCli, tempDir } from '../support/cli';
import { startCli, waitFor } from '../support/cliProcess';
import { keyOf, usePostgresLedger, writeFixtureRunbook } from '../support/runbookFixture';
import { postgresUnavailable, startPostgres, type PostgresServer } from '../support/postgresServer.mjs';
import { startTargetServer, type TargetServer } from '../support/targetServer';

const RECORDS = 600;
const CONCURRENCY = 4;

/** The fixture runbook with its environment's ledger in PostgreSQL, the URL a secret. */
function sharedLedgerRunbook(dir: string): string {
  const file = writeFixtureRunbook(dir, { records: RECORDS, rate: 300, concurrency: CONCURRENCY });
  usePostgresLedger(file);
  return file;
}

describe('a runbook whose ledger is in PostgreSQL', function () {
  this.timeout(180_000);
  let database: PostgresServer;
  let work: ReturnType<typeof tempDir>;
  let target: TargetServer;

  before(async function () {
    if (postgresUnavailable()) this.skip();
    database = await startPostgres({ password: 'ledger-CANARY-9f3k2' });
  });
  after(async () => database?.stop());
  beforeEach(async () => {
    work = tempDir('backfill-pg-ledger-');
    target = await startTargetServer(() => ({ delayMs: 3 }));
  });
  afterEach(async () => {
    await target.stop();
    work.cleanup();
  });

  /** Latest outcomes of the fixture's ledger, read from the database itself. */
  async function storedOutcomes(): Promise<{ key: string; status: string; idempotency_key: string }[]> {
    return database.query(
      `SELECT r.key, r.status, r.idempotency_key FROM backfill.records r
         JOIN backfill.chains c ON c.id = r.chain WHERE c.ledger = 'fixture-job'`,
    );
  }

  it('dry-runs, runs, survives kill -9 and resumes with every outcome in the database and none beside the runbook', async () => {
    const file = sharedLedgerRunbook(work.dir);
    const env = { LEDGER_URL: database.url };
    const vars = ['--var', `BASE_URL=${target.url}`];
    const dryRun = await runCli(['dry-run', file, '--cell', 'preview', ...vars], { env });
    assert.equal(dryRun.code, 0, dryRun.stdout + dryRun.stderr);
    assert.deepEqual(
      await database.query("SELECT cell, passed FROM backfill.dry_runs WHERE ledger = 'fixture-job'"),
      [{ cell: 'preview', passed: 1 }],
    );

    const args = ['run', file, '--cell', 'full', '--execute', '--no-progress', ...vars];
    const run = startCli(args, env);
    await waitFor(() => target.arrivals.length >= 150, 'a quarter of the records to arrive');
    run.child.kill('SIGKILL');
    await run.exited;
    const checkpointed = new Set((await storedOutcomes()).map((row) => row.key));
    assert.ok(checkpointed.size > 0, 'outcomes were committed before the kill');

    // What was sent is visible at once, from the database, to any reader.
    const status = await runCli(['status', file, '--json'], { env });
    assert.equal(status.code, 0, status.stderr);
    const full = (
      JSON.parse(status.stdout) as { cells: { cell: string; state: string; succeeded: number }[] }
    ).cells.find((cell) => cell.cell === 'full');
    assert.equal(full?.succeeded, checkpointed.size);

    const arrivedBefore = target.arrivals.length;
    const resumed = await runCli(args, { env });
    assert.equal(resumed.code, 0, resumed.stdout + resumed.stderr);

    // Exactly once by key: every record succeeded, each under one idempotency key, and no record whose
    // outcome was committed was sent again; only records in flight at the kill repeat.
    const rows = await storedOutcomes();
    assert.equal(rows.filter((row) => row.status === 'succeeded').length, RECORDS);
    const expected = Array.from({ length: RECORDS }, (_, i) => keyOf(i + 1));
    assert.deepEqual([...target.countsByKey().keys()].sort(), expected);
    for (const row of rows) {
      const keys = new Set(target.arrivals.filter((a) => a.key === row.key).map((a) => a.idempotencyKey));
      assert.deepEqual([...keys], [row.idempotency_key], row.key);
    }
    const resent = target.arrivals.slice(arrivedBefore).filter((a) => checkpointed.has(a.key));
    assert.deepEqual(resent, [], 'a committed record is never sent again');
    assert.ok(target.arrivals.length - RECORDS <= CONCURRENCY * (1 + COMMITTED_WINDOW_PER_SLOT));

    // Nothing of the ledger beside the runbook, and the password nowhere on disk.
    const stateDir = `${file}.d`;
    assert.equal(fs.existsSync(path.join(stateDir, 'ledger.sqlite')), false);
    for (const name of fs.readdirSync(stateDir)) {
      assert.doesNotMatch(fs.readFileSync(path.join(stateDir, name), 'utf8'), /CANARY/, name);
    }
    assert.doesNotMatch(fs.readFileSync(file, 'utf8'), /CANARY/);
    assert.doesNotMatch(resumed.stdout + resumed.stderr, /CANARY/);
  });

  it('refuses to run while the ledger URL secret is not set, before sending anything', async () => {
    const file = sharedLedgerRunbook(work.dir);
    const result = await runCli(
      ['run', file, '--cell', 'full', '--execute', '--var', `BASE_URL=${target.url}`],
      {
        env: { LEDGER_URL: undefined },
      },
    );
    assert.equal(result.code, 2, result.stdout + result.stderr);
    assert.match(
      result.stderr,
      /environments\.test\.ledger\.url: secret LEDGER_URL is not set: export LEDGER_URL=/,
    );
    assert.equal(target.arrivals.length, 0);
  });

  it('refuses a ledger URL written in the runbook with its password, at the line', async () => {
    const file = sharedLedgerRunbook(work.dir);
    fs.writeFileSync(
      file,
      fs
        .readFileSync(file, 'utf8')
        .replace('${secret:LEDGER_URL}', 'postgresql://backfill:hunter22@db:5432/x'),
    );
    const result = await runCli(['check', file]);
    assert.equal(result.code, 2, result.stdout + result.stderr);
    assert.match(
      result.stdout + result.stderr,
      /job\.backfill:\d+.*the URL holds a password written out .*\$\{secret:NAME\}/,
    );
  });

  it('refuses, at the line, a ledger URL whose password comes from ${env:…}, and takes ${env:…} for the user', async () => {
    const file = sharedLedgerRunbook(work.dir);
    const written = fs.readFileSync(file, 'utf8');
    const withUrl = (url: string) => fs.writeFileSync(file, written.replace('${secret:LEDGER_URL}', url));
    withUrl('postgresql://backfill:${env:LEDGER_PASSWORD}@db:5432/x');
    const refused = await runCli(['check', file]);
    assert.equal(refused.code, 2, refused.stdout + refused.stderr);
    assert.match(
      refused.stdout + refused.stderr,
      /job\.backfill:\d+.*the URL holds a password .*\$\{secret:NAME\}/,
    );
    withUrl('postgresql://${env:LEDGER_USER}:${secret:LEDGER_PASSWORD}@db:5432/x');
    const taken = await runCli(['check', file]);
    assert.equal(taken.code, 0, taken.stdout + taken.stderr);
  });

  it('holds a production sign-off to the one backfill sign recorded in PostgreSQL', async () => {
    const file = writeFixtureRunbook(work.dir, { records: 5, production: true, requiredItem: 'unchecked' });
    usePostgresLedger(file);
    const env = { LEDGER_URL: database.url };
    const vars = ['--env', 'prod', '--var', `BASE_URL=${target.url}`];
    const produce = () =>
      runCli(['run', file, '--cell', 'full', ...vars, '--production', '--confirm', 'fixture-job'], { env });
    assert.equal((await runCli(['dry-run', file, ...vars], { env })).code, 0);

    // Typed by hand for Mallory, with the very plan hash backfill would write: the ledger has no such sign-off.
    const runbook = loadRunbook(file);
    const checklist = runbook.cells.find((c) => c.kind === 'checklist')!;
    if (checklist.kind !== 'checklist') throw new Error('no checklist');
    const plan = planHash(runbook, checklist, { item: 'owner-approves', by: 'Mallory' });
    const unsigned = fs.readFileSync(file, 'utf8');
    fs.writeFileSync(
      file,
      unsigned.replace(
        '  required: true\n',
        `  required: true\n  checked: { by: "Mallory", at: "2026-12-06T10:00:00.000Z", plan: "${plan}" }\n`,
      ),
    );
    const typed = await produce();
    assert.equal(typed.code, 4, typed.stdout + typed.stderr);
    assert.match(typed.stderr, /item owner-approves: the ledger has no sign-off of this item by Mallory/);
    assert.equal(target.arrivals.length, 0, 'nothing sent while refused');

    fs.writeFileSync(file, unsigned);
    const signed = await runCli(['sign', file, '--item', 'owner-approves', '--as', 'Grace'], { env });
    assert.equal(signed.code, 0, signed.stderr);
    const recorded = await database.query<{ signed_by: string }>(
      "SELECT signed_by FROM backfill.signoffs WHERE ledger = 'fixture-job'",
    );
    assert.deepEqual(
      recorded.map((row) => row.signed_by),
      ['Grace'],
    );
    // As on another host: no ledger beside the runbook, only the shared one.
    fs.rmSync(`${file}.d`, { recursive: true, force: true });
    const proceeds = await produce();
    assert.equal(proceeds.code, 0, proceeds.stdout + proceeds.stderr);
    assert.equal(target.countsByKey().size, 5);
  });
});
