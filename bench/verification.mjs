// Benchmark 8: verification — `backfill run FILE --cell check` reads each record's end state from the
// no-op target (an HTTP check expecting 200) through the same engine: throttle, ledger, checkpoints.
import { assertExit, measureCli, recordsPerSecondRow } from './support/cli.mjs';
import { freshDir, writeRunbook } from './support/runbooks.mjs';
import { startTarget } from './support/target.mjs';

export async function benchVerification({ records = 100_000, concurrency = 32 } = {}) {
  const target = await startTarget();
  try {
    const dir = freshDir('verification');
    const file = await writeRunbook(dir, { records, action: 'http', concurrency });
    const args = ['run', file, '--cell', 'check', '--var', `BASE_URL=${target.url}`];
    const result = await measureCli([...args, '--json', '--no-progress', '--no-write-result']);
    assertExit(result, 0, 'backfill run --cell check');
    const { verified } = JSON.parse(result.stdout).status.verification;
    if (verified !== records) throw new Error(`${verified} of ${records} verified`);
    return [
      recordsPerSecondRow(
        `verification: ${records.toLocaleString('en-US')} records, HTTP check, concurrency ${concurrency}`,
        records,
        result,
      ),
    ];
  } finally {
    await target.stop();
  }
}
