import { strict as assert } from 'node:assert';
import { runCli, tempDir } from '../support/cli';
import { httpVerifyCell, keyOf, writeFixtureRunbook } from '../support/runbookFixture';
import { startStateService, type StateService } from '../support/stateService';

const VERIFY_CELL = httpVerifyCell();

/** The plan of a gap re-send says the records it re-sends and how long they take, not its chain's size. */
describe('backfill run --only unverified plan', function () {
  this.timeout(120_000);
  let work: ReturnType<typeof tempDir>;
  let service: StateService;

  before(async () => {
    work = tempDir();
    // Every even record is lost on its first write: six gaps of twelve.
    service = await startStateService({
      plant: (key, _body, earlierWrites) =>
        earlierWrites === 0 && Number(key.slice(1)) % 2 === 0 ? { drop: true } : undefined,
    });
  });
  after(async () => {
    await service.stop();
    work.cleanup();
  });

  it('plans the six gaps of a twelve-record chain at the rate: Records: 6, estimated 2 s', async () => {
    const file = writeFixtureRunbook(work.dir, {
      records: 12,
      rate: 4,
      threshold: 1,
      extraCells: VERIFY_CELL,
    });
    const run = (...extra: string[]) => runCli(['run', file, '--var', `BASE_URL=${service.url}`, ...extra]);
    assert.equal((await run('--cell', 'full', '--execute')).code, 0);
    assert.equal((await run('--cell', 'check')).code, 1);

    const refilled = await run('--cell', 'full', '--execute', '--only', 'unverified', '--json');
    assert.equal(refilled.code, 0, refilled.stdout + refilled.stderr);
    const { plan } = JSON.parse(refilled.stdout) as {
      plan: { records: { sending: number }; total: number; estimatedSeconds: number };
    };
    assert.equal(plan.records.sending, 6);
    assert.equal(plan.estimatedSeconds, 1.5);
    assert.equal(plan.total, 12, 'the chain still holds twelve records');
    const gaps = [2, 4, 6, 8, 10, 12].map(keyOf);
    assert.deepEqual(
      gaps.map((key) => service.writes.get(key)),
      gaps.map(() => 2),
    );

    // The text says the same, for the next loop of the same kind.
    for (const key of [keyOf(3), keyOf(5)]) service.items.delete(key);
    assert.equal((await run('--cell', 'check', '--restart')).code, 1);
    const again = await run('--cell', 'full', '--execute', '--only', 'unverified');
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.match(
      again.stdout,
      /Re-backfilling the 2 records verification run \S+ found mismatched or missing/,
    );
    assert.match(again.stdout, /Records: 2 · rate 4\/s · concurrency 4 · estimated 1 s/);
    assert.equal(service.writes.get(keyOf(3)), 2);
  });
});
