import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { sampleRank } from '../../src/core/sources/subsetFilter';
import { loadSqlJs } from '../../src/core/support/sqlite';
import { runCli, tempDir } from '../support/cli';
import { startCli, waitFor } from '../support/cliProcess';
import { keyOf, writeFixtureRunbook, type FixtureOptions } from '../support/runbookFixture';
import { startStateService, type StateService } from '../support/stateService';

interface Row {
  key: string;
  status: string;
  lastError?: string;
  errorKind?: string;
  expected?: string;
  actual?: string;
}

/** The state the fixture's execute cell leaves for record i: its id and amount, confirmed. */
const rightState = (i: number) => ({ id: keyOf(i), amount: i + 0.5, state: { confirmed: true } });

describe('backfill run on a verify cell', function () {
  this.timeout(120_000);
  let work: ReturnType<typeof tempDir>;
  let service: StateService | undefined;

  beforeEach(() => (work = tempDir()));
  afterEach(async () => {
    await service?.stop();
    service = undefined;
    work.cleanup();
  });

  /**
   * The fixture runbook (job `items` over k00001…, execute cell `full`) with a verify cell `check` whose
   * body is `cell`, and a state service holding the right state for every record unless told otherwise.
   */
  async function setUp(
    records: number,
    cell: string,
    fixture: Partial<FixtureOptions> = {},
    readStatus?: (key: string) => number | undefined,
  ) {
    service = await startStateService({ readStatus: (key) => readStatus?.(key) });
    for (let i = 1; i <= records; i += 1) service.items.set(keyOf(i), rightState(i));
    const file = writeFixtureRunbook(work.dir, {
      records,
      rate: 2000,
      concurrency: 4,
      retries: 1,
      ...fixture,
      extraCells: `\`\`\`verify id=check\njob: items\n${cell}\`\`\`\n${fixture.extraCells ?? ''}`,
    });
    const target = service;
    const run = (...extra: string[]) => runCli(['run', file, '--var', `BASE_URL=${target.url}`, ...extra]);
    return { file, service: target, run };
  }

  async function exported(file: string, status: string, cell = 'check'): Promise<Row[]> {
    const result = await runCli(['ledger', file, '--cell', cell, '--status', status, '--format', 'jsonl']);
    assert.equal(result.code, 0, result.stderr);
    return result.stdout
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Row);
  }

  const keysOf = (rows: Row[]) => rows.map((row) => row.key).sort();

  const HTTP_CHECK = `check:
  type: http
  url: \${env:BASE_URL}/items/\${record:id}
  expect:
    body:
      id: \${record:id}
      amount: \${record:amount}
      state.confirmed: true
    tolerance: 0.001
`;

  it('is checked by backfill check: a broken template and an undefined env are located at the check field', async () => {
    const broken = writeFixtureRunbook(work.dir, {
      records: 1,
      extraCells:
        '```verify id=check\njob: items\ncheck:\n  type: http\n  url: ${env:BASE_URL}/items/${record:id\n```\n',
    });
    const result = await runCli(['check', broken]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /job\.backfill:\d+: cell check: check\.url: unclosed placeholder/);
    const undefinedEnv = writeFixtureRunbook(work.dir, {
      records: 1,
      extraCells: `\`\`\`verify id=check\njob: items\ncheck:\n  type: sqlite\n  path: x.sqlite\n  query: SELECT 1\n  expect:\n    columns:\n      region: \${env:REGION}\n\`\`\`\n`,
    });
    const missingEnv = await runCli(['check', undefinedEnv]);
    assert.equal(missingEnv.code, 2);
    assert.match(missingEnv.stderr, /cell check: check: \$\{env:REGION\} is not defined in environment test/);
  });

  it('verifies without --execute, only reads, and exits 0 when every record is right', async () => {
    const { file, service, run } = await setUp(30, HTTP_CHECK);
    const result = await run('--cell', 'check');
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /Verification succeeded/);
    assert.equal(service.writes.size, 0, 'a verification writes nothing');
    assert.equal(service.reads.size, 30);
    assert.ok([...service.reads.values()].every((n) => n === 1));
    assert.equal((await exported(file, 'verified')).length, 30);
  });

  it('http: judges body fields against the record and constants, within the tolerance, and finds a missing record', async () => {
    const { file, service, run } = await setUp(6, HTTP_CHECK);
    service.items.set(keyOf(3), { ...rightState(3), amount: 3.5004 }); // within 0.001
    service.items.set(keyOf(4), { ...rightState(4), amount: 5 });
    service.items.delete(keyOf(5));
    service.items.set(keyOf(6), { ...rightState(6), state: { confirmed: false } });
    const result = await run('--cell', 'check');
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.match(result.stdout, /Verification found gaps/);
    assert.match(result.stdout, /3 verified, 2 mismatch, 1 missing/);
    const mismatches = await exported(file, 'mismatch');
    assert.deepEqual(keysOf(mismatches), [keyOf(4), keyOf(6)]);
    const amount = mismatches.find((row) => row.key === keyOf(4))!;
    assert.deepEqual(JSON.parse(amount.expected!), { amount: 4.5 });
    assert.deepEqual(JSON.parse(amount.actual!), { amount: 5 });
    assert.equal(amount.lastError, 'amount: expected 4.5, got 5');
    const confirmed = mismatches.find((row) => row.key === keyOf(6))!;
    assert.deepEqual(JSON.parse(confirmed.expected!), { 'state.confirmed': true });
    assert.deepEqual(JSON.parse(confirmed.actual!), { 'state.confirmed': false });
    assert.deepEqual(keysOf(await exported(file, 'missing')), [keyOf(5)]);
    const status = await runCli(['status', file]);
    assert.match(status.stdout, /6 checked: 3 verified, 2 mismatch, 1 missing, 0 could not be checked/);
  });

  it('command: reads the record on stdin, judges the JSON it prints, and reads empty output as missing', async () => {
    fs.writeFileSync(
      path.join(work.dir, 'check.mjs'),
      `import { readFileSync } from 'node:fs';
const record = JSON.parse(readFileSync(0, 'utf8'));
const state = JSON.parse(readFileSync(process.argv[2], 'utf8'));
if (state[record.id] !== undefined) process.stdout.write(JSON.stringify(state[record.id]));
`,
    );
    const state = Object.fromEntries(
      Array.from({ length: 5 }, (_, i) => [keyOf(i + 1), { amount: i + 1.5 }]),
    );
    state[keyOf(2)] = { amount: 99 };
    delete state[keyOf(3)];
    fs.writeFileSync(path.join(work.dir, 'state.json'), JSON.stringify(state));
    const { file, run } = await setUp(
      5,
      `check:
  type: command
  argv: [${JSON.stringify(process.execPath)}, check.mjs, state.json]
  expect:
    stdout:
      amount: \${record:amount}
`,
    );
    const result = await run('--cell', 'check');
    assert.equal(result.code, 1, result.stdout + result.stderr);
    const [mismatch] = await exported(file, 'mismatch');
    assert.equal(mismatch?.key, keyOf(2));
    assert.deepEqual(JSON.parse(mismatch!.actual!), { amount: 99 });
    assert.deepEqual(keysOf(await exported(file, 'missing')), [keyOf(3)]);
    assert.equal((await exported(file, 'verified')).length, 3);
  });

  it('command: an unexpected exit code is a mismatch and the missing exit code means missing', async () => {
    fs.writeFileSync(
      path.join(work.dir, 'exists.mjs'),
      `const id = process.argv[2];
process.exit(id === '${keyOf(2)}' ? 1 : id === '${keyOf(3)}' ? 3 : 0);
`,
    );
    const { file, run } = await setUp(
      4,
      `check:
  type: command
  argv:
    - ${JSON.stringify(process.execPath)}
    - exists.mjs
    - \${record:id}
  expect:
    exitCode: 0
    missingExitCode: 3
`,
    );
    assert.equal((await run('--cell', 'check')).code, 1);
    const [mismatch] = await exported(file, 'mismatch');
    assert.equal(mismatch?.key, keyOf(2));
    assert.deepEqual(JSON.parse(mismatch!.expected!), { exitCode: 0 });
    assert.deepEqual(JSON.parse(mismatch!.actual!), { exitCode: 1 });
    assert.deepEqual(keysOf(await exported(file, 'missing')), [keyOf(3)]);
  });

  it("module: verify(record, ctx) returns the verdict, with the module's expected, actual and detail", async () => {
    fs.writeFileSync(
      path.join(work.dir, 'verify.ts'),
      `import { readFileSync } from 'node:fs';
export function verify(record: { id: string; amount: number }, ctx: { env: Record<string, string> }) {
  const state = JSON.parse(readFileSync(ctx.env.STATE_FILE!, 'utf8')) as Record<string, number>;
  const actual = state[record.id];
  if (actual === undefined) return { ok: false, missing: true, detail: 'not in the state file' };
  if (actual !== record.amount) return { ok: false, expected: record.amount, actual, detail: 'amount differs' };
  return { ok: true };
}
`,
    );
    const state = Object.fromEntries(Array.from({ length: 5 }, (_, i) => [keyOf(i + 1), i + 1.5]));
    state[keyOf(4)] = 0;
    delete state[keyOf(1)];
    fs.writeFileSync(path.join(work.dir, 'state.json'), JSON.stringify(state));
    const { file, run } = await setUp(5, `check:\n  type: module\n  path: verify.ts\n`);
    const result = await run('--cell', 'check', '--var', `STATE_FILE=${path.join(work.dir, 'state.json')}`);
    assert.equal(result.code, 1, result.stdout + result.stderr);
    const [mismatch] = await exported(file, 'mismatch');
    assert.equal(mismatch?.key, keyOf(4));
    assert.equal(mismatch?.lastError, 'amount differs');
    assert.equal(mismatch?.expected, '4.5');
    assert.equal(mismatch?.actual, '0');
    const [missing] = await exported(file, 'missing');
    assert.deepEqual([missing?.key, missing?.lastError], [keyOf(1), 'not in the state file']);
  });

  it('sqlite: binds record values as parameters — never SQL — and reads no row as missing', async () => {
    const SQL = await loadSqlJs();
    const db = new SQL.Database();
    db.run('CREATE TABLE items (id TEXT PRIMARY KEY, amount REAL)');
    for (let i = 1; i <= 5; i += 1) {
      if (i !== 3) db.run('INSERT INTO items VALUES (?, ?)', [keyOf(i), i === 2 ? 7 : i + 0.5]);
    }
    fs.writeFileSync(path.join(work.dir, 'items.sqlite'), db.export());
    db.close();
    const { file, run } = await setUp(
      5,
      `check:
  type: sqlite
  path: items.sqlite
  query: SELECT amount FROM items WHERE id = :id
  params:
    id: \${record:id}
  expect:
    columns:
      amount: \${record:amount}
`,
    );
    // A key that would match every row if it were pasted into the SQL.
    fs.appendFileSync(path.join(work.dir, 'records.csv'), `x' OR '1'='1,1.5\n`);
    const result = await run('--cell', 'check');
    assert.equal(result.code, 1, result.stdout + result.stderr);
    const [mismatch] = await exported(file, 'mismatch');
    assert.equal(mismatch?.key, keyOf(2));
    assert.deepEqual(JSON.parse(mismatch!.actual!), { amount: 7 });
    assert.deepEqual(keysOf(await exported(file, 'missing')), [keyOf(3), "x' OR '1'='1"].sort());
    assert.equal((await exported(file, 'verified')).length, 3);
  });

  it('records a check that cannot be made as an error after its retries, and re-checks it with --only unverified', async () => {
    let broken = true;
    const { file, service, run } = await setUp(8, HTTP_CHECK, {}, (key) =>
      broken && key === keyOf(2) ? 503 : undefined,
    );
    const result = await run('--cell', 'check');
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.equal(service.reads.get(keyOf(2)), 2, 'one retry');
    const [error] = await exported(file, 'error');
    assert.deepEqual([error?.key, error?.errorKind], [keyOf(2), 'http-5xx']);
    broken = false;
    const readsBefore = new Map(service.reads);
    const rechecked = await run('--cell', 'check', '--only', 'unverified');
    assert.equal(rechecked.code, 0, rechecked.stdout + rechecked.stderr);
    const reread = [...service.reads]
      .filter(([key, n]) => n > (readsBefore.get(key) ?? 0))
      .map(([key]) => key);
    assert.deepEqual(reread, [keyOf(2)]);
    assert.equal((await exported(file, 'verified')).length, 8);
    const again = await run('--cell', 'check', '--only', 'unverified');
    assert.equal(again.code, 2);
    assert.match(again.stderr, /nothing to re-check/);
  });

  it('samples by count and by percent with a seed: the same records on every run, the ones the seed ranks first', async () => {
    const records = 1000;
    const { service, run } = await setUp(
      records,
      `subset: { sample: { count: 50, seed: 7 } }\n${HTTP_CHECK}`,
      {
        extraCells: `\`\`\`verify id=percent\njob: items\nsubset: { sample: { percent: 10, seed: 3 } }\n${HTTP_CHECK}\`\`\`\n`,
      },
    );
    const keys = Array.from({ length: records }, (_, i) => keyOf(i + 1));
    const byRank = (seed: number) => [...keys].sort((a, b) => sampleRank(seed, a) - sampleRank(seed, b));
    const readKeys = () => [...service.reads.keys()].sort();

    for (let round = 1; round <= 2; round += 1) {
      assert.equal((await run('--cell', 'check')).code, 0);
      assert.deepEqual(readKeys(), byRank(7).slice(0, 50).sort());
      assert.ok(
        [...service.reads.values()].every((n) => n === round),
        'the same sample again',
      );
    }
    service.reads.clear();
    for (let round = 1; round <= 2; round += 1) {
      assert.equal((await run('--cell', 'percent')).code, 0);
      const expected = keys.filter((key) => sampleRank(3, key) < 0.1);
      assert.deepEqual(readKeys(), expected);
      assert.ok(expected.length > 60 && expected.length < 140, `${expected.length} of 1000 sampled`);
    }
  });

  it('halts on backfill control stop with exit 3 and resumes where it stopped', async () => {
    const records = 600;
    const { file, service } = await setUp(records, HTTP_CHECK, { rate: 100 });
    const args = ['run', file, '--var', `BASE_URL=${service.url}`, '--cell', 'check'];
    const first = startCli(args);
    await waitFor(() => service.reads.size >= 50, 'the first checks');
    assert.equal((await runCli(['control', file, 'stop'])).code, 0);
    assert.equal(await first.exited, 3, first.stdout() + first.stderr());
    assert.match(first.stdout(), /Verification halted/);
    const checkedBeforeResume = service.reads.size;
    assert.ok(checkedBeforeResume < records);
    const status = JSON.parse((await runCli(['status', file, '--json'])).stdout) as {
      cells: { cell: string; state: string }[];
    };
    assert.equal(status.cells.find((cell) => cell.cell === 'check')?.state, 'halted');

    const onlyGaps = await runCli([...args, '--only', 'unverified']);
    assert.equal(onlyGaps.code, 2, 'a halted verification is finished before its gaps are re-checked');
    assert.match(onlyGaps.stderr, /is halted: finish it first/);

    const resumed = await runCli(args);
    assert.equal(resumed.code, 0, resumed.stdout + resumed.stderr);
    assert.match(resumed.stdout, /resuming chain/);
    assert.equal(service.reads.size, records, 'every record checked');
    const twice = [...service.reads.values()].filter((n) => n > 1).length;
    assert.ok(twice <= 4, `${twice} records checked twice (at most those in flight at the stop)`);
    assert.equal((await exported(file, 'verified')).length, records);
  });

  it('reads a production environment only with --production, and needs no --confirm, checklist or dry run', async () => {
    const { run } = await setUp(5, HTTP_CHECK, { production: true, requiredItem: 'unchecked' });
    const refused = await run('--cell', 'check', '--env', 'prod');
    assert.equal(refused.code, 4);
    assert.match(refused.stderr, /verifying it needs --production/);
    const verified = await run('--cell', 'check', '--env', 'prod', '--production');
    assert.equal(verified.code, 0, verified.stdout + verified.stderr);
    const typo = await run('--cell', 'check', '--env', 'prod', '--production', '--confirm', 'other');
    assert.equal(typo.code, 4);
  });

  it("re-backfills a production job's gaps through the execute cell's gates, after a finished verification", async () => {
    const { file, service, run } = await setUp(5, HTTP_CHECK, {
      production: true,
      requiredItem: 'unchecked',
    });
    const production = ['--env', 'prod', '--production', '--confirm', 'fixture-job'];
    const refill = () => run('--cell', 'full', '--only', 'unverified', ...production);
    const unchecked = await refill();
    assert.equal(unchecked.code, 4);
    assert.match(unchecked.stderr, /checklist gate/);
    fs.writeFileSync(
      file,
      fs.readFileSync(file, 'utf8').replace('  required: true\n', '  required: false\n'),
    );
    const noDryRun = await refill();
    assert.equal(noDryRun.code, 4);
    assert.match(noDryRun.stderr, /dry-run gate/);
    const dryRun = await runCli([
      'dry-run',
      file,
      '--cell',
      'full',
      '--env',
      'prod',
      '--var',
      `BASE_URL=${service.url}`,
    ]);
    assert.equal(dryRun.code, 0, dryRun.stdout + dryRun.stderr);
    const unverified = await refill();
    assert.equal(unverified.code, 2);
    assert.match(unverified.stderr, /has not been verified yet/);
    assert.equal(service.writes.size, 0, 'nothing was written so far');

    service.items.delete(keyOf(2));
    service.items.set(keyOf(4), { ...rightState(4), amount: 0 });
    assert.equal((await run('--cell', 'check', '--env', 'prod', '--production')).code, 1);
    const refilled = await refill();
    assert.equal(refilled.code, 0, refilled.stdout + refilled.stderr);
    assert.match(refilled.stdout, /PRODUCTION run/);
    assert.match(
      refilled.stdout,
      /Re-backfilling the 2 records verification run \S+ found mismatched or missing/,
    );
    assert.deepEqual([...service.writes.keys()].sort(), [keyOf(2), keyOf(4)]);
    assert.deepEqual(service.items.get(keyOf(4)), { id: keyOf(4), amount: 4.5 });
    const sentTwice = await refill();
    assert.equal(sentTwice.code, 2, 'the same gaps are not sent twice');
    assert.match(sentTwice.stderr, /re-backfilled since: re-check them/);
  });
});
