import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { sleep, waitFor, type RunningCli } from '../support/cliProcess';
import { usePostgresFleet } from '../support/postgresFleet';
import { keyOf } from '../support/runbookFixture';
import { startTargetServer, type TargetServer } from '../support/targetServer';

const RATE = 200;
/** Records of each of the two chunks: the worker's chunk starts after this many elements of the array. */
const HALF = 500_000;

/**
 * A worker joining a fleet takes its share of the rate only once it has a record to send. Between its
 * claim and its first record it reads the chunk's finished keys and opens the source there — here, a
 * JSON array read from its start, skipping the run's half: a long, measurable while. The run keeps the
 * whole rate meanwhile; it used to halve at the claim, the fleet sending half the rate until the worker
 * sent. Measured at the target: arrivals per second between the claim and the worker's first record.
 */
describe("a fleet's rate while a worker joins", function () {
  this.timeout(300_000);
  const pg = usePostgresFleet('backfill-fleet-join-');
  let target: TargetServer;
  before(async () => {
    target = await startTargetServer(() => ({}));
  });
  after(async () => target?.stop());

  /** A host's copy of the runbook: a JSON array of 2 × HALF records, cut into two chunks. */
  function newHost(name: string): string {
    const file = pg.host(name, { records: 0, rate: RATE, concurrency: 8 }, `      chunkSize: ${HALF}\n`);
    const dir = path.dirname(file);
    const text = fs.readFileSync(file, 'utf8');
    fs.writeFileSync(
      file,
      text.replace(/ {2}type: csv\n {2}path: records\.csv\n/, '  type: json\n  path: records.json\n'),
    );
    const elements = Array.from({ length: 2 * HALF }, (_, i) => `{"id":"${keyOf(i + 1)}","amount":${i}.5}`);
    fs.writeFileSync(path.join(dir, 'records.json'), `[\n${elements.join(',\n')}\n]\n`);
    return file;
  }

  function start(as: 'run' | 'worker', file: string): RunningCli {
    return pg.startOn(file, as, target.url);
  }

  it('keeps sending at the whole rate from a worker claiming its chunk until that worker sends its first record', async () => {
    const run = start('run', newHost('a'));
    const workerFile = newHost('b');
    await waitFor(() => target.arrivals.length >= RATE, `the run to send: ${run.stderr()}`, 120_000);
    const worker = start('worker', workerFile);
    // The worker's claim of the second chunk, as the ledger holds it.
    let claimedAt: number | undefined;
    while (claimedAt === undefined) {
      const rows = await pg.database.query(
        `SELECT 1 FROM backfill.chunks WHERE n = 1 AND state = 'leased' AND split_part(worker, ':', 2) = $1`,
        [String(worker.child.pid)],
      );
      if (rows.length > 0) claimedAt = Date.now();
      else if (worker.child.exitCode !== null) assert.fail(`the worker ended: ${worker.stderr()}`);
      else await sleep(20);
    }
    const fromWorker = (key: string) => Number(key.slice(1)) > HALF;
    await waitFor(() => target.arrivals.some((a) => fromWorker(a.key)), 'the worker to send', 120_000);
    const firstAt = Math.min(...target.arrivals.filter((a) => fromWorker(a.key)).map((a) => a.at));
    // A margin each side for the claim's poll and the run's reaction; what is left must be long enough to count.
    const from = claimedAt + 100;
    const to = firstAt - 100;
    assert.ok(
      to - from >= 300,
      `the worker sent ${firstAt - claimedAt} ms after its claim: too soon to measure`,
    );
    const inWindow = target.arrivals.filter((a) => a.at >= from && a.at < to).length;
    const perSecond = inWindow / ((to - from) / 1000);
    // Half the rate is what the run sends once the worker takes its share; the whole rate, before.
    assert.ok(
      perSecond >= 0.7 * RATE,
      `${inWindow} records in the ${to - from} ms between the worker's claim and its first record: ${perSecond.toFixed(0)}/s of ${RATE}/s`,
    );
    // Once the worker sends, the two share the rate: never more than the rate and a little in any second.
    await sleep(2000);
    const after = target.arrivals.filter((a) => a.at >= firstAt + 500 && a.at < firstAt + 1500).length;
    assert.ok(after <= 1.05 * RATE + 2, `${after} records in a second with both sending`);
  });
});
