// Benchmark: what the tool costs as the number of records grows. At each size (1M and 10M records; set
// BENCH_SCALE=100000000 to add 100M, or BENCH_SCALE=a,b,… for other sizes) a no-op module action runs
// the whole source with the full ledger, then `status`, `ledger --status failed`, `report`, a
// verification of every record (a module check) and a resume are measured against what it left. The cost per record must not grow with the number of records.
import { readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { clearInterval, setInterval } from 'node:timers';
import { measureNode } from './measure.mjs';
import { haltAndResume } from './resume.mjs';
import { assertExit, CLI, executeArgs, measureCli } from './support/cli.mjs';
import { freshDir, writeRunbook } from './support/runbooks.mjs';

const MB = 1024 * 1024;
const RSS_TARGET_MB = 500;

export async function benchScale({ sizes = sizesFromEnvironment(), concurrency = 32 } = {}) {
  const rows = [];
  let firstPerSecond;
  for (const records of sizes) {
    const label = records.toLocaleString('en-US');
    const dir = freshDir(`scale-${records}`);
    const file = await writeRunbook(dir, { records, action: 'module', concurrency });
    const stateDir = `${file}.d`;

    const journal = sampleJournal(stateDir);
    const run = await measureCli(executeArgs(file));
    const journalPeakMb = journal.stop();
    assertExit(run, 0, `the ${label}-record run`);
    const perSecond = records / run.seconds;
    firstPerSecond ??= perSecond;
    // The ledger is ledger.sqlite and its outcome segments (outcomes/).
    const ledgerMb = sizeMb(join(stateDir, 'ledger.sqlite')) + sizeMb(join(stateDir, 'outcomes'));
    rows.push({
      name: `scale: run, ${label} records (no-op module, full ledger)`,
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
    rows.push(readerRow(`scale: status, ${label} records`, status, { seconds: 1 }));

    const failed = await measureNode([CLI, 'ledger', file, '--status', 'failed']);
    assertExit(failed, 0, 'backfill ledger --status failed');
    rows.push(readerRow(`scale: ledger --status failed, ${label} records`, failed, {}));

    const report = await measureNode([CLI, 'report', file, '--out', join(dir, 'report.html')]);
    assertExit(report, 0, 'backfill report');
    rows.push(readerRow(`scale: report, ${label} records`, report, {}));

    const verify = await measureCli(['run', file, '--cell', 'check-noop', '--json', '--no-progress']);
    assertExit(verify, 0, 'backfill run --cell check-noop');
    const verified = readerRow(`scale: verify every record (module check), ${label} records`, verify, {});
    const verifiedPerSecond = Math.round(records / verify.seconds);
    rows.push({
      ...verified,
      figure: `${verifiedPerSecond.toLocaleString('en-US')} records/s, ${verified.figure}`,
      recordsPerSecond: verifiedPerSecond,
    });

    rmSync(dir, { recursive: true, force: true });
    rows.push(await resumeRow(records, label, concurrency));
  }
  return rows;
}

/** A run halted at 60 % by its own action, then resumed: seconds from spawn to the first record. */
async function resumeRow(records, label, concurrency) {
  const name = `scale-resume-${records}`;
  const { dir, toFirst, resumed } = await haltAndResume(name, { records, haltAt: 0.6, concurrency });
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

/** Polls the journal's size while a run goes on; `stop()` returns the largest size seen, in MB. */
function sampleJournal(stateDir) {
  let peak = 0;
  const timer = setInterval(() => (peak = Math.max(peak, sizeMb(join(stateDir, 'journal.jsonl')))), 100);
  return {
    stop() {
      clearInterval(timer);
      return peak;
    },
  };
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
