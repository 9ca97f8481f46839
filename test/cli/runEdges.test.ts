import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { resolveEnvironment } from '../../src/core/job/environment';
import { findCell, parseRunbook, type RunnableCell } from '../../src/core/format/runbook';
import { resolveJob } from '../../src/core/job/job';
import { runBackfill } from '../../src/core/run/runner';
import { runCli, tempDir } from '../support/cli';
import { sleep, startCli, waitFor } from '../support/cliProcess';
import { keyOf, writeFixtureRunbook } from '../support/runbookFixture';
import { startTargetServer, type TargetServer } from '../support/targetServer';

describe('backfill run at the edges', function () {
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
    ...extra,
  ];

  it('halts a run whose dispatcher lost records (exit 3) saying how many records have no outcome, and a resume sends exactly those', async () => {
    const file = writeFixtureRunbook(work.dir, { records: 6 });
    const { runbook } = parseRunbook(fs.readFileSync(file, 'utf8'), file);
    assert.ok(runbook);
    const job = resolveJob(runbook, findCell(runbook, 'full') as RunnableCell);
    const dropped = new Set([keyOf(2), keyOf(5)]);
    const result = await runBackfill({
      runbook,
      job,
      environment: resolveEnvironment(runbook.header, undefined, { BASE_URL: target.url }),
      mode: 'execute',
      secretValues: {},
      operator: 'test',
      testDropRecord: (key) => dropped.has(key),
    });
    assert.equal(result.outcome, 'halted', 'halted, so the CLI exits 3');
    assert.match(result.reason ?? '', /2 of the 6 records selected so far have no outcome/);
    assert.deepEqual(
      target.arrivals.map((a) => a.key).sort(),
      [1, 3, 4, 6].map(keyOf),
      'the dropped records were never sent',
    );

    const resumed = await runCli([
      'run',
      file,
      '--cell',
      'full',
      '--var',
      `BASE_URL=${target.url}`,
      '--execute',
    ]);
    assert.equal(resumed.code, 0, resumed.stdout + resumed.stderr);
    assert.deepEqual(
      target.arrivals.map((a) => a.key).sort(),
      [1, 2, 3, 4, 5, 6].map(keyOf),
      'the resume sent the two records without an outcome, and only them',
    );
  });

  it('does not call a run over a header-only CSV a success: exit 1, "selected no records"', async () => {
    const file = writeFixtureRunbook(work.dir, { records: 0, threshold: 0 });
    const result = await runCli(runArgs(file));
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.match(result.stdout, /Run selected no records: nothing was sent/);
    assert.doesNotMatch(result.stdout, /Run succeeded/);
    assert.equal(target.arrivals.length, 0);
    const status = await runCli(['status', file, '--json']);
    assert.match(status.stdout, /the selection is empty/);
  });

  it('says when a stopped runner shows no sign of life, and stops saying it once it runs again', async () => {
    const file = writeFixtureRunbook(work.dir, { records: 2000, rate: 50 });
    const run = startCli(runArgs(file));
    try {
      await waitFor(() => target.arrivals.length >= 3, 'the first requests', 60_000);
      run.child.kill('SIGSTOP');
      await sleep(7000);
      const stopped = await runCli(['status', file]);
      assert.match(stopped.stdout, /full \(execute\): running\? no sign of life for \d+ s/, stopped.stdout);
      run.child.kill('SIGCONT');
      await sleep(2500);
      const again = await runCli(['status', file]);
      assert.match(again.stdout, /full \(execute\): running\n/, again.stdout);
    } finally {
      run.child.kill('SIGCONT');
      run.child.kill('SIGKILL');
      await run.exited;
    }
  });

  it('refuses a record value in LD_PRELOAD of a command action with a located error (exit 2)', async () => {
    const file = path.join(work.dir, 'preload.backfill');
    fs.writeFileSync(
      file,
      '---\ntitle: T\nname: t\nowner: o\n---\n```job id=orders\nsource:\n  type: inline\n  key: id\n' +
        '  records: [{ id: "1" }]\naction:\n  type: command\n  argv: [./send]\n  env:\n' +
        '    LD_PRELOAD: "${record:id}"\n```\n',
    );
    const result = await runCli(['check', file]);
    assert.equal(result.code, 2, result.stdout + result.stderr);
    assert.match(
      result.stderr,
      new RegExp(
        `${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:15: cell orders: action\\.env\\.LD_PRELOAD: LD_PRELOAD changes how the program is loaded`,
      ),
    );
  });

  it('reads past a line of 40 MB of NUL bytes (a sparse file) as one rejected record with its line', async () => {
    const file = writeFixtureRunbook(work.dir, { records: 2 });
    const csv = path.join(work.dir, 'records.csv');
    fs.appendFileSync(csv, 'k00003,3.5\n');
    fs.truncateSync(csv, fs.statSync(csv).size + 40 * 1024 * 1024);
    const result = await runCli(['dry-run', file, '--cell', 'preview', '--json']);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /"line": 5,[^}]*"reason": "the line is longer than 16 MiB/);
    assert.doesNotMatch(result.stderr, /internal error/);
  });

  it('refuses a CSV whose header line is longer than 16 MiB (exit 2, located) and leaves no state behind', async () => {
    const file = writeFixtureRunbook(work.dir, { records: 2 });
    fs.writeFileSync(path.join(work.dir, 'records.csv'), `id,${'x'.repeat(17 * 1024 * 1024)}\nk00001,1.5\n`);
    const result = await runCli(runArgs(file));
    assert.equal(result.code, 2, result.stdout + result.stderr);
    assert.match(result.stderr, /records\.csv:1: the header line: the line is longer than 16 MiB/);
    assert.equal(fs.existsSync(`${file}.d`), false, 'the refused run left its state folder');
    assert.equal(target.arrivals.length, 0);
  });

  it('refuses a source that is a FIFO (exit 2) and creates no state files', async () => {
    const file = writeFixtureRunbook(work.dir, { records: 2 });
    fs.rmSync(path.join(work.dir, 'records.csv'));
    execFileSync('mkfifo', [path.join(work.dir, 'records.csv')]);
    const result = await runCli(runArgs(file));
    assert.equal(result.code, 2, result.stdout + result.stderr);
    assert.match(result.stderr, /records\.csv is not a file/);
    assert.equal(fs.existsSync(`${file}.d`), false);
  });

  it("names a source outside the runbook's folder by its absolute path in the dry run and the report", async () => {
    const book = path.join(work.dir, 'book');
    fs.mkdirSync(book);
    const file = writeFixtureRunbook(book, { records: 2 });
    const data = path.join(work.dir, 'data', 'records.csv');
    fs.mkdirSync(path.dirname(data));
    fs.renameSync(path.join(book, 'records.csv'), data);
    fs.writeFileSync(
      file,
      fs.readFileSync(file, 'utf8').replace('path: records.csv', 'path: ../data/records.csv'),
    );
    const dryRun = await runCli(['dry-run', file, '--cell', 'preview']);
    assert.equal(dryRun.code, 0, dryRun.stdout + dryRun.stderr);
    assert.ok(dryRun.stdout.includes(`Source outside the runbook's folder: ${data}`), dryRun.stdout);
    const report = await runCli(['report', file, '--format', 'md', '--out', path.join(work.dir, 'r.md')]);
    assert.equal(report.code, 0, report.stdout + report.stderr);
    assert.ok(
      fs.readFileSync(path.join(work.dir, 'r.md'), 'utf8').includes(`outside the runbook's folder: ${data}`),
    );
  });

  it('follows a ledger that is a symbolic link, and leaves the link a link', async () => {
    const file = writeFixtureRunbook(work.dir, { records: 3 });
    const first = await runCli(runArgs(file));
    assert.equal(first.code, 0, first.stdout + first.stderr);
    const ledger = path.join(`${file}.d`, 'ledger.sqlite');
    const real = path.join(work.dir, 'elsewhere', 'ledger.sqlite');
    fs.mkdirSync(path.dirname(real));
    fs.renameSync(ledger, real);
    fs.symlinkSync(real, ledger);
    const before = fs.readFileSync(real);

    const second = await runCli(runArgs(file, '--restart'));
    assert.equal(second.code, 0, second.stdout + second.stderr);
    assert.ok(fs.lstatSync(ledger).isSymbolicLink(), 'the ledger is still a symbolic link');
    assert.ok(!fs.readFileSync(real).equals(before), 'the file it points to holds the second run');
    const runs = await runCli(['status', file, '--json']);
    assert.equal(runs.code, 0, runs.stderr);
  });
});
