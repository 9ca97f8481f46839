import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runCli, tempDir } from '../support/cli';
import { keyOf, writeFixtureRunbook } from '../support/runbookFixture';
import { startTargetServer, type TargetServer } from '../support/targetServer';

/** Sources too big to read whole: sparse files (`truncate`), so they cost no disk and stream fast. */
describe('backfill run over huge source files', function () {
  this.timeout(120_000);
  let work: ReturnType<typeof tempDir>;
  let target: TargetServer;

  beforeEach(async () => {
    work = tempDir();
    target = await startTargetServer();
  });
  afterEach(async () => {
    await target.stop();
    work.cleanup();
  });

  const runArgs = (file: string, ...extra: string[]) => [
    'run',
    file,
    '--cell',
    'full',
    '--var',
    `BASE_URL=${target.url}`,
    '--execute',
    '--no-progress',
    ...extra,
  ];

  /** The fixture runbook reading `source` (YAML lines under `source:`) instead of its CSV. */
  function runbookWithSource(source: string): string {
    const file = writeFixtureRunbook(work.dir, { records: 0, threshold: 0 });
    const text = fs.readFileSync(file, 'utf8');
    fs.writeFileSync(file, text.replace(/ {2}type: csv\n {2}path: records\.csv\n/, source));
    return file;
  }

  it('sends the records of a JSON array whose last element is 16 MiB of NUL bytes, and rejects that element with its line', async () => {
    const file = runbookWithSource('  type: json\n  path: records.json\n');
    const json = path.join(work.dir, 'records.json');
    fs.writeFileSync(json, `[{"id":"${keyOf(1)}","amount":1},\n{"id":"${keyOf(2)}","amount":2},`);
    fs.truncateSync(json, 16 * 1024 * 1024 + 64);
    const result = await runCli(runArgs(file));
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.deepEqual(target.arrivals.map((a) => a.key).sort(), [keyOf(1), keyOf(2)]);
    const rejected = await runCli(['ledger', file, '--status', 'rejected', '--format', 'jsonl']);
    assert.equal(rejected.code, 0, rejected.stderr);
    const rows = rejected.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.equal(rows.length, 1, rejected.stdout);
    assert.equal(rows[0]?.line, 2);
    assert.match(String(rows[0]?.lastError), /the element is longer than 16 MiB .*; the file ends inside it/);
  });

  for (const command of ['run', 'dry-run'] as const) {
    it(`refuses a SQLite source over 1 GiB before reading it (${command}: exit 2, located at the source, no state folder)`, async () => {
      const file = runbookWithSource(
        '  type: sqlite\n  path: records.sqlite\n  query: SELECT id, amount FROM t\n',
      );
      const sqlite = path.join(work.dir, 'records.sqlite');
      fs.writeFileSync(sqlite, 'SQLite format 3\0');
      fs.truncateSync(sqlite, 1024 * 1024 * 1024 + 1);
      const args =
        command === 'run'
          ? runArgs(file)
          : ['dry-run', file, '--cell', 'preview', '--var', `BASE_URL=${target.url}`];
      const result = await runCli(args);
      assert.equal(result.code, 2, result.stdout + result.stderr);
      assert.ok(
        result.stderr.includes(
          `${file}:13: cell items: source.path: ${sqlite} is 1.0 GiB: a sqlite source reads its file whole into memory, up to 1 GiB`,
        ),
        result.stderr,
      );
      assert.ok(
        result.stderr.includes(`(sqlite3 -csv ${sqlite} "the source's query" > rows.csv)`),
        result.stderr,
      );
      assert.equal(fs.existsSync(`${file}.d`), false, 'the refused run left its state folder');
      assert.equal(target.arrivals.length, 0);
    });
  }

  it('refuses a CSV whose 1 GiB header line is NUL bytes (exit 2, located) and leaves no state folder', async () => {
    const file = writeFixtureRunbook(work.dir, { records: 0 });
    const csv = path.join(work.dir, 'records.csv');
    fs.writeFileSync(csv, '');
    fs.truncateSync(csv, 1024 * 1024 * 1024);
    const result = await runCli(runArgs(file));
    assert.equal(result.code, 2, result.stdout + result.stderr);
    assert.match(result.stderr, /records\.csv:1: the header line: the line is longer than 16 MiB/);
    assert.equal(fs.existsSync(`${file}.d`), false, 'the refused run left its state folder');
    assert.equal(target.arrivals.length, 0);
  });

  /**
   * A command source: the first call (the hash before the run) prints `records`; later calls (the pass that
   * sends) print `sendingRecords`, then wait `seconds` and fail.
   */
  function commandSourceRunbook(records: number, sendingRecords: number, seconds: number): string {
    const file = runbookWithSource('  type: command\n  argv: [./records.sh]\n');
    const lines = (n: number) =>
      Array.from({ length: n }, (_, i) => `echo '{"id":"${keyOf(i + 1)}","amount":${i + 1}}'`).join('\n');
    fs.writeFileSync(
      path.join(work.dir, 'records.sh'),
      `#!/bin/sh\nif [ ! -e called ]; then\n  touch called\n${lines(records)}\n  exit 0\nfi\n` +
        `${lines(sendingRecords)}\nsleep ${seconds}\necho "the export broke" >&2\nexit 1\n`,
      { mode: 0o755 },
    );
    return file;
  }

  it('refuses a source that fails before its first record, however long it took, before recording the run (no state folder)', async () => {
    // Six seconds: longer than the five after which a started run's journal is folded into ledger.sqlite.
    const file = commandSourceRunbook(2, 0, 6);
    const result = await runCli(runArgs(file), { cwd: work.dir });
    assert.equal(result.code, 2, result.stdout + result.stderr);
    assert.match(
      result.stderr,
      /the source command "\.\/records\.sh" exited with code 1; end of its stderr:\nthe export broke/,
    );
    assert.equal(fs.existsSync(`${file}.d`), false, 'the refused run left its state folder');
    assert.equal(target.arrivals.length, 0);
  });

  it('records the end of a run whose source fails half-way (halted, with the reason), never leaving it running', async () => {
    const file = commandSourceRunbook(3, 2, 0.5);
    const result = await runCli(runArgs(file), { cwd: work.dir });
    assert.equal(result.code, 2, result.stdout + result.stderr);
    assert.deepEqual(target.arrivals.map((a) => a.key).sort(), [keyOf(1), keyOf(2)]);
    const status = await runCli(['status', file, '--json']);
    assert.equal(status.code, 0, status.stderr);
    type Cell = { cell: string; state: string; outcome?: string; reason?: string };
    const cell = (JSON.parse(status.stdout) as { cells: Cell[] }).cells.find((c) => c.cell === 'full');
    assert.equal(cell?.state, 'halted', status.stdout);
    assert.equal(cell?.outcome, 'halted', status.stdout);
    assert.match(
      cell?.reason ?? '',
      /^the run stopped: the source command "\.\/records\.sh" exited with code 1/,
    );
    const onDisk = JSON.parse(fs.readFileSync(path.join(`${file}.d`, 'status.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    assert.equal(onDisk.state, 'halted');
    assert.equal(onDisk.succeeded, 2);
  });
});
