import { strict as assert } from 'node:assert';
import { runCli } from '../support/cli';
import { cliWorkspace } from '../support/cliWorkspace';
import { httpVerifyCell, keyOf, writeFixtureRunbook } from '../support/runbookFixture';

/** The number in the plan line "Records: N …", as printed. */
function plannedCount(stdout: string): string {
  const line = /^ {2}Records: ([^·]+) ·/m.exec(stdout);
  assert.ok(line, stdout);
  return line[1]!.trim();
}

/**
 * The plan line of a run that no dry run counted for: a fresh run, its resume and a verification say the
 * real number of records (the source read once up front), never "all selected".
 */
describe('backfill run plan line without a dry run', function () {
  this.timeout(120_000);
  const work = cliWorkspace();

  it('counts the records of a fresh run, of its resume and of a verification, and sends that many', async () => {
    let failing = true;
    const target = await work.serve((arrival) =>
      failing && arrival.method === 'POST' && arrival.key === keyOf(31) ? { status: 500 } : {},
    );
    const file = writeFixtureRunbook(work.dir, {
      records: 80,
      malformed: 3,
      retries: 0,
      concurrency: 1,
      executeExtra: 'errorBudget:\n  maxConsecutiveFailures: 1\n',
      extraCells: httpVerifyCell(),
    });
    const vars = ['--var', `BASE_URL=${target.url}`];
    const run = (cell: string) => runCli(['run', file, '--cell', cell, ...vars, '--execute']);

    const fresh = await run('full');
    assert.equal(fresh.code, 3, fresh.stdout + fresh.stderr);
    assert.equal(plannedCount(fresh.stdout), '80', 'the 80 valid records of 83 rows');
    assert.match(fresh.stdout, /Stop it with Ctrl-C, backfill control \S+job\.backfill stop/);
    const sentFirst = new Set(target.arrivals.map((a) => a.key)).size;

    failing = false;
    const resumed = await run('full');
    assert.equal(resumed.code, 0, resumed.stdout + resumed.stderr);
    assert.match(resumed.stdout, /resuming chain/);
    const resent = target.arrivals.length - sentFirst;
    // What the plan says the resume sends is what the target then receives.
    assert.equal(plannedCount(resumed.stdout), `${resent} of 80`, resumed.stdout);

    const verified = await run('check');
    assert.equal(plannedCount(verified.stdout), '80', verified.stdout);
    assert.doesNotMatch(fresh.stdout + resumed.stdout + verified.stdout, /all selected|unknown/);
  });
});
