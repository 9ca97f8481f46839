import { strict as assert } from 'node:assert';
import { runCli } from '../support/cli';
import { cliWorkspace, ledgerRows } from '../support/cliWorkspace';
import { httpVerifyCell, keyOf, writeFixtureRunbook } from '../support/runbookFixture';
import { startStateService, type StateService } from '../support/stateService';

const RECORDS = 300;
/** Every 10th record is left wrong on its first write: every 20th dropped, the others stored wrong. */
const gap = (i: number) => i % 10 === 0;
const GAPS = Array.from({ length: RECORDS }, (_, i) => i + 1)
  .filter(gap)
  .map(keyOf);
/** The gap whose first re-send fails: it stays a gap, and only it is sent by the next re-backfill. */
const STUBBORN = keyOf(150);

/** Keys whose write count grew between two snapshots of the service. */
function written(before: Map<string, number>, service: StateService): string[] {
  return [...service.writes]
    .filter(([key, count]) => count > (before.get(key) ?? 0))
    .map(([key]) => key)
    .sort();
}

describe('backfill run --only unverified: re-sending the gaps a verification found', function () {
  this.timeout(120_000);
  const work = cliWorkspace();
  let service: StateService | undefined;
  afterEach(async () => {
    await service?.stop();
    service = undefined;
  });

  it('sends exactly the gaps, then only the gap whose re-send failed, and counts the chain right', async () => {
    service = await startStateService({
      plant: (key, body, earlier) => {
        const i = Number(key.slice(1));
        if (earlier > 0 || !gap(i)) return undefined;
        return i % 20 === 0 ? { drop: true } : { store: { ...body, amount: 0 } };
      },
      writeStatus: (key, earlier) => (key === STUBBORN && earlier === 1 ? 500 : undefined),
    });
    const file = writeFixtureRunbook(work.dir, {
      records: RECORDS,
      retries: 0,
      threshold: 1,
      extraCells: httpVerifyCell(),
    });
    const run = (...extra: string[]) => runCli(['run', file, '--var', `BASE_URL=${service!.url}`, ...extra]);
    assert.equal((await run('--cell', 'full', '--execute')).code, 0);
    const verified = await run('--cell', 'check');
    assert.equal(verified.code, 1, verified.stdout + verified.stderr);

    let before = new Map(service.writes);
    const resent = await run('--cell', 'full', '--execute', '--only', 'unverified');
    assert.equal(resent.code, 1, 'one of the 30 re-sends failed: ' + resent.stdout + resent.stderr);
    assert.deepEqual(written(before, service), GAPS.slice().sort());
    assert.match(resent.stdout, /299 succeeded, 1 failed, 0 rejected/, 'the chain, each gap counted once');
    // Judged on its own 30 records, and the one that failed is named with its reason.
    assert.match(resent.stdout, /Run below-threshold\./);
    assert.ok(
      resent.stdout.includes(`Failed records (first 1):\n    key ${STUBBORN}: HTTP 500`),
      resent.stdout,
    );

    before = new Map(service.writes);
    const again = await run('--cell', 'full', '--execute', '--only', 'unverified');
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.deepEqual(written(before, service), [STUBBORN]);
    assert.match(again.stdout, /300 succeeded, 0 failed, 0 rejected/);

    const rows = await ledgerRows(file, { cell: 'full' });
    assert.equal(rows.length, RECORDS);
    assert.ok(rows.every((row) => row.status === 'succeeded'));
    for (const key of GAPS) assert.equal(service.items.get(key)?.amount, Number(key.slice(1)) + 0.5, key);
  });
});
