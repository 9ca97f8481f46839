import { strict as assert } from 'node:assert';
import { runCli, tempDir } from '../support/cli';
import { writeFixtureRunbook, type FixtureOptions } from '../support/runbookFixture';
import { assertNoneLost, ledgerRows, validKeys } from './support/deliveryAudit';
import { FaultTarget, type Behaviour, type Fault } from './support/faultTarget';

/** An error budget that never halts: these tests are about what happens to each record. */
const NO_BUDGET = 'errorBudget:\n  maxFailureRatio: 1\n  maxConsecutiveFailures: 100000\n';

describe('target faults: every valid record ends delivered or recorded as failed, none lost', function () {
  this.timeout(60_000);
  let work: ReturnType<typeof tempDir>;
  let target: FaultTarget | undefined;

  beforeEach(() => (work = tempDir('backfill-faults-')));
  afterEach(async () => {
    await target?.stop();
    target = undefined;
    work.cleanup();
  });

  async function setUp(fixture: FixtureOptions, behave: Behaviour) {
    const started = await FaultTarget.start(behave);
    target = started;
    const file = writeFixtureRunbook(work.dir, fixture);
    const run = (...extra: string[]) =>
      runCli([
        'run',
        file,
        '--cell',
        'full',
        '--var',
        `BASE_URL=${started.url}`,
        '--execute',
        '--no-progress',
        ...extra,
      ]);
    return { file, target: started, run };
  }

  /** Answers `fault` to every request during the first `ms` milliseconds after the first one arrives. */
  function storm(ms: number, fault: Fault): { behave: Behaviour; served: () => number } {
    let startedAt: number | undefined;
    let served = 0;
    const behave: Behaviour = () => {
      startedAt ??= Date.now();
      if (Date.now() - startedAt >= ms) return {};
      served += 1;
      return fault;
    };
    return { behave, served: () => served };
  }

  it('rides out a 429 storm with Retry-After: every record is delivered, retries keep their key', async () => {
    const { behave, served } = storm(1500, { status: 429, headers: { 'Retry-After': '1' } });
    const { file, target, run } = await setUp({ records: 30, concurrency: 4, retries: 6 }, behave);
    const result = await run();
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.ok(served() >= 4, 'the storm really happened');
    const { received } = await assertNoneLost(file, target, validKeys(30));
    assert.deepEqual(received, validKeys(30));
    const retried = (await ledgerRows(file)).filter((r) => r.attempts > 1);
    assert.ok(retried.length >= 4, 'the records hit by the storm were retried');
  });

  it('rides out a 429 storm without Retry-After by backing off: every record is delivered', async () => {
    const { behave, served } = storm(1500, { status: 429 });
    const { file, target, run } = await setUp({ records: 30, concurrency: 4, retries: 10 }, behave);
    const result = await run();
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.ok(served() >= 4, 'the storm really happened');
    const { received } = await assertNoneLost(file, target, validKeys(30));
    assert.deepEqual(received, validKeys(30));
  });

  it('records the records that a 500 burst outlasted as failed, and --only failed delivers them', async () => {
    const doomed = new Set(['k00007', 'k00013']);
    let bursting = true;
    const { file, target, run } = await setUp(
      { records: 60, concurrency: 4, retries: 2, threshold: 1, executeExtra: NO_BUDGET },
      (request, n) =>
        bursting && (doomed.has(request.key) || (n % 30 >= 10 && n % 30 < 22))
          ? { status: 500, body: '{"error":"database unavailable"}' }
          : {},
    );
    const first = await run();
    assert.equal(first.code, 1, 'below its threshold of 100 %: ' + first.stdout + first.stderr);
    const { failed } = await assertNoneLost(file, target, validKeys(60));
    for (const key of doomed) assert.ok(failed.includes(key), `${key} is recorded as failed`);
    const failedRows = await ledgerRows(file, 'failed');
    assert.ok(failedRows.every((r) => r.attempts === 3 && r.httpStatus === 500));
    assert.ok(failedRows.every((r) => r.lastError?.includes('database unavailable')));

    bursting = false;
    const before = target.received.length;
    const again = await run('--only', 'failed');
    assert.equal(again.code, 0, again.stdout + again.stderr);
    const resent = target.received.slice(before).map((r) => r.key);
    assert.deepEqual([...new Set(resent)].sort(), failed, 'exactly the failed records were sent again');
    const final = await assertNoneLost(file, target, validKeys(60));
    assert.deepEqual(final.succeeded, validKeys(60));
  });

  it('retries answers slower than the timeout, and records a record that is always too slow as failed', async () => {
    const { file, target, run } = await setUp(
      { records: 24, concurrency: 4, retries: 2, timeoutMs: 500, threshold: 0.9 },
      (request, _n, attempt) =>
        request.key === 'k00005' || (attempt === 1 && Number(request.key.slice(1)) % 4 === 0)
          ? { delayMs: 2000 }
          : {},
    );
    const result = await run();
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const { failed, received } = await assertNoneLost(file, target, validKeys(24));
    assert.deepEqual(failed, ['k00005']);
    assert.deepEqual(received, validKeys(24), 'the slow record did reach the target, three times');
    const slow = (await ledgerRows(file)).find((r) => r.key === 'k00008')!;
    assert.equal(slow.status, 'succeeded');
    assert.equal(slow.attempts, 2);
  });

  it('records every record as failed while the target refuses connections, then --only failed delivers them all', async () => {
    const { file, target, run } = await setUp(
      { records: 20, concurrency: 4, retries: 2, threshold: 1, executeExtra: NO_BUDGET },
      () => ({}),
    );
    await target.stop();
    const down = await run();
    assert.equal(down.code, 1, down.stdout + down.stderr);
    const failed = await ledgerRows(file, 'failed');
    assert.deepEqual(failed.map((r) => r.key).sort(), validKeys(20));
    assert.ok(failed.every((r) => r.attempts === 3 && /connection refused/.test(r.lastError ?? '')));
    assert.equal(target.received.length, 0);

    await target.listen();
    const up = await run('--only', 'failed');
    assert.equal(up.code, 0, up.stdout + up.stderr);
    const { received } = await assertNoneLost(file, target, validKeys(20));
    assert.deepEqual(received, validKeys(20));
    assert.equal(target.received.length, 20, 'each record arrived once');
  });

  it('retries a response whose connection is reset after the headers, with the same idempotency key', async () => {
    const { file, target, run } = await setUp(
      { records: 30, concurrency: 4, retries: 3 },
      (request, _n, attempt) =>
        attempt === 1 && Number(request.key.slice(1)) % 3 === 0 ? { resetAfterHeaders: true } : {},
    );
    const result = await run();
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const { received } = await assertNoneLost(file, target, validKeys(30));
    assert.deepEqual(received, validKeys(30));
    const reset = target.received.filter((r) => r.key === 'k00009');
    assert.equal(reset.length, 2, 'the reset record was sent again');
  });

  it('survives the target restarting mid-run on the same port: nothing is lost, in-flight records are retried', async () => {
    let restarted = false;
    let atRestart = 0;
    const { file, target, run } = await setUp(
      { records: 150, rate: 150, concurrency: 4, retries: 6, threshold: 0.9 },
      (_request, n) => {
        if (n === 50) {
          setImmediate(() => void restart());
        }
        return {};
      },
    );
    const restart = async () => {
      await target.stop();
      atRestart = target.received.length;
      await new Promise((resolve) => setTimeout(resolve, 700));
      await target.listen();
      restarted = true;
    };
    const result = await run();
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.ok(restarted, 'the target was restarted during the run');
    assert.ok(target.received.length > atRestart, 'records were delivered after the restart');
    await assertNoneLost(file, target, validKeys(150));
  });
});
