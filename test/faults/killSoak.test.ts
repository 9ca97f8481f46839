import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import { DURABILITY_WINDOW_PER_SLOT } from '../../src/core/run/runner';
import { runCli, tempDir } from '../support/cli';
import { sleep, startCli, waitFor } from '../support/cliProcess';
import { keyOf, writeFixtureRunbook } from '../support/runbookFixture';
import { startTargetServer, type TargetServer } from '../support/targetServer';

/** How many kill -9s; CI runs the default, a soak runs more (BACKFILL_KILLS=500 npm run test:unit). */
const KILLS = Number(process.env.BACKFILL_KILLS ?? 50);
const CONCURRENCY = 8;
/** Enough records that every kill lands mid-run: each short-lived run sends a few hundred. */
const RECORDS = Math.max(6000, KILLS * 300);
/** The runner's bound per concurrency slot: the unit in flight plus the durability window. */
const UNDURABLE_PER_SLOT = 1 + DURABILITY_WINDOW_PER_SLOT;

/** Keys whose outcome is in the journal: after a kill, what the next run must never send again. */
function checkpointedKeys(runbookFile: string, into: Set<string>): void {
  const journal = `${runbookFile}.d/journal.jsonl`;
  if (!fs.existsSync(journal)) return;
  for (const line of fs.readFileSync(journal, 'utf8').split('\n')) {
    try {
      const entry = JSON.parse(line) as { type?: string; outcome?: { key: string } };
      if (entry.type === 'outcome' && entry.outcome) into.add(entry.outcome.key);
    } catch {
      // an empty or torn last line holds no checkpoint
    }
  }
}

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
    // Every outcome a killed run left in the journal, and where in the target's arrivals the next run
    // began: a key checkpointed before a run began must never arrive again.
    const checkpointed = new Set<string>();
    let resentAfterCheckpoint: string[] = [];
    const checkSince = (from: number) => {
      for (const arrival of target.arrivals.slice(from)) {
        if (checkpointed.has(arrival.key)) resentAfterCheckpoint.push(arrival.key);
      }
    };
    // How a run ended when it was not killed: it finished (or had nothing left) before the kill.
    let endedOnItsOwn: Awaited<ReturnType<typeof startCli>['exitedWith']> | undefined;
    while (kills < KILLS) {
      const before = target.arrivals.length;
      const run = startCli(args);
      const started = await Promise.race([
        waitFor(() => target.arrivals.length > before, 'dispatch').then(() => true),
        run.exited.then(() => false),
      ]);
      if (!started) {
        endedOnItsOwn = await run.exitedWith;
        checkSince(before);
        break;
      }
      await sleep(nextRandom() * 120);
      run.child.kill('SIGKILL');
      const how = await run.exitedWith;
      checkSince(before);
      if (how !== 'SIGKILL') {
        endedOnItsOwn = how;
        break;
      }
      kills += 1;
      checkpointedKeys(file, checkpointed);
    }
    if (endedOnItsOwn === undefined) {
      const beforeLast = target.arrivals.length;
      const last = await runCli(args);
      checkSince(beforeLast);
      assert.equal(last.code, 0, last.stdout + last.stderr);
    } else {
      assert.equal(endedOnItsOwn, 0, 'the last run finished on its own, successfully');
    }
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
    resentAfterCheckpoint = [...new Set(resentAfterCheckpoint)];
    assert.deepEqual(
      resentAfterCheckpoint.slice(0, 10),
      [],
      'records sent again after their outcome was checkpointed',
    );
    const repeats = target.arrivals.length - RECORDS;
    // A record is repeated only if it was in flight (sent, outcome not yet fsync'd) at a kill, and the
    // runner bounds those: CONCURRENCY in flight plus the durability window.
    const bound = kills * CONCURRENCY * UNDURABLE_PER_SLOT;
    assert.ok(repeats <= bound, `${repeats} repeats over ${kills} kills`);
    console.log(`      ${kills} kills, ${repeats} repeats (bound ${bound})`);
    const ledger = await runCli(['ledger', file, '--status', 'succeeded', '--format', 'jsonl']);
    assert.equal(ledger.stdout.split('\n').filter(Boolean).length, RECORDS);
  });
});
