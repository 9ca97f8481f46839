// Benchmark: what the tool costs as the number of records grows. At each size (1M and 10M records; set
// BENCH_SCALE=100000000 to add 100M, or BENCH_SCALE=a,b,… for other sizes) a no-op module action runs
// the whole source with the full ledger, then `status`, `ledger --status failed`, `report`, a
// verification of every record (a module check) and a resume are measured against what it left. The cost
// per record must not grow with the number of records.
//
// Above 10M records a run takes most of an hour on a 2-core machine, so a long size is run once, in two
// parts: halted by its action at 60 %, then resumed to the end (the resume's row comes from that same
// run), and it is not verified (another hour; verification's memory is flat from 1M to 10M already).
import { readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { clearInterval, setInterval } from 'node:timers';
import { measureNode } from './measure.mjs';
import { haltAndResume } from './resume.mjs';
import { assertExit, CLI, executeArgs, measureCli } from './support/cli.mjs';
import { freshDir, writeRunbook } from './support/runbooks.mjs';

const MB = 1024 * 1024;
const RSS_TARGET_MB = 500;
/** The largest size measured whole (a run, a verification, and a separate halted run and its resume). */
const LARGEST_WHOLE_SIZE = 10_000_000;

export async function benchScale({
  sizes = sizesFromEnvironment(),
  concurrency = 32,
  largestWholeSize = LARGEST_WHOLE_SIZE,
} = {}) {
  const rows = [];
  // Printed as each is measured: a long size takes hours, and an interruption keeps what was seen.
  const add = (row) => {
    console.error(`${row.name}: ${row.figure}`);
    rows.push(row);
  };
  let firstPerSecond;
  for (const records of sizes) {
    const label = records.toLocaleString('en-US');
    const whole = records <= largestWholeSize;
    const { dir, file, run, journalPeakMb, resume } = whole
      ? await wholeRun(records, concurrency)
      : await runInTwoParts(records, concurrency);
    const stateDir = `${file}.d`;
    const perSecond = records / run.seconds;
    firstPerSecond ??= perSecond;
    // The ledger is ledger.sqlite and its outcome segments (outcomes/).
    const ledgerMb = sizeMb(join(stateDir, 'ledger.sqlite')) + sizeMb(join(stateDir, 'outcomes'));
    add({
      name: `scale: run, ${label} records (no-op module, full ledger${whole ? '' : ', halted at 60 % and resumed'})`,
      figure: `${Math.round(perSecond).toLocaleString('en-US')} records/s (${run.seconds.toFixed(1)} s), peak RSS ${Math.round(run.peakMb)} MB, ledger ${Math.round(ledgerMb)} MB, journal at its peak ${Math.round(journalPeakMb)} MB`,
      target: `RSS ≤ ${RSS_TARGET_MB} MB, journal ≤ 64 MB, records/s within 10 % of the first size`,
      met: run.peakMb <= RSS_TARGET_MB && journalPeakMb <= 64 && perSecond >= 0.9 * firstPerSecond,
      records,
      recordsPerSecond: Math.round(perSecond),
      peakMb: Math.round(run.peakMb),
      ledgerMb: Math.round(ledgerMb),
      journalPeakMb: Math.round(journalPeakMb),
    });

    const status = await measureNode([CLI, 'status', file, '--json']);
    assertExit(status, 0, 'backfill status');
    add(readerRow(`scale: status, ${label} records`, status, { seconds: 1 }));

    const failed = await measureNode([CLI, 'ledger', file, '--status', 'failed']);
    assertExit(failed, 0, 'backfill ledger --status failed');
    add(readerRow(`scale: ledger --status failed, ${label} records`, failed, {}));

    const report = await measureNode([CLI, 'report', file, '--out', join(dir, 'report.html')]);
    assertExit(report, 0, 'backfill report');
    add(readerRow(`scale: report, ${label} records`, report, {}));

    if (whole) add(await verifyRow(file, records, label));
    rmSync(dir, { recursive: true, force: true });
    add(
      resumeRow(
        whole
          ? await haltAndResume(`scale-resume-${records}`, { records, haltAt: 0.6, concurrency })
          : resume,
        records,
        label,
      ),
    );
  }
  return rows;
}

/** The whole source in one run. */
async function wholeRun(records, concurrency) {
  const dir = freshDir(`scale-${records}`);
  const file = await writeRunbook(dir, { records, action: 'module', concurrency });
  const journal = sampleJournal(file);
  const run = await measureCli(executeArgs(file));
  const journalPeakMb = journal.stop();
  assertExit(run, 0, `the ${records.toLocaleString('en-US')}-record run`);
  return { dir, file, run, journalPeakMb };
}

/**
 * The whole source in a run halted at 60 % and its resume: the run's time is both processes' together,
 * its peak RSS the larger of theirs; the resume is the row of the resume at 60 %.
 */
async function runInTwoParts(records, concurrency) {
  let journal;
  const resume = await haltAndResume(`scale-${records}`, {
    records,
    haltAt: 0.6,
    concurrency,
    onRunbook: (file) => (journal = sampleJournal(file)),
  });
  const journalPeakMb = journal.stop();
  const { halted, resumed } = resume;
  const run = { seconds: halted.seconds + resumed.seconds, peakMb: Math.max(halted.peakMb, resumed.peakMb) };
  return { dir: resume.dir, file: join(resume.dir, 'bench.backfill'), run, journalPeakMb, resume };
}

/** A verification of every record by a module check. */
async function verifyRow(file, records, label) {
  const verify = await measureCli(['run', file, '--cell', 'check-noop', '--json', '--no-progress']);
  assertExit(verify, 0, 'backfill run --cell check-noop');
  const verified = readerRow(`scale: verify every record (module check), ${label} records`, verify, {});
  const verifiedPerSecond = Math.round(records / verify.seconds);
  return {
    ...verified,
    figure: `${verifiedPerSecond.toLocaleString('en-US')} records/s, ${verified.figure}`,
    recordsPerSecond: verifiedPerSecond,
  };
}

/** A run halted at 60 % by its own action, then resumed: seconds from spawn to the first record. */
function resumeRow({ dir, toFirst, resumed }, records, label) {
  rmSync(dir, { recursive: true, force: true });
  return {
    name: `scale: resume at 60 %, ${label} records`,
    figure: `${toFirst.toFixed(2)} s to the first record, peak RSS ${Math.round(resumed.peakMb)} MB`,
    target: `≤ 2 s, RSS ≤ ${RSS_TARGET_MB} MB`,
    met: toFirst <= 2 && resumed.peakMb <= RSS_TARGET_MB,
    records,
    seconds: Math.round(toFirst * 1000) / 1000,
    peakMb: Math.round(resumed.peakMb),
  };
}

/** A command that reads the ledger: its wall time and peak RSS, held to `seconds` when given. */
function readerRow(name, result, { seconds }) {
  const timeMet = seconds === undefined || result.seconds <= seconds;
  return {
    name,
    figure: `${result.seconds.toFixed(2)} s, peak RSS ${Math.round(result.peakMb)} MB`,
    target: `${seconds === undefined ? '' : `≤ ${seconds} s, `}RSS ≤ ${RSS_TARGET_MB} MB`,
    met: timeMet && result.peakMb <= RSS_TARGET_MB,
    seconds: Math.round(result.seconds * 1000) / 1000,
    peakMb: Math.round(result.peakMb),
  };
}

/**
 * Polls the journal of runbook `file` while runs go on: the current file and the rotated ones waiting
 * for their fold (journal-N.jsonl); `stop()` returns the largest total seen, in MB.
 */
function sampleJournal(file) {
  const stateDir = `${file}.d`;
  const journalSize = () =>
    listed(stateDir)
      .filter((name) => /^journal(-\d+)?\.jsonl$/.test(name))
      .reduce((total, name) => total + sizeMb(join(stateDir, name)), 0);
  let peak = 0;
  const timer = setInterval(() => (peak = Math.max(peak, journalSize())), 100);
  return {
    stop() {
      clearInterval(timer);
      return peak;
    },
  };
}

/** The names in a folder; none when it does not exist (yet). */
function listed(dir) {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** The size of a file, or of every file under a folder. */
function sizeMb(file) {
  try {
    const stats = statSync(file);
    if (!stats.isDirectory()) return stats.size / MB;
    return readdirSync(file).reduce((total, name) => total + sizeMb(join(file, name)), 0);
  } catch {
    return 0;
  }
}

function sizesFromEnvironment() {
  const asked = process.env.BENCH_SCALE;
  if (!asked) return [1_000_000, 10_000_000];
  const sizes = asked.split(',').map(Number);
  if (sizes.length === 1 && sizes[0] > 10_000_000) return [1_000_000, 10_000_000, sizes[0]];
  return sizes;
}
