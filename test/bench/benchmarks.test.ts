import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';

/** One row of a benchmark's result, as bench/run.mjs prints and saves it. */
interface Row {
  name: string;
  figure: string;
  target: string;
  /** Whether the target was met; '—' where there is no target to meet. */
  met: boolean | '—';
}
type Benchmark = (options?: unknown) => Promise<Row[] | Row>;

const BENCH_DIR = path.join(__dirname, '..', '..', 'bench');

async function benchmark(file: string, name: string): Promise<Benchmark> {
  const module = (await import(pathToFileURL(path.join(BENCH_DIR, file)).href)) as Record<string, Benchmark>;
  const run = module[name];
  if (!run) throw new Error(`bench/${file} exports no ${name}`);
  return run;
}

/**
 * Every benchmark runs, on a few records, from a clean clone and prints figures: a broken benchmark is
 * caught here, not on the day someone wants the numbers. What the figures are is never asserted —
 * speed belongs to `npm run bench`, run on purpose.
 */
describe('benchmarks, run small', function () {
  this.timeout(120_000);

  const cases: [string, string, unknown, number][] = [
    ['throughput.mjs', 'benchThroughput', { records: 2000, concurrency: 8, curlRecords: 40 }, 3],
    ['engineOverhead.mjs', 'benchEngineOverhead', { records: 2000, concurrency: 8 }, 1],
    ['checkpointCost.mjs', 'benchCheckpointCost', { moduleRecords: 2000, httpRecords: 1000 }, 2],
    // Concurrency 8: at 256, the durability window (64 units a slot) holds more than the 5,000 records,
    // and the run can send them all before it sees the halt file its action made at 60 %.
    ['resume.mjs', 'benchResume', { records: 5000, concurrency: 8 }, 1],
    // 4,000 records go the long sizes' way: one run halted and resumed, no verification.
    ['scale.mjs', 'benchScale', { sizes: [2000, 4000], concurrency: 8, largestWholeSize: 3000 }, 11],
    ['rateAccuracy.mjs', 'benchRateAccuracy', { rates: [50], seconds: 1 }, 1],
    ['killSwitch.mjs', 'benchKillSwitch', { rate: 500, runFor: 500 }, 2],
    ['dryRunCsv.mjs', 'benchDryRunCsv', 5000, 1],
    ['verification.mjs', 'benchVerification', { records: 1000, concurrency: 8 }, 1],
    ['sqlBackfill.mjs', 'benchSqlBackfill', { rows: 1000, batchSize: 100, concurrency: 2 }, 1],
    ['postgresSource.mjs', 'benchPostgresSource', { rows: 2000, pageSize: 300 }, 1],
    ['amqpPublish.mjs', 'benchAmqpPublish', { records: 1000, batchSize: 100, concurrency: 2 }, 1],
    [
      'workers.mjs',
      'benchWorkers',
      { records: 2000, workers: [1, 2], chunkSize: 500, fleetRates: [100], fleetSeconds: 2 },
      // the embedded baseline, 2 fleets, the coordination cost, 2 projections, claims, 1 rate, takeover
      9,
    ],
  ];
  for (const [file, name, options, rowCount] of cases) {
    it(`${file} measures and reports ${rowCount} figure${rowCount > 1 ? 's' : ''}`, async () => {
      const result = await (await benchmark(file, name))(options);
      const rows = Array.isArray(result) ? result : [result];
      assert.equal(rows.length, rowCount, JSON.stringify(rows));
      for (const row of rows) {
        assert.ok(row.name && row.figure && row.target, JSON.stringify(row));
        assert.doesNotMatch(row.figure, /NaN|undefined|Infinity/, row.figure);
        assert.ok(row.met === '—' || typeof row.met === 'boolean', JSON.stringify(row));
      }
    });
  }
});
