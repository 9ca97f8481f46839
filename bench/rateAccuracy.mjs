// Benchmark 5: does the configured rate hold? For each rate, about five seconds of records go to the
// no-op target, which keeps each arrival time. Average rate = arrivals after the first over the span
// between first and last; the busiest second is the most arrivals in any sliding one-second window.
import { assertExit, executeArgs, measureCli } from './support/cli.mjs';
import { freshDir, writeRunbook } from './support/runbooks.mjs';
import { startTarget } from './support/target.mjs';

export async function benchRateAccuracy({ rates = [10, 100, 1000, 5000], seconds = 5 } = {}) {
  const target = await startTarget({ record: true });
  try {
    const rows = [];
    for (const rate of rates) rows.push(await measureRate(target, rate, seconds));
    return rows;
  } finally {
    await target.stop();
  }
}

async function measureRate(target, rate, seconds) {
  const records = rate * seconds;
  const dir = freshDir(`rate-${rate}`);
  const file = await writeRunbook(dir, { records, action: 'http', rate, concurrency: 64 });
  await target.reset();
  const result = await measureCli(executeArgs(file, target.url));
  assertExit(result, 0, `backfill run at ${rate}/s`);
  const { arrivals } = await target.stats();
  if (arrivals.length !== records) throw new Error(`rate ${rate}: ${arrivals.length} of ${records} arrived`);
  const average = (arrivals.length - 1) / ((arrivals.at(-1) - arrivals[0]) / 1000);
  const busiest = busiestSecond(arrivals);
  const averageError = average / rate - 1;
  const busiestOver = busiest / rate - 1;
  return {
    name: `rate accuracy at ${rate.toLocaleString('en-US')}/s (${records.toLocaleString('en-US')} records)`,
    figure: `average ${average.toFixed(1)}/s (${signed(averageError)}), busiest second ${busiest} (${signed(busiestOver)})`,
    target: 'average within ±2 %, busiest second ≤ +5 %',
    met: Math.abs(averageError) <= 0.02 && busiestOver <= 0.05,
    average: Math.round(average * 100) / 100,
    busiestSecond: busiest,
  };
}

/** The most arrivals in any window [t, t + 1 s) starting at an arrival (arrivals are sorted). */
export function busiestSecond(arrivals) {
  let most = 0;
  let end = 0;
  for (let start = 0; start < arrivals.length; start += 1) {
    while (end < arrivals.length && arrivals[end] < arrivals[start] + 1000) end += 1;
    most = Math.max(most, end - start);
  }
  return most;
}

export const signed = (fraction) => `${fraction >= 0 ? '+' : ''}${(fraction * 100).toFixed(1)} %`;
