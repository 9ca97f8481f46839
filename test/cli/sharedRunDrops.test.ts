import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import { resolveEnvironment } from '../../src/core/job/environment';
import { findCell, parseRunbook, type RunnableCell } from '../../src/core/format/runbook';
import { resolveJob } from '../../src/core/job/job';
import { runBackfill } from '../../src/core/run/runner';
import { tempDir } from '../support/cli';
import { keyOf, usePostgresLedger, writeFixtureRunbook } from '../support/runbookFixture';
import { postgresUnavailable, startPostgres, type PostgresServer } from '../support/postgresServer.mjs';
import { startTargetServer, type TargetServer } from '../support/targetServer';

describe('a run shared through a PostgreSQL ledger whose dispatcher lost records', function () {
  this.timeout(120_000);
  let database: PostgresServer;
  let work: ReturnType<typeof tempDir>;
  let target: TargetServer;

  before(async function () {
    if (postgresUnavailable()) this.skip();
    database = await startPostgres();
  });
  after(async () => database?.stop());
  beforeEach(async () => {
    work = tempDir('backfill-pg-drops-');
    target = await startTargetServer();
  });
  afterEach(async () => {
    await target.stop();
    work.cleanup();
  });

  it('halts saying how many records have no outcome, records that end, and a resume sends exactly those', async () => {
    const file = writeFixtureRunbook(work.dir, { records: 6 });
    usePostgresLedger(file);
    const { runbook } = parseRunbook(fs.readFileSync(file, 'utf8'), file);
    assert.ok(runbook);
    const job = resolveJob(runbook, findCell(runbook, 'full') as RunnableCell);
    const options = {
      runbook,
      job,
      environment: resolveEnvironment(runbook.header, undefined, { BASE_URL: target.url }),
      mode: 'execute' as const,
      secretValues: { LEDGER_URL: database.url },
      operator: 'test',
    };
    const dropped = new Set([keyOf(2), keyOf(5)]);
    const result = await runBackfill({ ...options, testDropRecord: (key) => dropped.has(key) });
    assert.equal(result.outcome, 'halted', 'halted, so the CLI exits 3');
    assert.match(
      result.reason ?? '',
      /^unaccounted records: 2 of the records this worker read have no outcome \(its chunk 0 cannot be marked done\)/,
    );
    const runs = await database.query<{ outcome: string; reason: string }>(
      "SELECT outcome, reason FROM backfill.runs WHERE ledger = 'fixture-job'",
    );
    assert.deepEqual(runs, [{ outcome: 'halted', reason: result.reason }], 'the halt is on record');
    assert.deepEqual(target.arrivals.map((a) => a.key).sort(), [1, 3, 4, 6].map(keyOf));

    const resumed = await runBackfill(options);
    assert.equal(resumed.outcome, 'succeeded', resumed.reason);
    assert.deepEqual(
      target.arrivals.map((a) => a.key).sort(),
      [1, 2, 3, 4, 5, 6].map(keyOf),
      'the resume sent the two records without an outcome, and only them',
    );
  });
});
