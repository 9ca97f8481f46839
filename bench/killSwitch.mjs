// Benchmark 6: the kill switch. A run sends at 2,000 records/s to the no-op target (which keeps each
// arrival time); two seconds in, it is stopped — once with `backfill control FILE stop`, once with
// SIGINT. Measured from the stop to the last request the target received (the last new dispatch) and
// to the process's exit, against the request timeout.
import { setTimeout as sleep } from 'node:timers/promises';
import { CLI, executeArgs, startCli } from './support/cli.mjs';
import { measureNode } from './measure.mjs';
import { now } from './support/now.mjs';
import { freshDir, writeRunbook } from './support/runbooks.mjs';
import { startTarget } from './support/target.mjs';

const TIMEOUT_MS = 5000;

export async function benchKillSwitch({ rate = 2000, runFor = 2000 } = {}) {
  const target = await startTarget({ record: true });
  try {
    return [
      await measureStop(target, 'control stop', (file) => measureNode([CLI, 'control', file, 'stop']), {
        rate,
        runFor,
      }),
      await measureStop(target, 'SIGINT', (_file, run) => run.child.kill('SIGINT'), { rate, runFor }),
    ];
  } finally {
    await target.stop();
  }
}

async function measureStop(target, how, stop, { rate, runFor }) {
  const dir = freshDir(`kill-switch-${how.replace(/\W+/g, '-')}`);
  // Ten times more records than the run has time for: the stop, not the end, must end it.
  const file = await writeRunbook(dir, { records: rate * 10, action: 'http', rate, timeoutMs: TIMEOUT_MS });
  await target.reset();
  const run = startCli(executeArgs(file, target.url));
  await waitForArrivals(target, run);
  await sleep(runFor);
  const stoppedAt = now();
  await stop(file, run);
  // For `control stop`: when the command had written its request (it returns then); the gap to
  // stoppedAt is that command's own start-up.
  const requestedAt = now();
  const code = await run.exited;
  const exitedAt = now();
  if (code !== 3) throw new Error(`${how}: the run exited ${code}, expected 3 (halted):\n${run.output()}`);
  const { arrivals } = await target.stats();
  const lastDispatch = Math.max(0, arrivals.at(-1) - stoppedAt);
  const toExit = exitedAt - stoppedAt;
  return {
    name: `kill switch: ${how} at ${rate.toLocaleString('en-US')} records/s, concurrency 32`,
    figure:
      `last new dispatch ${lastDispatch.toFixed(0)} ms after, exit ${toExit.toFixed(0)} ms after` +
      (how === 'SIGINT' ? '' : ` (the command itself took ${(requestedAt - stoppedAt).toFixed(0)} ms)`),
    target: `last dispatch ≤ 100 ms, exit ≤ ${TIMEOUT_MS} ms (request timeout)`,
    met: lastDispatch <= 100 && toExit <= TIMEOUT_MS,
    lastDispatchMs: Math.round(lastDispatch),
    exitMs: Math.round(toExit),
    commandMs: Math.round(requestedAt - stoppedAt),
  };
}

/** Bounded: the run must reach the target within 15 s, or the benchmark fails with its output. */
async function waitForArrivals(target, run) {
  for (let waited = 0; waited < 15_000; waited += 50) {
    if ((await target.stats()).count > 0) return;
    if (run.child.exitCode !== null) break;
    await sleep(50);
  }
  run.child.kill('SIGKILL');
  throw new Error(`the run never reached the target:\n${run.output()}`);
}
