import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runCli, tempDir } from '../support/cli';
import { sleep, startCli, waitFor } from '../support/cliProcess';
import { keyOf, writeFixtureRunbook, type FixtureOptions } from '../support/runbookFixture';
import { startTargetServer, type Answer, type Arrival, type TargetServer } from '../support/targetServer';

interface LedgerRow {
  key: string;
  status: string;
  attempts: number;
  idempotencyKey: string;
  httpStatus?: number;
}

describe('backfill run', function () {
  this.timeout(120_000);
  let work: ReturnType<typeof tempDir>;
  let server: TargetServer | undefined;

  beforeEach(() => (work = tempDir()));
  afterEach(async () => {
    await server?.stop();
    server = undefined;
    work.cleanup();
  });

  async function setUp(
    fixture: FixtureOptions,
    behave?: (arrival: Arrival, attempt: number) => Answer,
  ): Promise<{ file: string; target: TargetServer; args: (...extra: string[]) => string[] }> {
    const target = await startTargetServer(behave);
    server = target;
    const file = writeFixtureRunbook(work.dir, fixture);
    const args = (...extra: string[]) => [
      'run',
      file,
      '--cell',
      'full',
      '--var',
      `BASE_URL=${target.url}`,
      ...extra,
    ];
    return { file, target, args };
  }

  async function ledgerRows(file: string, status?: string): Promise<LedgerRow[]> {
    const result = await runCli([
      'ledger',
      file,
      '--format',
      'jsonl',
      ...(status ? ['--status', status] : []),
    ]);
    assert.equal(result.code, 0, result.stderr);
    return result.stdout
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as LedgerRow);
  }

  function validKeys(count: number): string[] {
    return Array.from({ length: count }, (_, i) => keyOf(i + 1));
  }

  it('performs a dry run and sends nothing without --execute', async () => {
    const { target, args } = await setUp({ records: 20 });
    const result = await runCli(args());
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /performing a dry run/);
    assert.equal(target.arrivals.length, 0);
  });

  it('delivers every valid record exactly once, never a rejected one, and the ledger agrees', async () => {
    const { file, target, args } = await setUp({ records: 300, malformed: 5 });
    const result = await runCli(args('--execute'));
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const counts = target.countsByKey();
    assert.deepEqual([...counts.keys()].sort(), validKeys(300));
    assert.ok([...counts.values()].every((n) => n === 1));
    assert.ok(!target.arrivals.some((a) => a.key.startsWith('bad')));
    const rows = await ledgerRows(file);
    const succeeded = rows.filter((r) => r.status === 'succeeded').map((r) => r.key);
    assert.deepEqual(succeeded.sort(), validKeys(300));
    assert.equal(rows.filter((r) => r.status === 'rejected').length, 5);
    const sentKey = new Map(target.arrivals.map((a) => [a.key, a.idempotencyKey]));
    for (const row of rows.filter((r) => r.status === 'succeeded')) {
      assert.equal(row.idempotencyKey, sentKey.get(row.key));
    }
    const arrival = target.arrivals.find((a) => a.key === 'k00007')!;
    assert.equal(arrival.method, 'POST');
    assert.deepEqual(JSON.parse(arrival.body), { id: 'k00007', amount: 7.5 });
  });

  it('prints no Node warning on stderr at high concurrency (abort listeners are bounded, not leaked)', async () => {
    const { target, args } = await setUp({ records: 1500, rate: 100000, concurrency: 32 }, () => ({
      delayMs: 5,
    }));
    const result = await runCli(args('--execute'));
    assert.equal(result.code, 0, result.stderr);
    assert.equal(target.countsByKey().size, 1500);
    assert.doesNotMatch(result.stderr, /Warning/);
  });

  it('never exceeds the concurrency cap nor the rate in any one-second window', async () => {
    const { target, args } = await setUp({ records: 120, rate: 40, concurrency: 3 }, () => ({ delayMs: 40 }));
    const result = await runCli(args('--execute'));
    assert.equal(result.code, 0, result.stderr);
    assert.equal(target.arrivals.length, 120);
    assert.ok(target.maxInFlight <= 3, `max in flight ${target.maxInFlight}`);
    // Stated tolerance: one permit, for a window that starts exactly on a grant.
    assert.ok(target.busiestWindow(1000) <= 41, `busiest second held ${target.busiestWindow(1000)} requests`);
  });

  it('honours Retry-After on a 429 before sending the record again', async () => {
    const { file, target, args } = await setUp({ records: 5, concurrency: 1 }, (arrival, attempt) =>
      arrival.key === 'k00002' && attempt === 1 ? { status: 429, headers: { 'Retry-After': '1' } } : {},
    );
    const result = await runCli(args('--execute'));
    assert.equal(result.code, 0, result.stderr);
    const tries = target.arrivals.filter((a) => a.key === 'k00002');
    assert.equal(tries.length, 2);
    assert.ok(tries[1]!.at - tries[0]!.at >= 1000, `retried after ${tries[1]!.at - tries[0]!.at} ms`);
    assert.equal(tries[0]!.idempotencyKey, tries[1]!.idempotencyKey);
    const row = (await ledgerRows(file)).find((r) => r.key === 'k00002')!;
    assert.equal(row.status, 'succeeded');
    assert.equal(row.attempts, 2);
  });

  it('retries a 500 up to the limit, then records the record as failed', async () => {
    const { file, target, args } = await setUp({ records: 10, retries: 2, threshold: 1 }, (arrival) =>
      arrival.key === 'k00003' ? { status: 500 } : {},
    );
    const result = await runCli(args('--execute'));
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.equal(target.arrivals.filter((a) => a.key === 'k00003').length, 3);
    const failed = await ledgerRows(file, 'failed');
    assert.deepEqual(
      failed.map((r) => [r.key, r.attempts, r.httpStatus]),
      [['k00003', 3, 500]],
    );
  });

  it('halts with exit 3 when the error budget is spent, and resumes', async () => {
    let broken = true;
    const { file, target, args } = await setUp(
      {
        records: 200,
        retries: 0,
        concurrency: 2,
        rate: 200,
        executeExtra: 'errorBudget:\n  maxConsecutiveFailures: 5\n',
      },
      () => (broken ? { status: 500 } : {}),
    );
    const halted = await runCli(args('--execute'));
    assert.equal(halted.code, 3, halted.stdout + halted.stderr);
    assert.match(halted.stdout, /5 consecutive failures/);
    assert.ok(target.arrivals.length <= 5 + 2, `${target.arrivals.length} requests before halting`);
    broken = false;
    const resumed = await runCli(args('--execute'));
    assert.equal(resumed.code, 0, resumed.stdout + resumed.stderr);
    const succeeded = (await ledgerRows(file, 'succeeded')).map((r) => r.key).sort();
    const failed = (await ledgerRows(file, 'failed')).map((r) => r.key).sort();
    assert.deepEqual([...succeeded, ...failed].sort(), validKeys(200));
  });

  it('re-runs exactly the failed records with --only failed', async () => {
    const failing = new Set(['k00004', 'k00017', 'k00033']);
    let fixed = false;
    const { target, args } = await setUp({ records: 40, retries: 0 }, (arrival) =>
      !fixed && failing.has(arrival.key) ? { status: 500 } : {},
    );
    const first = await runCli(args('--execute'));
    assert.equal(first.code, 0, first.stdout + first.stderr);
    const before = target.arrivals.length;
    fixed = true;
    const again = await runCli(args('--execute', '--only', 'failed'));
    assert.equal(again.code, 0, again.stdout + again.stderr);
    const resent = target.arrivals.slice(before).map((a) => a.key);
    assert.deepEqual(resent.sort(), [...failing].sort());
    const refused = await runCli(args('--execute'));
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /already finished/);
  });

  it('pauses, changes rate, resumes and stops through backfill control, then resumes the run', async () => {
    const { file, target, args } = await setUp({ records: 400, rate: 100, concurrency: 2 });
    const run = startCli(args('--execute'));
    await waitFor(() => target.arrivals.length >= 20, 'the first requests');
    assert.equal((await runCli(['control', file, 'pause'])).code, 0);
    await sleep(1000); // the pause applies within a second; requests in flight may still land
    const paused = target.arrivals.length;
    await sleep(800);
    assert.equal(target.arrivals.length, paused, 'no request is sent while paused');
    const status = JSON.parse((await runCli(['status', file, '--json'])).stdout);
    assert.equal(status.cells.find((c: { cell: string }) => c.cell === 'full').state, 'paused');
    assert.equal((await runCli(['control', file, 'rate', '20'])).code, 0);
    assert.equal((await runCli(['control', file, 'resume'])).code, 0);
    await waitFor(() => target.arrivals.length > paused + 5, 'requests after resume');
    assert.equal((await runCli(['control', file, 'stop'])).code, 0);
    assert.equal(await run.exited, 3, run.stdout() + run.stderr());
    const afterStop = target.arrivals.length;
    assert.ok(afterStop < 400);
    const resumed = await runCli(args('--execute'));
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.deepEqual([...target.countsByKey().keys()].sort(), validKeys(400));
  });

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`treats ${signal} as stop: exit 3, and the next run resumes without skipping a record`, async () => {
      const { target, args } = await setUp({ records: 300, rate: 100, concurrency: 2 });
      const run = startCli(args('--execute'));
      await waitFor(() => target.arrivals.length >= 10, 'the first requests');
      run.child.kill(signal);
      assert.equal(await run.exited, 3, run.stderr());
      assert.ok(target.arrivals.length < 300);
      const resumed = await runCli(args('--execute'));
      assert.equal(resumed.code, 0, resumed.stderr);
      assert.deepEqual([...target.countsByKey().keys()].sort(), validKeys(300));
    });
  }

  it('refuses a second concurrent run of the same runbook', async () => {
    const { target, args } = await setUp({ records: 200, rate: 50, concurrency: 1 });
    const first = startCli(args('--execute'));
    await waitFor(() => target.arrivals.length >= 2, 'the first run to start');
    const second = await runCli(args('--execute'));
    assert.equal(second.code, 4);
    assert.match(second.stderr, /already being run by pid \d+/);
    first.child.kill('SIGTERM');
    await first.exited;
  });

  it('refuses a corrupted ledger and leaves it byte-identical', async () => {
    const { file, target, args } = await setUp({ records: 10 });
    const stateDir = `${file}.d`;
    fs.mkdirSync(stateDir, { recursive: true });
    const garbage = Buffer.from('this is not a SQLite database\u0000\u0001\u0002');
    fs.writeFileSync(path.join(stateDir, 'ledger.sqlite'), garbage);
    const result = await runCli(args('--execute'));
    assert.equal(result.code, 2);
    assert.match(result.stderr, /not a readable backfill ledger/);
    assert.deepEqual(fs.readFileSync(path.join(stateDir, 'ledger.sqlite')), garbage);
    assert.equal(target.arrivals.length, 0);
  });

  it('refuses, with exit 2 and a clear message, a file where the state folder belongs, and leaves it', async () => {
    const { file, target, args } = await setUp({ records: 3 });
    fs.writeFileSync(`${file}.d`, 'not a folder');
    for (const command of [args('--execute'), ['dry-run', file]]) {
      const result = await runCli(command);
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, /job\.backfill\.d is not a folder: backfill keeps the runbook's ledger/);
    }
    assert.equal(fs.readFileSync(`${file}.d`, 'utf8'), 'not a folder');
    assert.equal(target.arrivals.length, 0);
  });

  it('tolerates a torn last journal line and resumes without losing a record', async () => {
    const { file, target, args } = await setUp({ records: 300, rate: 200, concurrency: 2 });
    const run = startCli(args('--execute'));
    await waitFor(() => target.arrivals.length >= 50, 'some records to be sent');
    run.child.kill('SIGKILL');
    await run.exited;
    fs.appendFileSync(
      path.join(`${file}.d`, 'journal.jsonl'),
      '{"seq":999999,"type":"outcome","outcome":{"ke',
    );
    const resumed = await runCli(args('--execute'));
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.deepEqual([...target.countsByKey().keys()].sort(), validKeys(300));
    const rows = await ledgerRows(file, 'succeeded');
    assert.equal(rows.length, 300);
  });
  it('shows what a killed run recorded at once: status and ledger read its journal, the run is "crashed (no process)"', async () => {
    const { file, target, args } = await setUp({ records: 300, rate: 200, concurrency: 2 });
    const run = startCli(args('--execute'));
    await waitFor(() => target.arrivals.length >= 50, 'some records to be sent');
    run.child.kill('SIGKILL');
    await run.exited;
    assert.ok(
      fs.statSync(path.join(`${file}.d`, 'journal.jsonl')).size > 0,
      'the journal holds the outcomes',
    );
    const status = await runCli(['status', file, '--json']);
    assert.equal(status.code, 0, status.stderr);
    const full = (
      JSON.parse(status.stdout) as { cells: { cell: string; state: string; succeeded: number }[] }
    ).cells.find((cell) => cell.cell === 'full');
    assert.equal(full?.state, 'crashed (no process)');
    // Outcomes are recorded after their answers, and the last group commit may be lost to the kill:
    // what is shown is a part of what the target received, and never nothing.
    const received = target.countsByKey();
    assert.ok(full.succeeded > 0 && full.succeeded <= received.size, `${full.succeeded} of ${received.size}`);
    const rows = await ledgerRows(file, 'succeeded');
    assert.equal(rows.length, full.succeeded);
    assert.deepEqual(
      rows.filter((row) => !received.has(row.key)),
      [],
    );
    const resumed = await runCli(args('--execute'));
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.deepEqual([...target.countsByKey().keys()].sort(), validKeys(300));
  });
  it('resumes past finished records, whether their keys are read as written or typed, and sends the rest once', async () => {
    // Integer keys: "003" and "3" are the same record, "01" repeats "1". A halted run finishes 1-5;
    // the resume must skip each of them (and their repeats) and send 6-8 exactly once.
    const { file, target, args } = await setUp(
      {
        records: 0,
        retries: 0,
        concurrency: 1,
        rate: 1000,
        executeExtra: 'errorBudget:\n  maxConsecutiveFailures: 1\n',
      },
      (arrival) => (arrival.key === '5' && !healed ? { status: 500 } : {}),
    );
    let healed = false;
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('    id: string', '    id: integer'));
    const rows = ['1', '2', '003', '4', '01', '5', '3', '6', '0007', '8', '6'];
    fs.writeFileSync(
      path.join(work.dir, 'records.csv'),
      ['id,amount', ...rows.map((id) => `${id},1.5`)].join('\n') + '\n',
    );
    const halted = await runCli(args('--execute'));
    assert.equal(halted.code, 3, halted.stdout + halted.stderr);
    assert.deepEqual(
      target.arrivals.map((a) => a.key),
      ['1', '2', '3', '4', '5'],
    );
    healed = true;
    const resumed = await runCli(args('--execute', '--json'));
    assert.equal(resumed.code, 0, resumed.stdout + resumed.stderr);
    assert.deepEqual(
      target.arrivals.slice(5).map((a) => a.key),
      ['6', '7', '8'],
    );
    const status = (JSON.parse(resumed.stdout) as { status: { skipped: number; done: number } }).status;
    assert.equal(status.skipped, 5, 'the five finished records, not their repeats');
    assert.equal(status.done, 8);
  });
});
