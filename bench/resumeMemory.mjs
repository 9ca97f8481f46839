// Benchmark: what a resume holds per finished key. A run of the no-op module action (1,000,000 records
// by default, BENCH_RECORDS for others) is halted at 60 %, its state folder copied, and the copy resumed
// twice: once with the chain's finished keys read as a Set (how every resume worked before, forced with
// BACKFILL_TEST_KEYS_IN_MEMORY) and once merged with the source by line (the default for a chain over
// 250,000 records, src/core/ledger/chainRecords.ts). Peak RSS (and the largest RSS while records are
// sent, before the final fold of the journal) and seconds to the first record of each.
import { cpSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { assertExit, executeArgs, measureCli } from './support/cli.mjs';
import { now } from './support/now.mjs';
import { haltedRun } from './resume.mjs';

export async function benchResumeMemory({
  records = Number(process.env.BENCH_RECORDS ?? 1_000_000),
  haltAt = 0.6,
  concurrency = 32,
} = {}) {
  const { dir, file, doneBefore } = await haltedRun('resume-memory', { records, haltAt, concurrency });
  const halfway = join(dir, 'halted.d');
  cpSync(`${file}.d`, halfway, { recursive: true });

  const rows = [];
  for (const [how, env] of [
    ['finished keys as a Set', { BACKFILL_TEST_KEYS_IN_MEMORY: String(records * 10) }],
    ['merged with the source by line', {}],
  ]) {
    rmSync(`${file}.d`, { recursive: true, force: true });
    cpSync(halfway, `${file}.d`, { recursive: true });
    const firstFile = join(dir, 'first-record');
    const feedRssFile = join(dir, 'feed-rss');
    rmSync(firstFile, { force: true });
    rmSync(feedRssFile, { force: true });
    const spawnedAt = now();
    const resumed = await measureCli(executeArgs(file), {
      ...env,
      BENCH_FIRST_FILE: firstFile,
      BENCH_FEED_RSS_FILE: feedRssFile,
    });
    assertExit(resumed, 0, `the resume (${how})`);
    if (!existsSync(firstFile)) throw new Error('the resumed run dispatched nothing');
    const toFirst = (Number(readFileSync(firstFile, 'utf8')) - spawnedAt) / 1000;
    const feedMb = Number(readFileSync(feedRssFile, 'utf8')) / 1024 / 1024;
    rows.push({
      name: `resume memory: ${records.toLocaleString('en-US')} records halted at ${((doneBefore / records) * 100).toFixed(1)} %, ${how}`,
      figure: `peak RSS ${Math.round(resumed.peakMb)} MB (${Math.round(feedMb)} MB while sending), ${toFirst.toFixed(2)} s to the first record, ${resumed.seconds.toFixed(1)} s in all`,
      target: 'RSS ≤ 500 MB',
      met: resumed.peakMb <= 500,
      peakMb: Math.round(resumed.peakMb),
      feedMb: Math.round(feedMb),
      seconds: Math.round(toFirst * 1000) / 1000,
    });
  }
  rmSync(dir, { recursive: true, force: true });
  return rows;
}
