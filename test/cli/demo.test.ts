import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO, runCli } from '../support/cli';

describe('npm run demo (the README first command)', function () {
  this.timeout(180_000);

  it('goes through dry run, small batch, full run, verification, gap re-backfill and report without touching runbooks/', async () => {
    const committed = fs.readFileSync(path.join(REPO, 'runbooks', 'demo.backfill'));
    const demo = spawnSync(process.execPath, [path.join(REPO, 'dist', 'demo.js')], {
      cwd: REPO,
      encoding: 'utf8',
    });
    assert.equal(demo.status, 0, demo.stdout + demo.stderr);
    assert.match(demo.stdout, /Verification found gaps: 9 of 497 checked records are not verified/);
    assert.match(demo.stdout, /Verification succeeded: every checked record is verified/);

    const runbook = path.join(REPO, 'demo-output', 'demo.backfill');
    const verified = await runCli([
      'ledger',
      runbook,
      '--cell',
      'check',
      '--status',
      'verified',
      '--format',
      'jsonl',
    ]);
    assert.equal(verified.stdout.split('\n').filter(Boolean).length, 497);
    const report = fs.readFileSync(path.join(REPO, 'demo-output', 'demo.report.html'), 'utf8');
    assert.match(report, /497/);
    assert.match(fs.readFileSync(runbook, 'utf8'), /```result for=check\n/);
    assert.deepEqual(fs.readFileSync(path.join(REPO, 'runbooks', 'demo.backfill')), committed);
  });
});
