// Benchmark 2: the engine's own cost — an in-process module action that does nothing, a million
// records, full ledger and fsync'd checkpoints. Nothing but the engine is left to measure.
import { assertExit, executeArgs, measureCli } from './support/cli.mjs';
import { freshDir, writeRunbook } from './support/runbooks.mjs';

export async function benchEngineOverhead({ records = 1_000_000, concurrency = 32 } = {}) {
  const dir = freshDir('engine-overhead');
  const file = await writeRunbook(dir, { records, action: 'module', concurrency });
  const result = await measureCli(executeArgs(file));
  assertExit(result, 0, 'backfill run');
  const perSecond = records / result.seconds;
  return [
    {
      name: `engine overhead: no-op module action, ${records.toLocaleString('en-US')} records, full ledger`,
      figure: `${Math.round(perSecond).toLocaleString('en-US')} records/s (${result.seconds.toFixed(1)} s), peak RSS ${Math.round(result.peakMb)} MB`,
      target: '≥ 100,000 records/s, peak ≤ 400 MB',
      met: perSecond >= 100_000 && result.peakMb <= 400,
      recordsPerSecond: Math.round(perSecond),
      seconds: round(result.seconds),
      peakMb: Math.round(result.peakMb),
    },
  ];
}

const round = (n) => Math.round(n * 100) / 100;
