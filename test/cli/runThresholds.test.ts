import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import { runCli } from '../support/cli';
import { cliWorkspace } from '../support/cliWorkspace';
import { writeFixtureRunbook } from '../support/runbookFixture';

interface StatusJson {
  cells: {
    cell: string;
    state: string;
    failed: number;
    history: { what: string; outcome: string }[];
    failures?: { reason: string; count: number; key: string }[];
  }[];
}

/** successThreshold over the records that could be sent, maxRejected for the rest, judged again on change. */
describe('backfill run thresholds', function () {
  this.timeout(120_000);
  const work = cliWorkspace();

  it('judges success over the records that could be sent: three malformed rows do not fail a 0.9999 threshold', async () => {
    const server = await work.serve();
    const file = writeFixtureRunbook(work.dir, { records: 30, malformed: 3, threshold: 0.9999 });
    const run = await runCli(['run', file, '--cell', 'full', '--var', `BASE_URL=${server.url}`, '--execute']);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /Run succeeded\.\n {2}30 succeeded, 0 failed, 3 rejected/);
    assert.equal(server.arrivals.length, 30);
  });

  it('names the runbook and the environment in use, not FILE, in the command that lists rejected records', async () => {
    const target = await work.serve();
    const file = writeFixtureRunbook(work.dir, {
      records: 5,
      malformed: 2,
      executeExtra: 'maxRejected: 0\n',
      headerExtra: '  staging:\n    vars:\n      BASE_URL: http://127.0.0.1:9\n',
    });
    const args = ['--var', `BASE_URL=${target.url}`, '--execute', '--env', 'staging'];
    const run = await runCli(['run', file, '--cell', 'full', ...args]);
    assert.equal(run.code, 1, run.stdout + run.stderr);
    const command = `backfill ledger ${file} --cell full --env staging --status rejected`;
    assert.ok(run.stdout.includes(`(${command} lists them)`), run.stdout);
    const listed = await runCli(command.split(' ').slice(1));
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /bad1/);
    assert.match(listed.stdout, /bad2/);
  });

  it('holds rejected records to maxRejected, and judges a finished run again without sending when it changes', async () => {
    const target = await work.serve();
    const file = writeFixtureRunbook(work.dir, {
      records: 30,
      malformed: 3,
      threshold: 0.9999,
      executeExtra: 'maxRejected: 2\n',
    });
    const run = (...extra: string[]) =>
      runCli(['run', file, '--cell', 'full', '--var', `BASE_URL=${target.url}`, '--execute', ...extra]);

    const dryRun = await runCli(['dry-run', file, '--cell', 'full', '--var', `BASE_URL=${target.url}`]);
    assert.equal(dryRun.code, 1, dryRun.stdout + dryRun.stderr);
    assert.match(dryRun.stdout, /3 records are rejected, more than maxRejected 2/);

    const first = await run();
    assert.equal(first.code, 1, first.stdout + first.stderr);
    assert.match(first.stdout, /Run below-threshold\./);
    assert.match(first.stdout, /3 records rejected, more than maxRejected 2/);
    assert.ok(
      first.stdout.includes(`(backfill ledger ${file} --cell full --status rejected lists them)`),
      first.stdout,
    );
    assert.match(first.stdout, /To accept it, change successThreshold or maxRejected of cell full/);
    assert.equal(target.arrivals.length, 30);

    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('maxRejected: 2', 'maxRejected: 5'));
    const judged = await run();
    assert.equal(judged.code, 0, judged.stdout + judged.stderr);
    assert.match(judged.stdout, /judging run \S+ \(below-threshold\) again .*nothing is sent/);
    assert.match(judged.stdout, /Changed: maxRejected 5 \(was 2\)/);
    assert.match(
      judged.stdout,
      /Run succeeded \(judged again without sending: run \S+ had ended below-threshold\)/,
    );
    assert.equal(target.arrivals.length, 30, 'nothing is sent to judge again');

    // Judged with the thresholds it has now, the cell is finished: a plain run is refused again.
    const refused = await run();
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /already finished/);
    assert.equal(target.arrivals.length, 30);

    const status = JSON.parse((await runCli(['status', file, '--json'])).stdout) as StatusJson;
    const full = status.cells.find((cell) => cell.cell === 'full')!;
    assert.equal(full.state, 'succeeded');
    assert.deepEqual(
      full.history.map((entry) => [entry.what, entry.outcome]),
      [
        ['run', 'below-threshold'],
        ['judged again', 'succeeded'],
      ],
    );
  });

  it('keeps the failure reasons in the summary and in status (text and --json) after a run judged again', async () => {
    const target = await work.serve((arrival) =>
      arrival.path === '/items/k00003' ? { status: 404, body: { error: 'no such item' } } : {},
    );
    const file = writeFixtureRunbook(work.dir, { records: 10, retries: 0, threshold: 0.95 });
    const run = () => runCli(['run', file, '--cell', 'full', '--var', `BASE_URL=${target.url}`, '--execute']);
    const first = await run();
    assert.equal(first.code, 1, first.stdout + first.stderr);
    assert.match(first.stdout, /Failures: 1 × .*404.* — e\.g\. key k00003/);

    fs.writeFileSync(
      file,
      fs.readFileSync(file, 'utf8').replace('successThreshold: 0.95', 'successThreshold: 0.9'),
    );
    const judged = await run();
    assert.equal(judged.code, 0, judged.stdout + judged.stderr);
    assert.match(judged.stdout, /judged again without sending/);
    assert.match(judged.stdout, /Failures: 1 × .*404.* — e\.g\. key k00003/);
    assert.match(judged.stdout, /key k00003: .*404/);
    assert.equal(target.arrivals.length, 10, 'nothing is sent to judge again');

    const text = await runCli(['status', file]);
    assert.match(text.stdout, /full \(execute\): succeeded/);
    assert.match(text.stdout, /\n {2}failures: 1 × .*404.* — e\.g\. key k00003\n/);
    const status = JSON.parse((await runCli(['status', file, '--json'])).stdout) as StatusJson;
    const full = status.cells.find((cell) => cell.cell === 'full')!;
    assert.equal(full.failed, 1);
    assert.deepEqual(
      full.failures?.map(({ count, key }) => ({ count, key })),
      [{ count: 1, key: 'k00003' }],
    );
    assert.match(full.failures?.[0]?.reason ?? '', /404/);

    // The report calls the re-judgement what it is, not a resume that skipped 0 records.
    const report = await runCli(['report', file, '--format', 'md']);
    assert.equal(report.code, 0, report.stderr);
    const md = fs.readFileSync(file.replace(/\.backfill$/, '.report.md'), 'utf8');
    assert.match(
      md,
      /\*\*judged again\*\* — successThreshold 0\.9 \(was 0\.95\): run [0-9a-f]{8}, which had ended below-threshold, now succeeded; nothing sent/,
    );
    assert.doesNotMatch(md, /\*\*resume\*\*/);
  });
});
