import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadSqlJs } from '../../src/core/support/sqlite';
import { runCli, tempDir } from '../support/cli';
import { sleep, startCli, waitFor } from '../support/cliProcess';
import { keyOf, writeFixtureRunbook } from '../support/runbookFixture';
import { startTargetServer, type Answer, type TargetServer } from '../support/targetServer';

/**
 * How many kill -9s. CI runs the default; the soak, not in CI, runs more:
 * `BACKFILL_KILLS=1000 npx mocha --no-config --require tsx/cjs --timeout 0 test/faults/killSoak.test.ts`
 * (README, "Reliability", has its figures).
 */
const KILLS = Number(process.env.BACKFILL_KILLS ?? 50);
const CONCURRENCY = 8;
/** Enough records that every kill lands before the end: a run killed mid-send sends a few hundred. */
const RECORDS = Math.max(6000, KILLS * 200);
/** Start-up (reading the runbook, opening and folding the ledger, hashing the source) takes about this long. */
const STARTUP_MS = 1500;
/**
 * What a kill -9 can send again per concurrency slot: the unit in flight, and one that finished in the
 * event loop's turn the kill cut short, whose outcome the turn's group commit had not written yet. The
 * journal writes each group at once, without waiting for the fsync under way, so the durability window
 * (what a power loss could repeat) does not count here.
 */
const REPEATABLE_PER_SLOT = 2;

/**
 * Segments of 1,000 source lines instead of 65,536: the runs cross a segment boundary every few hundred
 * milliseconds, so kills land while a run fills, saves and leaves segments behind. The validator asks for
 * the source's repeated keys past 2,000 keys, so they are kept and every resume opens the source at the
 * first segment that is not finished (run/feedSeek.ts): kills land while marks are taken and saved too.
 */
const SEGMENT_ENV = { BACKFILL_LINES_PER_SEGMENT: '1000', BACKFILL_TEST_KEYS_REMEMBERED: '2000' };

/**
 * Keys whose outcome is checkpointed — in the journal, or already folded into the ledger's outcome
 * segments (read with sql.js, not through backfill): after a kill, what the next run must never send again.
 */
async function checkpointedKeys(runbookFile: string, into: Set<string>): Promise<void> {
  const outcomes = `${runbookFile}.d/outcomes`;
  const segments = fs.existsSync(outcomes)
    ? fs
        .readdirSync(outcomes, { recursive: true })
        .map(String)
        .filter((f) => f.endsWith('.sqlite'))
    : [];
  const SQL = await loadSqlJs();
  for (const segment of segments) {
    const db = new SQL.Database(fs.readFileSync(path.join(outcomes, segment)));
    try {
      for (const [key] of db.exec('SELECT key FROM records')[0]?.values ?? []) into.add(String(key));
    } finally {
      db.close();
    }
  }
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

/**
 * A faulty target, the same for every run: a key's first attempt is answered 429 (1 in 20 keys), 500
 * (1 in 20) or slowly (1 in 20, 150 ms); any later attempt succeeds, so every key can end succeeded.
 */
function faultyAnswer(key: string, attempt: number): Answer {
  const bucket = Number(key.slice(1)) % 20;
  if (attempt === 1 && bucket === 0) return { status: 429, headers: { 'Retry-After': '0' } };
  if (attempt === 1 && bucket === 1) return { status: 500 };
  if (attempt === 1 && bucket === 2) return { delayMs: 150 };
  return { delayMs: 2 };
}

describe('kill -9 and resume', function () {
  this.timeout(KILLS * 15_000 + 60_000);
  let work: ReturnType<typeof tempDir>;
  let target: TargetServer;
  /** The target's log: every arrival's key, whether it was accepted (2xx), and during which run. */
  let log: { key: string; accepted: boolean; run: number }[];
  let currentRun = 0;

  beforeEach(async () => {
    work = tempDir();
    log = [];
    target = await startTargetServer((arrival, attempt) => {
      const answer = faultyAnswer(arrival.key, attempt);
      log.push({ key: arrival.key, accepted: answer.status === undefined, run: currentRun });
      return answer;
    });
  });
  afterEach(async () => {
    await target.stop();
    work.cleanup();
  });

  it(`loses no record and repeats only in-flight ones, with the same idempotency key, over ${KILLS} kills`, async () => {
    const file = writeFixtureRunbook(work.dir, { records: RECORDS, rate: 4000, concurrency: CONCURRENCY });
    const args = ['run', file, '--cell', 'full', '--var', `BASE_URL=${target.url}`, '--execute'];
    let kills = 0;
    let startupKills = 0;
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
      currentRun += 1;
      const run = startCli(args, SEGMENT_ENV);
      // Every third kill lands at a random instant of start-up, before anything is sent: a kill while
      // the runner reads the ledger, folds the journal or records the run's start is another case.
      const inStartUp = kills % 3 === 2;
      if (inStartUp) {
        await sleep(nextRandom() * STARTUP_MS);
      } else {
        const started = await Promise.race([
          // Start-up takes seconds more on a loaded machine; a minute is no hang.
          waitFor(() => target.arrivals.length > before, 'dispatch', 60_000).then(
            () => true,
            (error: Error) => {
              throw new Error(`${error.message}: ${run.stdout()} ${run.stderr()}`);
            },
          ),
          run.exited.then(() => false),
        ]);
        if (!started) {
          endedOnItsOwn = await run.exitedWith;
          checkSince(before);
          break;
        }
        await sleep(nextRandom() * 120);
      }
      const sentBefore = target.arrivals.length > before;
      run.child.kill('SIGKILL');
      const how = await run.exitedWith;
      checkSince(before);
      if (how !== 'SIGKILL') {
        endedOnItsOwn = how;
        break;
      }
      kills += 1;
      if (inStartUp && !sentBefore) startupKills += 1;
      await checkpointedKeys(file, checkpointed);
      if (kills % 50 === 0) console.log(`      ${kills} kills so far (${startupKills} in start-up)`);
    }
    currentRun += 1;
    if (endedOnItsOwn === undefined) {
      const beforeLast = target.arrivals.length;
      const last = await runCli(args, { env: SEGMENT_ENV });
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
    // Sorted as text like the keys that arrived: past 99,999 records, k100000 sorts before k10001.
    const expected = Array.from({ length: RECORDS }, (_, i) => keyOf(i + 1)).sort();
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
    // Exactly once by key, from the target's log: a repeat is an accepted delivery of a key the target
    // had already accepted. A record is repeated only if it was in flight (sent, outcome not yet
    // written) at a kill: CONCURRENCY in flight, and as many whose outcome waited for the turn's write.
    const accepted = new Set<string>();
    const repeatsByRun = new Map<number, number>();
    for (const entry of log.filter((e) => e.accepted)) {
      if (accepted.has(entry.key)) repeatsByRun.set(entry.run, (repeatsByRun.get(entry.run) ?? 0) + 1);
      accepted.add(entry.key);
    }
    const repeats = [...repeatsByRun.values()].reduce((sum, n) => sum + n, 0);
    const maxPerKill = Math.max(0, ...repeatsByRun.values());
    const lost = expected.filter((key) => !accepted.has(key)).length;
    assert.equal(lost, 0, 'keys the target never accepted');
    const bound = CONCURRENCY * REPEATABLE_PER_SLOT;
    assert.ok(maxPerKill <= bound, `${maxPerKill} repeats after one kill (bound ${bound})`);
    console.log(
      `      ${kills} kills (${startupKills} in start-up), ${accepted.size} keys, ${repeats} repeats, ` +
        `at most ${maxPerKill} after one kill (bound ${bound}), ${lost} lost, ` +
        `${log.length - accepted.size - repeats} answers 429 or 500, retried`,
    );
    const ledger = await runCli(['ledger', file, '--status', 'succeeded', '--format', 'jsonl']);
    assert.equal(ledger.stdout.split('\n').filter(Boolean).length, RECORDS);
    const segments = fs.readdirSync(`${file}.d/outcomes`, { recursive: true }).map(String);
    assert.ok(
      segments.filter((f) => f.endsWith('.sqlite')).length >= RECORDS / 1000,
      `the run crossed segment boundaries: ${segments.join(', ')}`,
    );
  });
});
