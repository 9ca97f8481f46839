import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import { runCli, tempDir } from '../support/cli';
import { writeFixtureRunbook } from '../support/runbookFixture';
import { startTargetServer, type TargetServer } from '../support/targetServer';

describe('the production gate', function () {
  this.timeout(60_000);
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

  it('records each refused attempt (who, when, which gate) beside the ledger, and the report lists them', async () => {
    const file = writeFixtureRunbook(work.dir, { records: 30, production: true, requiredItem: 'unchecked' });
    const vars = ['--env', 'prod', '--var', `BASE_URL=${target.url}`];
    const env = { BACKFILL_OPERATOR: 'Ada Lovelace' };
    const run = (...flags: string[]) => runCli(['run', file, '--cell', 'full', ...vars, ...flags], { env });
    const before = Date.now();
    assert.equal((await run('--production')).code, 4);
    assert.equal((await run('--production', '--confirm', 'fixture-job')).code, 4);
    const attempts = fs
      .readFileSync(`${file}.d/attempts.jsonl`, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.deepEqual(
      attempts.map((a) => [a.operator, a.cell, a.environment, a.production, a.outcome, a.gate]),
      [
        ['Ada Lovelace', 'full', 'prod', true, 'refused', 'confirmation'],
        ['Ada Lovelace', 'full', 'prod', true, 'refused', 'checklist'],
      ],
    );
    assert.match(String(attempts[1]!.reason), /required checklist items are not checked/);
    for (const a of attempts) assert.ok(Date.parse(String(a.at)) >= before - 1000, 'when it happened');
    assert.equal(target.arrivals.length, 0);

    const report = await runCli(['report', file, '--format', 'md', '--out', `${work.dir}/r.md`]);
    assert.equal(report.code, 0, report.stderr);
    const section = fs.readFileSync(`${work.dir}/r.md`, 'utf8').split('## Refused and cancelled attempts')[1];
    assert.ok(section, 'the report has the attempts section');
    assert.match(
      section,
      /\| Ada Lovelace \| `full` \| prod \(production\) \| \*\*refused\*\* by confirmation — /,
    );
    assert.match(
      section,
      /\| Ada Lovelace \| `full` \| prod \(production\) \| \*\*refused\*\* by checklist — /,
    );
  });

  it('refuses until confirmed, signed off and dry-run on the same data, then proceeds', async () => {
    const file = writeFixtureRunbook(work.dir, { records: 30, production: true, requiredItem: 'unchecked' });
    const vars = ['--env', 'prod', '--var', `BASE_URL=${target.url}`];
    const run = (...flags: string[]) => runCli(['run', file, '--cell', 'full', ...vars, ...flags]);

    const plainExecute = await run('--execute');
    assert.equal(plainExecute.code, 4);
    assert.match(plainExecute.stderr, /is production: a real run needs --production --confirm fixture-job/);

    const unconfirmed = await run('--production');
    assert.equal(unconfirmed.code, 4);
    assert.match(unconfirmed.stderr, /needs --confirm fixture-job/);

    const mistyped = await run('--production', '--confirm', 'fixture-jobs');
    assert.equal(mistyped.code, 4);
    assert.match(mistyped.stderr, /does not match the runbook's name/);

    const unchecked = await run('--production', '--confirm', 'fixture-job');
    assert.equal(unchecked.code, 4);
    assert.match(
      unchecked.stderr,
      /required checklist items are not checked: sign-off: "Owner approves" \(owner Grace\)/,
    );

    // Typed by hand: a sign-off that records no plan approves nothing.
    fs.writeFileSync(
      file,
      fs
        .readFileSync(file, 'utf8')
        .replace(
          '  required: true\n',
          '  required: true\n  checked: { by: Grace, at: "2026-11-26T09:00:00Z" }\n',
        ),
    );
    const handTyped = await run('--production', '--confirm', 'fixture-job');
    assert.equal(handTyped.code, 4);
    assert.match(
      handTyped.stderr,
      /job\.backfill:\d+: checklist sign-off: item owner-approves: the sign-off by Grace records no plan \(typed by hand\?\)/,
    );
    const signed = await runCli(['sign', file, '--item', 'owner-approves', '--as', 'Grace']);
    assert.equal(signed.code, 0, signed.stderr);
    const noDryRun = await run('--production', '--confirm', 'fixture-job');
    assert.equal(noDryRun.code, 4);
    assert.match(
      noDryRun.stderr,
      /no passing dry run of this job exists: run: backfill dry-run \S+ --cell full --env prod\n/,
    );

    const dryRun = await runCli(['dry-run', file, ...vars]);
    assert.equal(dryRun.code, 0, dryRun.stdout + dryRun.stderr);

    fs.appendFileSync(`${work.dir}/records.csv`, 'k99999,1.5\n');
    const changed = await run('--production', '--confirm', 'fixture-job');
    assert.equal(changed.code, 4);
    assert.match(changed.stderr, /the source data changed since the last passing dry run/);
    assert.equal(target.arrivals.length, 0, 'nothing was sent while refused');

    const again = await runCli(['dry-run', file, ...vars]);
    assert.equal(again.code, 0, again.stderr);
    const proceeds = await run('--production', '--confirm', 'fixture-job');
    assert.equal(proceeds.code, 0, proceeds.stdout + proceeds.stderr);
    assert.match(proceeds.stdout, /PRODUCTION run/);
    assert.match(proceeds.stdout, /Records: 31 · rate 1000\/s · concurrency 4/);
    assert.equal(target.countsByKey().size, 31);
  });

  it('names the environment in use, and says to dry-run it there when the only passing dry run was elsewhere', async () => {
    const file = writeFixtureRunbook(work.dir, {
      records: 3,
      production: true,
      requiredItem: 'unchecked',
      headerExtra: '  staging:\n    vars:\n      BASE_URL: http://127.0.0.1:9\n',
    });
    assert.equal((await runCli(['sign', file, '--item', 'owner-approves', '--as', 'Grace'])).code, 0);
    const staging = await runCli(['dry-run', file, '--env', 'staging', '--var', `BASE_URL=${target.url}`]);
    assert.equal(staging.code, 0, staging.stderr);
    const result = await runCli([
      ...['run', file, '--cell', 'full', '--env', 'prod', '--var', `BASE_URL=${target.url}`],
      ...['--production', '--confirm', 'fixture-job'],
    ]);
    assert.equal(result.code, 4);
    assert.match(
      result.stderr,
      /the only passing dry run of this job was in staging: dry-run it in prod: run: backfill dry-run \S+ --cell full --env prod\n/,
    );
    assert.doesNotMatch(result.stderr, /--env ENV/);
    assert.equal(target.arrivals.length, 0);
  });

  it('refuses --production for an environment that is not marked production', async () => {
    const file = writeFixtureRunbook(work.dir, { records: 3 });
    const result = await runCli(['run', file, '--cell', 'full', '--production', '--confirm', 'fixture-job']);
    assert.equal(result.code, 4);
    assert.match(result.stderr, /not marked production: use --execute/);
    assert.equal(target.arrivals.length, 0);
  });
});
