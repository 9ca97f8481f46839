import { strict as assert } from 'node:assert';
import { runCli, tempDir } from '../support/cli';
import { httpVerifyCell, keyOf, writeFixtureRunbook } from '../support/runbookFixture';
import { startStateService, type StateService } from '../support/stateService';

const RECORDS = 100_000;

/** Every 100th record is left wrong by the service on its first write: half with a wrong amount, half not at all. */
const plantedMismatch = (i: number) => i % 100 === 0 && i % 200 !== 0;
const plantedMissing = (i: number) => i % 200 === 0;

const VERIFY_CELL = httpVerifyCell('    tolerance: 0.001\n');

interface Row {
  key: string;
  status: string;
  expected?: string;
  actual?: string;
}

describe('verification and gap re-backfill of 100,000 records', function () {
  this.timeout(600_000);
  let work: ReturnType<typeof tempDir>;
  let service: StateService;

  before(async () => {
    work = tempDir();
    service = await startStateService({
      plant: (key, body, earlierWrites) => {
        if (earlierWrites > 0) return undefined; // the re-backfill lands as sent
        const i = Number(key.slice(1));
        if (plantedMissing(i)) return { drop: true };
        if (plantedMismatch(i)) return { store: { ...body, amount: Number(body.amount) + 1 } };
        return undefined;
      },
    });
  });
  after(async () => {
    await service.stop();
    work.cleanup();
  });

  const keysWhere = (planted: (i: number) => boolean) =>
    Array.from({ length: RECORDS }, (_, i) => i + 1)
      .filter(planted)
      .map(keyOf)
      .sort();

  async function exported(file: string, status: string): Promise<Row[]> {
    const result = await runCli(['ledger', file, '--cell', 'check', '--status', status, '--format', 'jsonl']);
    assert.equal(result.code, 0, result.stderr);
    return result.stdout
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Row);
  }

  /** Keys whose count in `after` is above the one in `before`, each with how many more. */
  function grown(before: Map<string, number>, after: Map<string, number>): Map<string, number> {
    const grew = new Map<string, number>();
    for (const [key, count] of after)
      if (count > (before.get(key) ?? 0)) grew.set(key, count - (before.get(key) ?? 0));
    return grew;
  }

  it('finds exactly the planted 1 %, re-backfills exactly those, and then verifies every record', async () => {
    const started = Date.now();
    const file = writeFixtureRunbook(work.dir, {
      records: RECORDS,
      rate: 20_000,
      concurrency: 32,
      threshold: 1,
      extraCells: VERIFY_CELL,
    });
    const run = (...extra: string[]) => runCli(['run', file, '--var', `BASE_URL=${service.url}`, ...extra]);

    const executed = await run('--cell', 'full', '--execute');
    assert.equal(executed.code, 0, executed.stdout + executed.stderr);
    assert.equal(service.writes.size, RECORDS);
    assert.equal(service.items.size, RECORDS - keysWhere(plantedMissing).length);

    const verified = await run('--cell', 'check');
    assert.equal(verified.code, 1, verified.stdout + verified.stderr);
    const mismatches = await exported(file, 'mismatch');
    const missing = await exported(file, 'missing');
    assert.deepEqual(mismatches.map((row) => row.key).sort(), keysWhere(plantedMismatch));
    assert.deepEqual(missing.map((row) => row.key).sort(), keysWhere(plantedMissing));
    const first = mismatches.find((row) => row.key === keyOf(100))!;
    assert.deepEqual(JSON.parse(first.expected!), { amount: 100.5 });
    assert.deepEqual(JSON.parse(first.actual!), { amount: 101.5 });

    const writesBefore = new Map(service.writes);
    const keysBefore = new Map([...service.idempotencyKeys].map(([key, keys]) => [key, keys[0]]));
    const refilled = await run('--cell', 'full', '--execute', '--only', 'unverified');
    assert.equal(refilled.code, 0, refilled.stdout + refilled.stderr);
    const rewritten = grown(writesBefore, service.writes);
    const gaps = [...keysWhere(plantedMismatch), ...keysWhere(plantedMissing)].sort();
    assert.deepEqual([...rewritten.keys()].sort(), gaps);
    assert.ok(
      [...rewritten.values()].every((n) => n === 1),
      'each gap is sent once',
    );
    // A new loop, a new key: a target that de-duplicates by key must not ignore the fix.
    assert.ok(gaps.every((key) => service.idempotencyKeys.get(key)![1] !== keysBefore.get(key)));
    for (let i = 1; i <= RECORDS; i += 1) {
      assert.deepEqual(
        service.items.get(keyOf(i)),
        { id: keyOf(i), amount: i + 0.5 },
        `${keyOf(i)} is right`,
      );
    }

    const readsBefore = new Map(service.reads);
    const rechecked = await run('--cell', 'check', '--only', 'unverified');
    assert.equal(rechecked.code, 0, rechecked.stdout + rechecked.stderr);
    assert.deepEqual([...grown(readsBefore, service.reads).keys()].sort(), gaps);
    assert.deepEqual(await exported(file, 'unverified'), []);
    const status = JSON.parse((await runCli(['status', file, '--json'])).stdout) as {
      cells: { cell: string; verification?: object; history: { what: string }[] }[];
    };
    const check = status.cells.find((cell) => cell.cell === 'check')!;
    assert.deepEqual(check.verification, { verified: RECORDS, mismatch: 0, missing: 0, error: 0 });
    assert.deepEqual(
      check.history.map((entry) => entry.what),
      ['run', 'only unverified'],
    );
    const full = status.cells.find((cell) => cell.cell === 'full')!;
    assert.deepEqual(
      full.history.map((entry) => entry.what),
      ['run', 'only unverified'],
    );
    process.stdout.write(
      `      (100,000 records: execute, verify, re-backfill, re-check in ${Date.now() - started} ms)\n`,
    );
  });
});
