import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { COMMITTED_WINDOW_PER_SLOT } from '../../src/core/ledger/ledger';
import { allFiles, runCli } from '../support/cli';
import { sleep, waitFor, type RunningCli } from '../support/cliProcess';
import { keyOf } from '../support/runbookFixture';
import { usePostgresFleet } from '../support/postgresFleet';
import { startTargetServer, type TargetServer } from '../support/targetServer';
import { seededRandom } from '../../src/core/support/seededRandom';

const PASSWORD = 'workers-CANARY-7q2v';

describe('backfill worker: many processes sharing one run through a PostgreSQL ledger', function () {
  this.timeout(600_000);
  const pg = usePostgresFleet('backfill-workers-', { password: PASSWORD });
  let target: TargetServer;
  afterEach(async () => target?.stop());

  const vars = () => ['--var', `BASE_URL=${target.url}`];

  /** `backfill run FILE --cell full --execute` (the creator), or `backfill worker FILE --cell full`. */
  function startOn(file: string, as: 'run' | 'worker'): RunningCli {
    return pg.startOn(file, as, target.url);
  }

  /**
   * Hosts `a` (the run's creator) and `b` (a worker's) with `records` records in chunks of `chunkSize`, a
   * target answering in 2 ms, and the run started on `a` and split into chunks.
   */
  async function startSharedRun(records: number, chunkSize: number, concurrency = 4) {
    target = await startTargetServer(() => ({ delayMs: 2 }));
    const fixture = { records, rate: 100_000, concurrency };
    const ledgerExtra = `      chunkSize: ${chunkSize}\n`;
    const creatorFile = pg.host('a', fixture, ledgerExtra);
    const workerFile = pg.host('b', fixture, ledgerExtra);
    const run = startOn(creatorFile, 'run');
    await waitForDatabase(async () => (await chunkCount()) > 0, 'the run to be split into chunks');
    return { creatorFile, workerFile, run };
  }

  /** Latest outcomes of the fixture's ledger, from the database itself. */
  function storedOutcomes(): Promise<{ key: string; status: string; idempotency_key: string }[]> {
    return pg.database.query(
      `SELECT r.key, r.status, r.idempotency_key FROM backfill.records r
         JOIN backfill.chains c ON c.id = r.chain WHERE c.ledger = 'fixture-job'`,
    );
  }

  async function chunkCount(): Promise<number> {
    const exists = await pg.database.query<{ t: string | null }>(
      "SELECT to_regclass('backfill.chunks') AS t",
    );
    if (exists[0]?.t === null) return 0;
    const [row] = await pg.database.query<{ n: string }>('SELECT COUNT(*) AS n FROM backfill.chunks');
    return Number(row?.n);
  }

  /** Polls the database until `condition` holds. */
  async function waitForDatabase(condition: () => Promise<boolean>, what: string, timeoutMs = 30_000) {
    const deadline = Date.now() + timeoutMs;
    while (!(await condition())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await sleep(50);
    }
  }

  /** Every key arrived, each under the one idempotency key the ledger holds, and every outcome succeeded. */
  async function assertLedgerEqualsTarget(records: number) {
    const rows = await storedOutcomes();
    assert.equal(rows.length, records);
    assert.equal(rows.filter((row) => row.status === 'succeeded').length, records);
    const expected = Array.from({ length: records }, (_, i) => keyOf(i + 1));
    assert.deepEqual([...target.countsByKey().keys()].sort(), expected);
    const byKey = new Map<string, Set<string | undefined>>();
    for (const arrival of target.arrivals) {
      byKey.set(arrival.key, (byKey.get(arrival.key) ?? new Set()).add(arrival.idempotencyKey));
    }
    for (const row of rows) assert.deepEqual([...byKey.get(row.key)!], [row.idempotency_key], row.key);
  }

  /** No row of any table of the backfill schema, every column of it as text, holds `secret`. */
  async function assertNothingKeptHolds(secret: string) {
    const tables = await pg.database.query<{ table_name: string }>(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'backfill' ORDER BY 1",
    );
    const names = tables.map((table) => table.table_name);
    for (const expected of ['chunks', 'controls', 'records', 'runs', 'workers']) {
      assert.ok(names.includes(expected), `the schema has no ${expected} table: ${names.join(', ')}`);
    }
    for (const name of names) {
      const [found] = await pg.database.query<{ rows: number; holding: number }>(
        `SELECT COUNT(*)::int AS rows, (COUNT(*) FILTER (WHERE strpos(t::text, $1) > 0))::int AS holding
           FROM backfill."${name}" t`,
        [secret],
      );
      assert.ok(name !== 'records' || found!.rows > 0, 'the records were searched');
      assert.equal(found!.holding, 0, `backfill.${name} holds the secret`);
    }
  }

  async function runsOfCell(): Promise<{ id: string; outcome: string; counts: string | null }[]> {
    return pg.database.query(
      "SELECT id, outcome, counts FROM backfill.runs WHERE ledger = 'fixture-job' AND cell = 'full'",
    );
  }

  it('four processes (the run and three workers) send 50,000 records once each, and the run is finished once', async () => {
    const RECORDS = 50_000;
    target = await startTargetServer(() => ({}));
    const fixture = { records: RECORDS, rate: 100_000, concurrency: 8 };
    const files = ['a', 'b', 'c', 'd'].map((name) => pg.host(name, fixture));
    const run = startOn(files[0]!, 'run');
    await waitForDatabase(async () => (await chunkCount()) > 0, 'the run to be split into chunks');
    const workers = files.slice(1).map((file) => startOn(file, 'worker'));
    // The ledger's password is in no process's argv, as `ps` on any host shows it to every user.
    await waitFor(() => target.arrivals.length >= 1000, 'the fleet to send');
    for (const cli of [run, ...workers]) {
      const argv = fs.readFileSync(`/proc/${cli.child.pid}/cmdline`, 'utf8');
      assert.match(argv, /--cell\0full/, `process ${cli.child.pid} is running`);
      assert.doesNotMatch(argv, /CANARY/);
    }

    const codes = await Promise.all([run, ...workers].map((cli) => cli.exitedWith));
    const outputs = [run, ...workers].map((cli) => cli.stdout() + cli.stderr());
    assert.deepEqual(codes, [0, 0, 0, 0], outputs.join('\n----\n'));

    await assertLedgerEqualsTarget(RECORDS);
    assert.equal(target.arrivals.length, RECORDS, 'no record was sent twice');
    // Several processes did the work: done chunks name their workers' pids.
    const holders = await pg.database.query<{ worker: string }>(
      "SELECT DISTINCT split_part(worker, ':', 2) AS worker FROM backfill.chunks WHERE state = 'done'",
    );
    assert.ok(holders.length >= 2, `chunks done by ${holders.length} process(es)`);
    assert.equal(
      Number(
        (
          await pg.database.query<{ n: string }>(
            "SELECT COUNT(*) AS n FROM backfill.chunks WHERE state <> 'done'",
          )
        )[0]?.n,
      ),
      0,
    );
    // One run, ended once with the whole fleet's counts (not one worker's share).
    const runs = await runsOfCell();
    assert.equal(runs.length, 1);
    assert.equal(runs[0]!.outcome, 'succeeded');
    assert.equal((JSON.parse(runs[0]!.counts!) as { succeeded: number }).succeeded, RECORDS);
    // The ledger's password: in no output, no file of any host, nothing the database keeps.
    for (const output of outputs) assert.doesNotMatch(output, /CANARY/);
    for (const file of allFiles(pg.work.dir))
      assert.doesNotMatch(fs.readFileSync(file, 'utf8'), /CANARY/, file);
    assert.ok(pg.database.url.includes(PASSWORD), 'the ledger URL holds the password searched for');
    await assertNothingKeptHolds(PASSWORD);
  });

  it('keeps where each chunk of a CSV starts, quoted line breaks and all, and its workers send every record once', async () => {
    const RECORDS = 3000;
    target = await startTargetServer(() => ({}));
    const fixture = { records: RECORDS, rate: 100_000, concurrency: 8 };
    // Every seventh record's note holds a line break inside quotes: a chunk must never start there.
    const rows = ['id,amount,note'];
    const rowStarts = new Set<number>();
    for (let i = 1, line = 2; i <= RECORDS; i += 1) {
      rowStarts.add(line);
      rows.push(i % 7 === 0 ? `${keyOf(i)},${i}.5,"two\nlines, é"` : `${keyOf(i)},${i}.5,plain`);
      line += i % 7 === 0 ? 2 : 1;
    }
    const csv = Buffer.from(rows.join('\n') + '\n');
    const files = ['a', 'b', 'c'].map((name) => {
      const file = pg.host(name, fixture, '      chunkSize: 100\n');
      const text = fs.readFileSync(file, 'utf8');
      fs.writeFileSync(file, text.replace('    amount: number\n', '    amount: number\n    note: string\n'));
      fs.writeFileSync(path.join(path.dirname(file), 'records.csv'), csv);
      return file;
    });
    const run = startOn(files[0]!, 'run');
    await waitForDatabase(async () => (await chunkCount()) > 0, 'the run to be split into chunks');
    const workers = files.slice(1).map((file) => startOn(file, 'worker'));
    const codes = await Promise.all([run, ...workers].map((cli) => cli.exitedWith));
    const outputs = [run, ...workers].map((cli) => cli.stdout() + cli.stderr());
    assert.deepEqual(codes, [0, 0, 0], outputs.join('\n----\n'));

    await assertLedgerEqualsTarget(RECORDS);
    assert.equal(target.arrivals.length, RECORDS, 'no record was sent twice');
    // Each chunk's first byte is where its first line starts in the file (found here from its line
    // feeds), and that line starts a row: never the inside of a quoted field.
    const lineStarts = [0, 0];
    for (let at = csv.indexOf(0x0a); at !== -1 && at + 1 < csv.length; at = csv.indexOf(0x0a, at + 1)) {
      lineStarts.push(at + 1);
    }
    const chunks = await pg.database.query<{ n: number; first_line: string; first_byte: string | null }>(
      'SELECT n, first_line, first_byte FROM backfill.chunks ORDER BY n',
    );
    assert.equal(chunks.length, RECORDS / 100);
    assert.deepEqual(chunks[0], { n: 0, first_line: '0', first_byte: '0' });
    for (const chunk of chunks.slice(1)) {
      const line = Number(chunk.first_line);
      assert.ok(rowStarts.has(line), `chunk ${chunk.n} starts at line ${line}, inside a row`);
      assert.equal(Number(chunk.first_byte), lineStarts[line], `chunk ${chunk.n}`);
    }
  });

  it("survives kill -9 of random workers at random instants: a dead worker's chunk is taken over after its lease, nothing lost, repeats only in flight", async () => {
    const RECORDS = 12_000;
    const CONCURRENCY = 4;
    const KILLS = 4;
    target = await startTargetServer(() => ({ delayMs: 2 }));
    const fixture = { records: RECORDS, rate: 100_000, concurrency: CONCURRENCY };
    const ledgerExtra = '      chunkSize: 500\n      leaseSeconds: 2\n';
    const random = seededRandom(12);
    let hosts = 0;
    const newHost = () => pg.host(`h${(hosts += 1)}`, fixture, ledgerExtra);
    const alive = new Set<RunningCli>();
    const track = (cli: RunningCli) => {
      alive.add(cli);
      void cli.exitedWith.then(() => alive.delete(cli));
      return cli;
    };
    track(startOn(newHost(), 'run'));
    await waitForDatabase(async () => (await chunkCount()) > 0, 'the run to be split into chunks');
    for (let i = 0; i < 2; i += 1) track(startOn(newHost(), 'worker'));

    // The victim is a process holding a leased chunk at that instant, so every kill leaves a chunk to
    // take over (on a slow machine a process killed before its first claim would test nothing).
    const holdersOfLeases = async () => {
      const rows = await pg.database.query<{ worker: string }>(
        "SELECT worker FROM backfill.chunks WHERE state = 'leased'",
      );
      const pids = new Set(rows.map((row) => Number(row.worker.split(':')[1])));
      return [...alive].filter((cli) => pids.has(cli.child.pid ?? -1));
    };
    let kills = 0;
    while (kills < KILLS && alive.size > 0) {
      await sleep(400 + random() * 1200);
      if (target.arrivals.length >= RECORDS * 0.9) break;
      const holders = await holdersOfLeases();
      const victim = holders[Math.floor(random() * holders.length)];
      if (!victim) continue;
      victim.child.kill('SIGKILL');
      await victim.exited;
      kills += 1;
      track(startOn(newHost(), 'worker'));
    }
    assert.ok(kills >= 2, `only ${kills} kills happened before the run ended`);
    await waitFor(() => alive.size === 0, 'every worker to exit', 90_000);

    const runs = await runsOfCell();
    assert.equal(runs.length, 1);
    assert.equal(runs[0]!.outcome, 'succeeded');
    await assertLedgerEqualsTarget(RECORDS);
    // Only what was in flight at each kill was sent again.
    const repeats = target.arrivals.length - RECORDS;
    assert.ok(
      repeats <= kills * CONCURRENCY * (1 + COMMITTED_WINDOW_PER_SLOT),
      `${repeats} repeats after ${kills} kills`,
    );
    // A killed worker's chunks were claimed again.
    const [taken] = await pg.database.query<{ n: string }>(
      'SELECT COUNT(*) AS n FROM backfill.chunks WHERE claims > 1',
    );
    assert.ok(Number(taken?.n) >= 1, 'no chunk was taken over');
  });

  it('shows in status the counts the outcomes table holds, after a run with failures and a worker killed with kill -9', async () => {
    const RECORDS = 6000;
    // One record in 40 always answers 500: it fails after its retries, and the run still succeeds.
    target = await startTargetServer((arrival) => ({
      delayMs: 2,
      ...(Number(arrival.key.slice(1)) % 40 === 0 ? { status: 500 } : {}),
    }));
    const fixture = { records: RECORDS, rate: 100_000, concurrency: 4, retries: 1 };
    const ledgerExtra = '      chunkSize: 500\n      leaseSeconds: 2\n';
    const run = startOn(pg.host('a', fixture, ledgerExtra), 'run');
    await waitForDatabase(async () => (await chunkCount()) > 0, 'the run to be split into chunks');
    const victim = startOn(pg.host('b', fixture, ledgerExtra), 'worker');
    await waitForDatabase(
      async () =>
        (
          await pg.database.query(
            `SELECT 1 FROM backfill.chunks WHERE state = 'leased' AND split_part(worker, ':', 2) = '${victim.child.pid}'`,
          )
        ).length > 0,
      'the worker to hold a chunk',
    );
    victim.child.kill('SIGKILL');
    await victim.exited;
    const heir = startOn(pg.host('c', fixture, ledgerExtra), 'worker');
    await Promise.all([run.exited, heir.exited]);

    const truth = await pg.database.query<{ status: string; n: number }>(
      `SELECT r.status, COUNT(*)::int AS n FROM backfill.records r
         JOIN backfill.chains c ON c.id = r.chain WHERE c.ledger = 'fixture-job' GROUP BY 1 ORDER BY 1`,
    );
    assert.deepEqual(
      truth.map((row) => row.status),
      ['failed', 'succeeded'],
    );
    assert.equal(
      truth.reduce((sum, row) => sum + row.n, 0),
      RECORDS,
    );
    // Kept as the outcomes were written, by every process, in the same transactions: what status reads.
    const tallied = await pg.database.query<{ status: string; n: number }>(
      `SELECT t.status, SUM(t.n)::int AS n FROM backfill.tallies t
         JOIN backfill.chains c ON c.id = t.chain WHERE c.ledger = 'fixture-job' GROUP BY 1 ORDER BY 1`,
    );
    assert.deepEqual(tallied, truth);
    const status = await runCli(['status', pg.host('d', fixture, ledgerExtra), '--json', '--env', 'test'], {
      env: pg.env(),
    });
    assert.equal(status.code, 0, status.stderr);
    const full = (
      JSON.parse(status.stdout) as { cells: { cell: string; succeeded: number; failed: number }[] }
    ).cells.find((cell) => cell.cell === 'full')!;
    const count = (name: string) => truth.find((row) => row.status === name)!.n;
    assert.deepEqual(
      { succeeded: full.succeeded, failed: full.failed },
      {
        succeeded: count('succeeded'),
        failed: count('failed'),
      },
    );
  });

  for (const how of ['SIGTERM', 'the halt file of its host'] as const) {
    it(`lets a worker leave on ${how}: its chunks go back at once and the others finish the run`, async () => {
      const RECORDS = 6000;
      const { run, workerFile } = await startSharedRun(RECORDS, 200);
      const worker = startOn(workerFile, 'worker');
      await waitForDatabase(
        async () =>
          (
            await pg.database.query(
              `SELECT 1 FROM backfill.chunks WHERE split_part(worker, ':', 2) = '${worker.child.pid}'`,
            )
          ).length > 0,
        'the worker to claim a chunk',
      );
      if (how === 'SIGTERM') worker.child.kill('SIGTERM');
      else fs.writeFileSync(`${workerFile}.halt`, 'stop this host\n');
      assert.equal(await worker.exitedWith, 3, worker.stdout() + worker.stderr());
      const held = await pg.database.query(
        `SELECT n FROM backfill.chunks WHERE state = 'leased' AND split_part(worker, ':', 2) = '${worker.child.pid}'`,
      );
      assert.deepEqual(held, [], 'the leaving worker gave its chunks back');
      assert.equal(await run.exitedWith, 0, run.stdout() + run.stderr());
      assert.equal((await runsOfCell())[0]?.outcome, 'succeeded');
      await assertLedgerEqualsTarget(RECORDS);
    });
  }

  it('joins the run again with backfill run after its creator was killed, while a worker still holds chunks', async () => {
    const RECORDS = 8000;
    const CONCURRENCY = 4;
    const { run: creator, creatorFile, workerFile } = await startSharedRun(RECORDS, 400, CONCURRENCY);
    const worker = startOn(workerFile, 'worker');
    const holds = async (pid: number | undefined) =>
      (
        await pg.database.query(
          `SELECT 1 FROM backfill.chunks WHERE state = 'leased' AND split_part(worker, ':', 2) = '${pid}'`,
        )
      ).length > 0;
    await waitForDatabase(
      async () => (await holds(creator.child.pid)) && (await holds(worker.child.pid)),
      'both to hold a chunk',
    );
    creator.child.kill('SIGKILL');
    await creator.exited;

    const again = startOn(creatorFile, 'run');
    assert.equal(await again.exitedWith, 0, again.stdout() + again.stderr());
    assert.equal(await worker.exitedWith, 0, worker.stdout() + worker.stderr());
    const runs = await runsOfCell();
    assert.deepEqual(
      runs.map((run) => run.outcome),
      ['succeeded'],
      'the second backfill run joined the live run instead of marking it crashed',
    );
    await assertLedgerEqualsTarget(RECORDS);
    assert.ok(target.arrivals.length - RECORDS <= CONCURRENCY * (1 + COMMITTED_WINDOW_PER_SLOT));
  });

  it('runs a production backfill shared by a worker that needs neither a dry run nor the confirmation of its own', async () => {
    const RECORDS = 4000;
    target = await startTargetServer(() => ({ delayMs: 2 }));
    const fixture = { records: RECORDS, rate: 100_000, concurrency: 4, production: true };
    const ledgerExtra = '      chunkSize: 200\n';
    const creator = pg.host('a', fixture, ledgerExtra);
    const production = ['--env', 'prod', '--no-progress', ...vars()];
    const unconfirmed = await runCli(['run', creator, '--cell', 'full', '--execute', ...production], {
      env: pg.env(),
    });
    assert.equal(unconfirmed.code, 4, unconfirmed.stdout + unconfirmed.stderr);
    const dryRun = await runCli(['dry-run', creator, '--cell', 'preview', ...production], { env: pg.env() });
    assert.equal(dryRun.code, 0, dryRun.stdout + dryRun.stderr);
    const run = pg.start([
      'run',
      creator,
      '--cell',
      'full',
      '--production',
      '--confirm',
      'fixture-job',
      ...production,
    ]);
    await waitForDatabase(async () => (await chunkCount()) > 0, 'the run to be split into chunks');
    const worker = pg.start(['worker', pg.host('b', fixture, ledgerExtra), '--cell', 'full', ...production]);
    assert.equal(await worker.exitedWith, 0, worker.stdout() + worker.stderr());
    assert.equal(await run.exitedWith, 0, run.stdout() + run.stderr());
    const byWorker = await pg.database.query(
      `SELECT 1 FROM backfill.chunks WHERE state = 'done' AND split_part(worker, ':', 2) = '${worker.child.pid}'`,
    );
    assert.ok(byWorker.length > 0, 'the worker did some of the chunks');
    const runs = await pg.database.query<{ mode: string; outcome: string }>(
      "SELECT mode, outcome FROM backfill.runs WHERE ledger = 'fixture-job' AND cell = 'full'",
    );
    assert.deepEqual(runs, [{ mode: 'production', outcome: 'succeeded' }]);
    await assertLedgerEqualsTarget(RECORDS);
  });

  it('halts the whole run when one worker is stopped, and backfill run resumes the same chain to the end', async () => {
    const RECORDS = 6000;
    const CONCURRENCY = 4;
    const { run, creatorFile, workerFile } = await startSharedRun(RECORDS, 200, CONCURRENCY);
    const worker = startOn(workerFile, 'worker');
    await waitFor(() => target.arrivals.length >= 1000, 'a sixth of the records to arrive');
    const stop = await runCli(['control', workerFile, 'stop'], { env: pg.env() });
    assert.equal(stop.code, 0, stop.stdout + stop.stderr);
    assert.equal(await worker.exitedWith, 3, worker.stdout() + worker.stderr());
    assert.equal(await run.exitedWith, 3, run.stdout() + run.stderr());
    // The stop reaches every member through the fleet's controls, or the run's halt through its leases.
    assert.match(run.stdout(), /stopped by backfill control|ended elsewhere \(halted\)/);
    const [halted] = await runsOfCell();
    assert.equal(halted?.outcome, 'halted');
    assert.ok(target.arrivals.length < RECORDS, 'the run stopped before the end');

    const resumed = await runCli(
      ['run', creatorFile, '--cell', 'full', '--execute', '--no-progress', ...vars()],
      {
        env: pg.env(),
      },
    );
    assert.equal(resumed.code, 0, resumed.stdout + resumed.stderr);
    const runs = await runsOfCell();
    assert.deepEqual(runs.map((r) => r.outcome).sort(), ['halted', 'succeeded']);
    const chains = await pg.database.query(
      "SELECT DISTINCT chain FROM backfill.runs WHERE ledger = 'fixture-job'",
    );
    assert.equal(chains.length, 1, 'the resume continued the same chain');
    await assertLedgerEqualsTarget(RECORDS);
    assert.ok(target.arrivals.length - RECORDS <= 2 * CONCURRENCY * (1 + COMMITTED_WINDOW_PER_SLOT));
  });

  it('refuses a worker when no run of the cell is live (told not to wait for one), and sends nothing', async () => {
    target = await startTargetServer(() => ({}));
    const file = pg.host('a', { records: 20 });
    const args = ['worker', file, '--cell', 'full', '--wait-for-run', '0', '--no-progress', ...vars()];
    const result = await runCli(args, { env: pg.env() });
    assert.equal(result.code, 2, result.stdout + result.stderr);
    assert.match(
      result.stderr,
      /no live run of cell full in PostgreSQL .*: start it with backfill run .* --cell full/,
    );
    assert.doesNotMatch(result.stdout + result.stderr, /CANARY/);
    assert.equal(target.arrivals.length, 0);
  });

  it("refuses a worker whose records differ from the live run's, even by bytes that leave every chunk's first byte in place", async () => {
    target = await startTargetServer(() => ({ delayMs: 40 }));
    const fixture = { records: 2000, rate: 100_000, concurrency: 2 };
    const creator = pg.host('a', fixture, '      chunkSize: 100\n');
    const edited = pg.host('b', fixture, '      chunkSize: 100\n');
    const records = path.join(path.dirname(edited), 'records.csv');
    const text = fs.readFileSync(records, 'utf8');
    // The same length: a worker opening its chunks at their first bytes would read the changed amount.
    fs.writeFileSync(records, text.replace(`${keyOf(1500)},1500.5\n`, `${keyOf(1500)},9999.5\n`));
    assert.equal(fs.statSync(records).size, Buffer.byteLength(text));
    const run = startOn(creator, 'run');
    await waitFor(() => target.arrivals.length > 0, 'the run to send');
    const result = await runCli(['worker', edited, '--cell', 'full', '--no-progress', ...vars()], {
      env: pg.env(),
    });
    assert.equal(result.code, 4, result.stdout + result.stderr);
    assert.match(result.stderr, /refused: the job definition or source data of this runbook differ from run/);
    const workerPids = await pg.database.query<{ pid: number }>(
      'SELECT pid FROM backfill.workers WHERE pid <> $1',
      [run.child.pid],
    );
    assert.deepEqual(workerPids, [], 'the refused worker never joined the fleet');
    assert.deepEqual(
      target.arrivals.filter((arrival) => arrival.body.includes('9999.5')),
      [],
      'the changed record was not sent',
    );
    run.child.kill('SIGKILL');
    await run.exited;
  });

  it("refuses a worker whose runbook differs from the live run's, before it sends anything", async () => {
    target = await startTargetServer(() => ({ delayMs: 40 }));
    const fixture = { records: 2000, rate: 100_000, concurrency: 2 };
    const creator = pg.host('a', fixture);
    const edited = pg.host('b', fixture);
    const text = fs.readFileSync(edited, 'utf8');
    fs.writeFileSync(
      edited,
      text.replace('    id: ${record:id}\n', '    id: ${record:id}\n    edited: true\n'),
    );
    assert.notEqual(fs.readFileSync(edited, 'utf8'), text);
    const run = startOn(creator, 'run');
    await waitFor(() => target.arrivals.length > 0, 'the run to send');
    const result = await runCli(['worker', edited, '--cell', 'full', '--no-progress', ...vars()], {
      env: pg.env(),
    });
    assert.equal(result.code, 4, result.stdout + result.stderr);
    assert.match(
      result.stderr,
      /refused: the job definition or source data of this runbook differ from run \S+'s .*: a worker must run the very runbook/,
    );
    assert.deepEqual(
      target.arrivals.filter((arrival) => arrival.body.includes('edited')),
      [],
      'the edited runbook sent nothing',
    );
    run.child.kill('SIGKILL');
    await run.exited;
  });
});
