import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runCli } from '../support/cli';
import { cliWorkspace } from '../support/cliWorkspace';
import { keyOf, writeFixtureRunbook } from '../support/runbookFixture';

interface JsonResult {
  outcome: string;
  status: { done: number; skipped: number; succeeded: number; failed: number; rejected: number };
}

/** What a resume says it skipped. */
describe('backfill run resume counts', function () {
  this.timeout(120_000);
  const work = cliWorkspace();

  it('counts as skipped every record the halted run finished, malformed rows without a key included', async () => {
    let failing = true;
    const target = await work.serve((arrival) =>
      failing && arrival.key === keyOf(60) ? { status: 500 } : {},
    );
    const file = writeFixtureRunbook(work.dir, {
      records: 0,
      retries: 0,
      concurrency: 1,
      executeExtra: 'errorBudget:\n  maxConsecutiveFailures: 1\n',
    });
    // Two rows with no key (recorded as line:N) and one with a key, all rejected, before the valid ones.
    const rows = ['id,amount', ',1.5', 'bad1,not-a-number', ',2.5'];
    for (let i = 1; i <= 100; i += 1) rows.push(`${keyOf(i)},${i}.5`);
    fs.writeFileSync(path.join(work.dir, 'records.csv'), rows.join('\n') + '\n');
    const run = () =>
      runCli(['run', file, '--cell', 'full', '--var', `BASE_URL=${target.url}`, '--execute', '--json']);

    const halted = await run();
    assert.equal(halted.code, 3, halted.stdout + halted.stderr);
    const first = JSON.parse(halted.stdout) as JsonResult;
    assert.equal(first.outcome, 'halted');
    assert.equal(first.status.rejected, 3);
    const finished = new Set(target.arrivals.map((arrival) => arrival.key));

    failing = false;
    const resumed = await run();
    assert.equal(resumed.code, 0, resumed.stdout + resumed.stderr);
    const second = JSON.parse(resumed.stdout) as JsonResult;
    assert.equal(second.status.skipped, first.status.done, 'every record done before is skipped');
    assert.equal(second.status.skipped, finished.size + 3);
    assert.equal(second.status.done, 103);
    assert.equal(second.status.rejected, 3);
    const sentTwice = [...target.countsByKey()].filter(([, n]) => n > 1).map(([key]) => key);
    assert.deepEqual(sentTwice, [], 'the resume sends no finished record again');
  });
});
