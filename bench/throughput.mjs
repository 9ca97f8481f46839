// Benchmark 1: throughput against the ceiling and against what people use, on the same records, the
// same concurrency and the same no-op target (its own process):
//   (a) ceilingClient.mjs — a minimal keep-alive node:http + p-limit loop, no ledger;
//   (b) xargs -P N curl — one curl process per record, the usual shell backfill;
//   (c) backfill run --execute — full ledger, fsync'd checkpoints, rate set out of the way (1e6, the most a runbook allows).
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assertExit, executeArgs, measureCli } from './support/cli.mjs';
import { measureCommand, measureNode } from './measure.mjs';
import { freshDir, keyOf, writeRunbook } from './support/runbooks.mjs';
import { startTarget } from './support/target.mjs';

const CEILING = fileURLToPath(new URL('./support/ceilingClient.mjs', import.meta.url));

// Spawning a process per record is slow on some machines (about 50 curls/s on this VM in December
// 2026): BENCH_CURL_RECORDS=5000 measures (b) on fewer records; its rate does not depend on the count.
export async function benchThroughput({
  records = 100_000,
  concurrency = 32,
  curlRecords = Number(process.env.BENCH_CURL_RECORDS) || records,
} = {}) {
  const dir = freshDir('throughput');
  const file = await writeRunbook(dir, { records, action: 'http', concurrency });
  const target = await startTarget();
  try {
    const ceiling = await measureNode([CEILING, join(dir, 'records.csv'), target.url, String(concurrency)]);
    assertExit(ceiling, 0, 'the ceiling client');
    await expectArrivals(target, records, 'the ceiling client');

    const curl = await runXargsCurl(dir, target, { records: curlRecords, concurrency });

    const backfill = await measureCli(executeArgs(file, target.url));
    assertExit(backfill, 0, 'backfill run');
    await expectArrivals(target, records, 'backfill run');

    const rates = {
      ceiling: records / ceiling.seconds,
      curl: curl ? curlRecords / curl.seconds : undefined,
      backfill: records / backfill.seconds,
    };
    return rows(rates, { records, concurrency, curlRecords, backfill, ceiling });
  } finally {
    await target.stop();
  }
}

/** Every record reached the target exactly once; then the counter starts again for the next client. */
async function expectArrivals(target, records, who) {
  const { count } = await target.stats();
  if (count !== records) throw new Error(`${who}: the target saw ${count} requests, expected ${records}`);
  await target.reset();
}

/**
 * (b) on the same records by default (a curl process per record: 100,000 take about five minutes);
 * `curlRecords` can shorten it. Undefined (and said so) when curl is not installed.
 */
async function runXargsCurl(dir, target, { records, concurrency }) {
  if (spawnSync('sh', ['-c', 'command -v curl']).status !== 0) return undefined;
  const keys = join(dir, 'keys.txt');
  writeFileSync(keys, Array.from({ length: records }, (_, i) => keyOf(i + 1)).join('\n') + '\n');
  const script =
    `xargs -P ${concurrency} -I{} curl -sS -o /dev/null --fail -X POST ` +
    `-H 'content-type: application/json' -d '{"id":"{}"}' '${target.url}/items/{}' < '${keys}'`;
  const result = await measureCommand('sh', ['-c', script]);
  assertExit(result, 0, 'xargs curl');
  await expectArrivals(target, records, 'xargs curl');
  return result;
}

function rows(rates, { records, concurrency, curlRecords, backfill, ceiling }) {
  const ratioCeiling = rates.backfill / rates.ceiling;
  const ratioCurl = rates.curl ? rates.backfill / rates.curl : undefined;
  const perSecond = (n) => `${Math.round(n).toLocaleString('en-US')} records/s`;
  return [
    {
      name: `throughput (a) hand-written keep-alive loop, ${records.toLocaleString('en-US')} records, concurrency ${concurrency}`,
      figure: `${perSecond(rates.ceiling)}, peak RSS ${Math.round(ceiling.peakMb)} MB`,
      target: 'the ceiling',
      met: '—',
      recordsPerSecond: Math.round(rates.ceiling),
    },
    {
      name: `throughput (b) xargs -P ${concurrency} curl, ${curlRecords.toLocaleString('en-US')} records`,
      figure: rates.curl ? perSecond(rates.curl) : 'curl not installed',
      target: 'what people use',
      met: '—',
      recordsPerSecond: rates.curl && Math.round(rates.curl),
    },
    {
      name: `throughput (c) backfill run --execute, ${records.toLocaleString('en-US')} records, concurrency ${concurrency}`,
      figure: `${perSecond(rates.backfill)}, peak RSS ${Math.round(backfill.peakMb)} MB; (c)/(a) ${ratioCeiling.toFixed(2)}, (c)/(b) ${ratioCurl ? ratioCurl.toFixed(1) : '—'}`,
      target: '(c)/(a) ≥ 0.90, (c)/(b) ≥ 10',
      met: ratioCeiling >= 0.9 && ratioCurl !== undefined && ratioCurl >= 10,
      recordsPerSecond: Math.round(rates.backfill),
      ratioToCeiling: round(ratioCeiling),
      ratioToCurl: ratioCurl && round(ratioCurl),
    },
  ];
}

const round = (n) => Math.round(n * 100) / 100;
