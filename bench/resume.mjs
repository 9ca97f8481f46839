// Benchmark 4: resuming a large halted run. A million-record run (no-op module action) is halted at
// 60 % by the action itself creating the runbook's halt file; the resumed process is then timed from
// its spawn to the moment the action receives its first record (written by the action to a file).
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { assertExit, executeArgs, measureCli } from './support/cli.mjs';
import { now } from './support/now.mjs';
import { freshDir, keyOf, writeRunbook } from './support/runbooks.mjs';

export async function benchResume({ records = 1_000_000, haltAt = 0.6, concurrency = 256 } = {}) {
  const { toFirst, resumed, doneBefore } = await haltAndResume('resume', {
    records,
    haltAt,
    concurrency,
  });
  return [
    {
      name: `resume: ${records.toLocaleString('en-US')}-record ledger halted at ${((doneBefore / records) * 100).toFixed(1)} %, process start to first dispatched record`,
      figure: `${toFirst.toFixed(2)} s (the rest of the run: ${(resumed.seconds - toFirst).toFixed(1)} s)`,
      target: '≤ 2 s',
      met: toFirst <= 2,
      seconds: Math.round(toFirst * 1000) / 1000,
      doneBefore,
    },
  ];
}

/**
 * Runs `records` records of the no-op module in bench/output/NAME, halted at `haltAt` of them, then
 * resumes: `toFirst` is the seconds from the resume's spawn to its first dispatched record, `resumed`
 * the resumed process's measure (wall time, peak RSS), `doneBefore` what the halted run had done.
 */
export async function haltAndResume(name, { records, haltAt, concurrency, onRunbook }) {
  const { dir, file, halted, doneBefore } = await haltedRun(name, {
    records,
    haltAt,
    concurrency,
    onRunbook,
  });

  const firstFile = join(dir, 'first-record');
  const spawnedAt = now();
  const resumed = await measureCli(executeArgs(file), { BENCH_FIRST_FILE: firstFile });
  assertExit(resumed, 0, 'the resumed run');
  if (!existsSync(firstFile)) throw new Error('the resumed run dispatched nothing');
  const toFirst = (Number(readFileSync(firstFile, 'utf8')) - spawnedAt) / 1000;
  return { dir, toFirst, halted, resumed, doneBefore };
}

/**
 * A run of `records` records of the no-op module in bench/output/NAME, halted at `haltAt` of them;
 * `onRunbook(file)` is called once the runbook is written, before the run starts.
 */
export async function haltedRun(name, { records, haltAt, concurrency, onRunbook }) {
  const dir = freshDir(name);
  const file = await writeRunbook(dir, { records, action: 'module', concurrency });
  onRunbook?.(file);
  const haltFile = `${file}.halt`;
  const halted = await measureCli(executeArgs(file), {
    BENCH_HALT_AT: keyOf(Math.round(records * haltAt)),
    BENCH_HALT_FILE: haltFile,
  });
  assertExit(halted, 3, `the run halted at ${haltAt * 100} %`);
  rmSync(haltFile);
  return { dir, file, halted, doneBefore: JSON.parse(halted.stdout).status.done };
}
