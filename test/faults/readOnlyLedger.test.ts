import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { WRITTEN_AT_ONCE_WINDOW_PER_SLOT } from '../../src/core/ledger/ledger';
import { runCli, tempDir } from '../support/cli';
import { startCli, waitFor } from '../support/cliProcess';
import { writeFixtureRunbook } from '../support/runbookFixture';
import { assertNoneLost, ledgerRows, validKeys } from './support/deliveryAudit';
import { FaultTarget } from './support/faultTarget';
import { unwritableFolders } from './support/unwritableFolder';

const RECORDS = 1500;
const CONCURRENCY = 4;

/** Keys whose outcome the journal holds: what was checkpointed before the fault. */
function checkpointedKeys(stateDir: string): string[] {
  return fs
    .readFileSync(path.join(stateDir, 'journal.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { type: string; outcome?: { key: string } })
    .filter((entry) => entry.type === 'outcome')
    .map((entry) => entry.outcome!.key);
}

describe('the ledger folder turning read-only mid-run', function () {
  this.timeout(60_000);
  const folders = unwritableFolders();
  let work: ReturnType<typeof tempDir>;
  let target: FaultTarget;

  before(function () {
    if ('unavailable' in folders) {
      console.log(`      skipped: ${folders.unavailable}`);
      this.skip();
    }
  });
  beforeEach(async () => {
    work = tempDir('backfill-readonly-');
    target = await FaultTarget.start(() => ({ delayMs: 2 }));
  });
  afterEach(async () => {
    if (!('unavailable' in folders)) folders.thaw(path.join(work.dir, 'job.backfill.d'));
    await target.stop();
    work.cleanup();
  });

  it('halts with exit 3 and a clear error, and the resume after fixing it loses and repeats nothing checkpointed', async () => {
    if ('unavailable' in folders) return;
    const file = writeFixtureRunbook(work.dir, { records: RECORDS, rate: 500, concurrency: CONCURRENCY });
    const stateDir = `${file}.d`;
    const args = ['run', file, '--cell', 'full', '--var', `BASE_URL=${target.url}`, '--execute'];
    const run = startCli([...args, '--no-progress']);
    await waitFor(() => target.received.length >= 200, 'the first 200 records to arrive');
    folders.freeze(stateDir);
    const code = await run.exitedWith;
    const output = run.stdout() + run.stderr();
    assert.equal(code, 3, `halted and resumable (${folders.how}):\n${output}`);
    assert.ok(output.includes(`could not write to the state folder ${stateDir}`), output);
    assert.match(output, /run the same command to resume/);
    assert.doesNotMatch(output, /Run succeeded|internal error/);
    assert.ok(!/\n\s+at /.test(run.stderr()), `no stack trace:\n${run.stderr()}`);
    assert.ok(target.received.length < RECORDS, 'the run stopped sending');

    // What was sent before the fault is visible at once, from a command that only reads.
    const status = await runCli(['status', file, '--json']);
    assert.equal(status.code, 0, status.stdout + status.stderr);
    const full = (
      JSON.parse(status.stdout) as { cells: { cell: string; state: string; succeeded: number }[] }
    ).cells.find((cell) => cell.cell === 'full');
    assert.ok(full && ['halted', 'crashed (no process)'].includes(full.state), JSON.stringify(full));
    assert.equal(full.succeeded, new Set(checkpointedKeys(stateDir)).size);

    // Resuming while the folder still refuses writes is the same fault, with the same answer.
    const early = await runCli([...args, '--no-progress']);
    assert.equal(early.code, 3, `a resume on the still unwritable folder:\n${early.stdout}${early.stderr}`);
    assert.ok(early.stdout.includes(`could not write to the state folder ${stateDir}`), early.stdout);
    assert.doesNotMatch(early.stdout + early.stderr, /internal error|This is a bug/);

    folders.thaw(stateDir);
    const checkpointed = checkpointedKeys(stateDir);
    assert.ok(checkpointed.length > 0, 'records were checkpointed before the fault');
    const resumed = await runCli([...args, '--no-progress']);
    assert.equal(resumed.code, 0, resumed.stdout + resumed.stderr);

    const { succeeded } = await assertNoneLost(file, target, validKeys(RECORDS));
    assert.deepEqual(succeeded, validKeys(RECORDS));
    const counts = new Map<string, number>();
    for (const r of target.received) counts.set(r.key, (counts.get(r.key) ?? 0) + 1);
    const resent = checkpointed.filter((key) => counts.get(key) !== 1);
    assert.deepEqual(resent, [], 'a checkpointed record is never sent again');
    // Only records not yet checkpointed at the fault: in flight, or waiting for their fsync.
    const repeats = target.received.length - RECORDS;
    const bound = CONCURRENCY * (1 + WRITTEN_AT_ONCE_WINDOW_PER_SLOT);
    assert.ok(
      repeats <= bound,
      `${repeats} records repeated: only those not checkpointed at the fault may be`,
    );
    assert.equal((await ledgerRows(file, 'succeeded')).length, RECORDS);
  });
});
