import * as fs from 'node:fs';
import { strict as assert } from 'node:assert';
import { loadRunbook } from '../../src/cli/loadRunbook';
import type { DryRunReport } from '../../src/core/dryrun/dryRun';
import { openLedger } from '../../src/core/ledger/openLedger';
import { recordsBeforeRun } from '../../src/core/run/recordsBeforeRun';
import { runCli } from '../support/cli';
import { cliWorkspace, ledgerRows } from '../support/cliWorkspace';
import { keyOf, writeFixtureRunbook, type FixtureOptions } from '../support/runbookFixture';
import type { Answer, Arrival } from '../support/targetServer';

const SMALL_BATCH = `\`\`\`execute id=small-batch
job: items
subset:
  first: 20
successThreshold: 1
\`\`\`
`;

interface JsonResult {
  outcome: string;
  plan: {
    doneElsewhere?: Record<string, number>;
    total?: number;
    records?: { sending?: number; ofSource?: number };
  };
  status: { skipped: number; succeeded: number; doneElsewhere?: Record<string, number> };
}

/** Runs of several cells of one runbook: a small batch, then the full run. */
describe('backfill run across cells', function () {
  this.timeout(120_000);
  const work = cliWorkspace();

  async function setUp(fixture: FixtureOptions, behave?: (arrival: Arrival, attempt: number) => Answer) {
    const target = await work.serve(behave);
    const file = writeFixtureRunbook(work.dir, { extraCells: SMALL_BATCH, ...fixture });
    const run = (cell: string, ...extra: string[]) =>
      runCli(['run', file, '--cell', cell, '--var', `BASE_URL=${target.url}`, '--execute', ...extra]);
    const dryRun = () => runCli(['dry-run', file, '--cell', 'preview', '--var', `BASE_URL=${target.url}`]);
    return { file, target, run, dryRun };
  }

  const keys = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => keyOf(from + i));

  it('skips in the full run what the small batch delivered, and says so in the plan, the summary and --json', async () => {
    const { file, target, run } = await setUp({ records: 50 });
    const small = await run('small-batch');
    assert.equal(small.code, 0, small.stdout + small.stderr);
    assert.deepEqual([...target.countsByKey().keys()].sort(), keys(1, 20));

    const full = await run('full');
    assert.equal(full.code, 0, full.stdout + full.stderr);
    const counts = target.countsByKey();
    assert.deepEqual([...counts.keys()].sort(), keys(1, 50));
    assert.ok(
      [...counts.values()].every((n) => n === 1),
      'no record is sent twice',
    );
    const [plan, summary] = full.stdout.split(/^Run succeeded/m);
    assert.match(plan!, /20 skipped: done by small-batch/);
    assert.match(
      summary!,
      /30 succeeded, 0 failed, 0 rejected, 0 skipped \(done earlier\), 20 skipped: done by small-batch/,
    );
    // The runbook's record of the run says it too.
    assert.match(
      fs.readFileSync(file, 'utf8'),
      /```result for=full\n(?:[^`]*\n)?doneElsewhere:\n {2}small-batch: 20\n/,
    );
    const rows = await ledgerRows(file, { cell: 'full' });
    assert.deepEqual(rows.map((row) => row.key).sort(), keys(21, 50));
    assert.ok(rows.every((row) => row.status === 'succeeded'));

    // Resumed or restarted, the full run still leaves the small batch's records alone; --json says so.
    const restarted = await run('full', '--restart', '--json');
    assert.equal(restarted.code, 0, restarted.stdout + restarted.stderr);
    const json = JSON.parse(restarted.stdout) as JsonResult;
    assert.deepEqual(json.plan.doneElsewhere, { 'small-batch': 20 });
    assert.deepEqual(json.status.doneElsewhere, { 'small-batch': 20 });
    assert.equal(json.status.skipped, 20);
    assert.equal(json.status.succeeded, 30);
    assert.equal(target.countsByKey().get(keyOf(1)), 1);
    assert.equal(target.countsByKey().get(keyOf(21)), 2);
  });

  it('plans the records each run really sends: the small batch of the source, then the rest', async () => {
    const { run, dryRun } = await setUp({ records: 50, malformed: 2 });
    const small = await run('small-batch');
    assert.equal(small.code, 0, small.stdout + small.stderr);
    // No dry run has counted the source yet: the run counts it up front.
    assert.match(small.stdout, /Records: 20 of 50 \(subset first: 20\) · rate/);

    assert.equal((await dryRun()).code, 0);
    const again = await run('small-batch', '--restart');
    assert.match(again.stdout, /Records: 20 of 50 \(subset first: 20\) · rate/);
    const full = await run('full', '--json');
    assert.equal(full.code, 0, full.stdout + full.stderr);
    const json = JSON.parse(full.stdout) as JsonResult;
    assert.deepEqual(json.plan.records, { sending: 30, ofSource: 50 });
    assert.equal(json.plan.total, 32, 'what the chain records: 30 sent and 2 malformed');
    assert.equal(json.status.succeeded, 30);
  });

  it("counts before the run, for the editor's confirmation, the records the plan line then says", async () => {
    const { file, target, run } = await setUp({ records: 50, malformed: 2 });
    assert.equal((await run('small-batch')).code, 0);
    const vars = ['--var', `BASE_URL=${target.url}`];
    const dryRun = await runCli(['dry-run', file, '--cell', 'full', ...vars, '--json', '--no-write-result']);
    assert.equal(dryRun.code, 0, dryRun.stdout + dryRun.stderr);
    const report = JSON.parse(dryRun.stdout) as DryRunReport;
    const before = async (restart: boolean) => {
      const ledger = await openLedger(file);
      try {
        const runbook = loadRunbook(file);
        return await recordsBeforeRun(ledger, {
          runbook,
          cell: 'full',
          fingerprint: report.fingerprint,
          restart,
          ofSource: report.counts.valid,
        });
      } finally {
        await ledger.close();
      }
    };
    const planned = await before(false);
    assert.deepEqual(planned, { text: '30 of 50 (20 skipped: done by small-batch)', sending: 30 });
    assert.equal(report.counts.selected, 50, 'the dry run selects them all');
    const full = await run('full');
    assert.equal(full.code, 0, full.stdout + full.stderr);
    assert.match(full.stdout, new RegExp(`Records: ${escape(planned!.text)} · rate`));
    // Finished: only a run from the start would go, and it skips the small batch's records too.
    assert.equal(await before(false), undefined);
    assert.deepEqual(await before(true), planned);
  });

  it('sends the delivered records again with --resend-delivered, or with the cell field resend: delivered', async () => {
    const again = `\`\`\`execute id=again
job: items
resend: delivered
\`\`\`
`;
    const { target, run } = await setUp({ records: 30, extraCells: SMALL_BATCH + '\n' + again });
    assert.equal((await run('small-batch')).code, 0);

    const resent = await run('full', '--resend-delivered');
    assert.equal(resent.code, 0, resent.stdout + resent.stderr);
    assert.doesNotMatch(resent.stdout, /done by/);
    assert.deepEqual(
      keys(1, 30).map((key) => target.countsByKey().get(key)),
      keys(1, 30).map((_, i) => (i < 20 ? 2 : 1)),
    );

    const byField = await run('again');
    assert.equal(byField.code, 0, byField.stdout + byField.stderr);
    assert.doesNotMatch(byField.stdout, /done by/);
    assert.deepEqual(
      keys(1, 30).map((key) => target.countsByKey().get(key)),
      keys(1, 30).map((_, i) => (i < 20 ? 3 : 2)),
    );
  });

  it('sends again what the small batch failed to deliver', async () => {
    const { target, run } = await setUp({ records: 30, retries: 0 }, (arrival, attempt) =>
      arrival.key === keyOf(5) && attempt === 1 ? { status: 500 } : {},
    );
    const small = await run('small-batch');
    assert.equal(small.code, 1, small.stdout + small.stderr);
    const full = await run('full');
    assert.equal(full.code, 0, full.stdout + full.stderr);
    assert.match(full.stdout, /19 skipped: done by small-batch/);
    assert.equal(target.countsByKey().get(keyOf(5)), 2);
    assert.equal(target.countsByKey().get(keyOf(6)), 1);
  });

  it('says in status, text and --json, which records of a finished run another cell had delivered', async () => {
    const { file, target, run } = await setUp({ records: 40, retries: 0 }, (arrival, attempt) =>
      arrival.key === keyOf(30) && attempt === 1 ? { status: 500 } : {},
    );
    assert.equal((await run('small-batch')).code, 0);
    const full = await run('full');
    assert.equal(full.code, 0, full.stdout + full.stderr);
    // The re-send of the one failure sends no source record, yet the chain's skips still stand.
    const resent = await run('full', '--only', 'failed');
    assert.equal(resent.code, 0, resent.stdout + resent.stderr);
    assert.equal(target.countsByKey().get(keyOf(30)), 2);
    assert.equal(target.countsByKey().get(keyOf(1)), 1);

    const status = await runCli(['status', file]);
    assert.equal(status.code, 0, status.stderr);
    // One block per cell: its first line, then its indented lines.
    const blocks = status.stdout.split(/\n(?=\S)/);
    const fullStatus = blocks.find((block) => block.startsWith('full (execute)'))!;
    const smallStatus = blocks.find((block) => block.startsWith('small-batch (execute)'))!;
    assert.match(
      fullStatus,
      /^full \(execute\): succeeded\n[^\n]*\n {2}20 done: 20 succeeded[^\n]*\n {2}20 skipped: done by small-batch\n/,
    );
    assert.match(smallStatus, /20 done: 20 succeeded/);
    assert.doesNotMatch(smallStatus, /done by/);
    const json = JSON.parse((await runCli(['status', file, '--json'])).stdout) as {
      cells: { cell: string; doneElsewhere?: Record<string, number> }[];
    };
    assert.deepEqual(json.cells.find((cell) => cell.cell === 'full')!.doneElsewhere, { 'small-batch': 20 });
    assert.equal(json.cells.find((cell) => cell.cell === 'small-batch')!.doneElsewhere, undefined);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
