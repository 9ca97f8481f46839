import { strict as assert } from 'node:assert';
import { runCli, tempDir } from '../support/cli';
import { sleep, startCli, waitFor } from '../support/cliProcess';
import { keyOf, writeFixtureRunbook } from '../support/runbookFixture';
import { startTargetServer, type TargetServer } from '../support/targetServer';

/** How many kill -9s; CI runs the default, a soak runs more (BACKFILL_KILLS=500 npm run test:unit). */
const KILLS = Number(process.env.BACKFILL_KILLS ?? 50);
const CONCURRENCY = 8;
/** Enough records that every kill lands mid-run: each short-lived run sends a hundred or so. */
const RECORDS = Math.max(3000, KILLS * 150);

describe('kill -9 and resume', function () {
  this.timeout(KILLS * 15_000 + 60_000);
  let work: ReturnType<typeof tempDir>;
  let target: TargetServer;

  beforeEach(async () => {
    work = tempDir();
    target = await startTargetServer(() => ({ delayMs: 2 }));
  });
  afterEach(async () => {
    await target.stop();
    work.cleanup();
  });

  it(`loses no record and repeats only in-flight ones, with the same idempotency key, over ${KILLS} kills`, async () => {
    const file = writeFixtureRunbook(work.dir, { records: RECORDS, rate: 4000, concurrency: CONCURRENCY });
    const args = ['run', file, '--cell', 'full', '--var', `BASE_URL=${target.url}`, '--execute'];
    let kills = 0;
    let random = 12345;
    const nextRandom = () => (random = (Math.imul(random, 1103515245) + 12345) >>> 0) / 4294967296;
    while (kills < KILLS) {
      const before = target.arrivals.length;
      const run = startCli(args);
      const started = await Promise.race([
        waitFor(() => target.arrivals.length > before, 'dispatch').then(() => true),
        run.exited.then(() => false),
      ]);
      if (!started) break; // the run finished before it could be killed
      await sleep(nextRandom() * 120);
      run.child.kill('SIGKILL');
      const how = await run.exitedWith;
      if (how !== 'SIGKILL') break; // it finished on its own just before the kill
      kills += 1;
    }
    const last = await runCli(args);
    assert.equal(last.code, 0, last.stdout + last.stderr);
    assert.ok(kills >= Math.min(KILLS, 20), `only ${kills} kills landed mid-run`);

    const byKey = new Map<string, Set<string | undefined>>();
    for (const arrival of target.arrivals) {
      if (!byKey.has(arrival.key)) byKey.set(arrival.key, new Set());
      byKey.get(arrival.key)!.add(arrival.idempotencyKey);
    }
    const expected = Array.from({ length: RECORDS }, (_, i) => keyOf(i + 1));
    assert.deepEqual([...byKey.keys()].sort(), expected, 'every valid key arrived');
    for (const [key, idempotencyKeys] of byKey) {
      assert.equal(idempotencyKeys.size, 1, `${key} arrived with different idempotency keys`);
    }
    const repeats = target.arrivals.length - RECORDS;
    // A record is repeated only if it was in flight (sent, outcome not yet fsync'd) at a kill, and the
    // runner holds a concurrency slot until the outcome is fsync'd: at most CONCURRENCY per kill.
    assert.ok(repeats <= kills * CONCURRENCY, `${repeats} repeats over ${kills} kills`);
    console.log(`      ${kills} kills, ${repeats} repeats (bound ${kills * CONCURRENCY})`);
    const ledger = await runCli(['ledger', file, '--status', 'succeeded', '--format', 'jsonl']);
    assert.equal(ledger.stdout.split('\n').filter(Boolean).length, RECORDS);
  });
});
