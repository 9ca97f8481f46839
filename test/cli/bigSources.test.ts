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
      assert.equal(fs.existsSync(`${file}.d`), false, 'the refused run left its state folder');
      assert.equal(target.arrivals.length, 0);
    });
  }
});
