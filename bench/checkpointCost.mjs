// Benchmark 3: what durable checkpoints cost. The same run twice — each group commit of outcomes
// written and fsync'd (as always), then written without the fsync (BACKFILL_BENCH_NO_FSYNC=1, a switch
// read in one place in src/core/ledger/journal.ts and meant for this benchmark only). Measured with the
// no-op module action (nothing hides the cost) and over HTTP to the no-op target (a real request).
import { assertExit, executeArgs, measureCli } from './support/cli.mjs';
import { freshDir, writeRunbook } from './support/runbooks.mjs';
import { startTarget } from './support/target.mjs';

export async function benchCheckpointCost({
  moduleRecords = 200_000,
  httpRecords = 50_000,
  concurrency = 32,
} = {}) {
  const target = await startTarget();
  try {
    return [
      await compare('module', moduleRecords, concurrency, 'http://127.0.0.1:9'),
      await compare('http', httpRecords, concurrency, target.url),
    ];
  } finally {
    await target.stop();
  }
}

async function compare(action, records, concurrency, url) {
  const timed = async (label, env) => {
    const dir = freshDir(`checkpoint-cost-${action}-${label}`);
    const file = await writeRunbook(dir, { records, action, concurrency });
    const result = await measureCli(executeArgs(file, url), env);
    assertExit(result, 0, `backfill run (${label})`);
    return result.seconds;
  };
  const withCheckpoints = await timed('fsync', {});
  const without = await timed('no-fsync', { BACKFILL_BENCH_NO_FSYNC: '1' });
  const overhead = withCheckpoints / without - 1;
  return {
    name: `checkpoint cost: ${action} action, ${records.toLocaleString('en-US')} records, concurrency ${concurrency}, fsync'd group commits vs none`,
    figure: `${withCheckpoints.toFixed(2)} s vs ${without.toFixed(2)} s: ${(overhead * 100).toFixed(0)} % overhead`,
    target: 'overhead ≤ 5 %',
    met: overhead <= 0.05,
    secondsWithCheckpoints: round(withCheckpoints),
    secondsWithout: round(without),
    overhead: round(overhead),
  };
}

const round = (n) => Math.round(n * 1000) / 1000;
