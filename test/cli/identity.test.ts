import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { openLedger } from '../../src/core/ledger/openLedger';
import { runCli, tempDir } from '../support/cli';
import { writeFixtureRunbook } from '../support/runbookFixture';
import { startTargetServer, type TargetServer } from '../support/targetServer';

/** What the ledger beside the runbook recorded about who acted: runs, dry runs, sign-offs. */
async function recordedIdentities(file: string) {
  const ledger = await openLedger(file);
  try {
    return {
      runs: (await ledger.runs('full')).map((run) => run.operator),
      dryRuns: (await ledger.dryRuns()).map((dryRun) => dryRun.operator),
      signOffs: (await ledger.signOffs('sign-off')).map((signOff) => signOff.by),
    };
  } finally {
    await ledger.close();
  }
}

describe('one identity on the command line: run, dry-run and sign record the same person', function () {
  this.timeout(60_000);
  let work: ReturnType<typeof tempDir>;
  let target: TargetServer;

  beforeEach(async () => {
    work = tempDir();
    target = await startTargetServer();
    // The runbook's folder is a git repository with its own user: what a person's checkout looks like.
    execFileSync('git', ['init', '-q', work.dir]);
    execFileSync('git', ['config', 'user.name', 'Rosalind Franklin'], { cwd: work.dir });
  });
  afterEach(async () => {
    await target.stop();
    work.cleanup();
  });

  async function signDryRunAndRun(env: NodeJS.ProcessEnv, signFlags: string[] = []) {
    const file = writeFixtureRunbook(work.dir, { records: 3, requiredItem: 'unchecked' });
    const vars = ['--var', `BASE_URL=${target.url}`];
    const signed = await runCli(['sign', file, '--item', 'owner-approves', '--yes', ...signFlags], { env });
    assert.equal(signed.code, 0, signed.stderr);
    const dryRun = await runCli(['dry-run', file, ...vars], { env });
    assert.equal(dryRun.code, 0, dryRun.stderr);
    const run = await runCli(['run', file, '--cell', 'full', '--execute', ...vars], { env });
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.equal(target.countsByKey().size, 3, 'the run sent its records');
    return recordedIdentities(file);
  }

  it('git user.name in the runbook’s folder names the signer, the dry run’s and the run’s operator', async () => {
    const recorded = await signDryRunAndRun({ BACKFILL_OPERATOR: undefined });
    assert.deepEqual(recorded, {
      runs: ['Rosalind Franklin'],
      dryRuns: ['Rosalind Franklin'],
      signOffs: ['Rosalind Franklin'],
    });
  });

  it('BACKFILL_OPERATOR comes before git for all three, and --as before both for a sign-off', async () => {
    const recorded = await signDryRunAndRun({ BACKFILL_OPERATOR: 'release-bot' });
    assert.deepEqual(recorded, {
      runs: ['release-bot'],
      dryRuns: ['release-bot'],
      signOffs: ['release-bot'],
    });

    const file = writeFixtureRunbook(work.dir, { records: 3, requiredItem: 'unchecked' });
    const signed = await runCli(['sign', file, '--item', 'owner-approves', '--as', 'Grace'], {
      env: { BACKFILL_OPERATOR: 'release-bot' },
    });
    assert.equal(signed.code, 0, signed.stderr);
    assert.deepEqual((await recordedIdentities(file)).signOffs, ['release-bot', 'Grace']);
  });
});
