import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runCli } from '../support/cli';
import { cliWorkspace, ledgerRows } from '../support/cliWorkspace';
import { keyOf, writeFixtureRunbook } from '../support/runbookFixture';

interface DryRunJson {
  counts: Record<string, number>;
  duplicates: { key: string; line: number; firstLine: number }[];
  rejected: { line: number; key?: string }[];
}

interface JsonResult {
  outcome: string;
  status: { done: number; skipped: number; succeeded: number; failed: number; rejected: number };
}

/**
 * A chain bigger than the keys a run holds in memory (lowered to 100 here) is merged with the source by
 * line, and the source's duplicates are found through the external sort (runs of 400 pairs, the
 * validator asking past 500 keys): resume and `--only failed` must decide exactly as with Sets.
 */
const SMALL_MEMORY = {
  BACKFILL_TEST_KEYS_IN_MEMORY: '100',
  BACKFILL_TEST_KEYS_REMEMBERED: '500',
  BACKFILL_TEST_KEY_RUN_SIZE: '400',
};

describe('backfill run resume merged with the source by line', function () {
  this.timeout(120_000);
  const work = cliWorkspace();

  it('skips exactly what the halted chain finished, re-runs exactly the failed keys, and sends no key twice', async () => {
    const scattered = (key: string) => Number(key.slice(1)) % 37 === 0;
    const haltBlock = (key: string) => {
      const n = Number(key.slice(1));
      return n >= 1200 && n < 1212;
    };
    let phase: 'halting' | 'resuming' | 'healthy' = 'halting';
    const answered = new Map<string, number>();
    const target = await work.serve((arrival) => {
      const failing =
        phase !== 'healthy' && (scattered(arrival.key) || (phase === 'halting' && haltBlock(arrival.key)));
      answered.set(arrival.key, failing ? 500 : 200);
      return failing ? { status: 500 } : {};
    });
    const file = writeFixtureRunbook(work.dir, {
      records: 0,
      retries: 0,
      concurrency: 4,
      executeExtra: 'errorBudget:\n  maxConsecutiveFailures: 6\n',
    });
    // 2,000 records with, on scattered lines: a malformed row with no key, a malformed row whose key a
    // later valid row carries (after the halt), duplicates before and after the halt.
    const rows = ['id,amount'];
    for (let i = 1; i <= 2000; i += 1) {
      rows.push(`${keyOf(i)},${i}.5`);
      if (i === 5) rows.push(',1.5');
      if (i === 300) rows.push('late,not-a-number');
      if (i === 400) rows.push(`${keyOf(10)},99.5`);
      if (i === 1700) rows.push(`${keyOf(1500)},1.5`, `${keyOf(20)},2.5`, 'late,3.5');
    }
    fs.writeFileSync(path.join(work.dir, 'records.csv'), rows.join('\n') + '\n');
    const run = (...more: string[]) =>
      runCli(
        ['run', file, '--cell', 'full', '--var', `BASE_URL=${target.url}`, '--execute', '--json', ...more],
        {
          env: SMALL_MEMORY,
        },
      );

    const halted = await run();
    assert.equal(halted.code, 3, halted.stdout + halted.stderr);
    const first = JSON.parse(halted.stdout) as JsonResult;
    assert.equal(first.outcome, 'halted');
    const sentFirst = new Set(target.arrivals.map((arrival) => arrival.key));
    assert.ok(sentFirst.size > 1000 && sentFirst.size < 1400, `halted after ${sentFirst.size}`);
    assert.ok(!sentFirst.has('late'));
    const pending = await runCli(
      ['ledger', file, '--cell', 'full', '--status', 'pending', '--format', 'jsonl'],
      {
        env: SMALL_MEMORY,
      },
    );
    assert.equal(pending.code, 0, pending.stderr);
    const pendingKeys = pending.stdout
      .split('\n')
      .filter(Boolean)
      .map((row) => (JSON.parse(row) as { key: string }).key);
    const everyKey = [...Array.from({ length: 2000 }, (_, i) => keyOf(i + 1)), 'late'];
    assert.deepEqual(
      pendingKeys.sort(),
      everyKey.filter((key) => !sentFirst.has(key)).sort(),
      'ledger --status pending lists what the resume will send',
    );

    phase = 'resuming';
    const resumed = await run();
    const second = JSON.parse(resumed.stdout) as JsonResult;
    assert.equal(second.status.skipped, first.status.done, 'every record done before is skipped');
    // Every valid key once, the malformed rows never, the key of a malformed row once its valid row came.
    assert.deepEqual([...target.countsByKey().keys()].sort(), everyKey.sort());
    const sentTwice = [...target.countsByKey()].filter(([, n]) => n > 1).map(([key]) => key);
    assert.deepEqual(sentTwice, [], 'neither the resume nor a duplicate line sends a key again');
    const amountOf = (key: string) =>
      (JSON.parse(target.arrivals.find((arrival) => arrival.key === key)!.body) as { amount: number }).amount;
    assert.equal(amountOf(keyOf(1500)), 1500.5, 'the first line of a duplicated key is the one sent');
    assert.equal(amountOf('late'), 3.5);
    const rejected = await ledgerRows(file, { status: 'rejected' });
    assert.deepEqual(
      rejected.map((row) => row.key),
      ['line:7'],
      'the row with no key stays rejected; the key of the malformed row is its valid row’s now',
    );
    const cache = JSON.parse(fs.readFileSync(path.join(`${file}.d`, 'repeated-keys.json'), 'utf8')) as {
      repeated: [string, number[]][];
    };
    assert.deepEqual(
      cache.repeated.map(([key]) => key).sort(),
      [keyOf(10), keyOf(1500), keyOf(20), 'late'].sort(),
    );

    const failedNow = [...answered].filter(([, status]) => status === 500).map(([key]) => key);
    assert.ok(failedNow.length > 40, `${failedNow.length} failed keys`);
    phase = 'healthy';
    const before = target.arrivals.length;
    const rerun = await run('--only', 'failed');
    assert.equal(rerun.code, 0, rerun.stdout + rerun.stderr);
    const resent = target.arrivals.slice(before).map((arrival) => arrival.key);
    assert.deepEqual(
      [...resent].sort(),
      [...failedNow].sort(),
      '--only failed re-sends exactly the failed keys, once',
    );
    assert.deepEqual(await ledgerRows(file, { status: 'failed' }), []);
  });

  it('reports exactly the same duplicate and malformed lines in a dry run whether it holds every key or not', async () => {
    const file = writeFixtureRunbook(work.dir, { records: 0 });
    const rows = ['id,amount'];
    for (let i = 1; i <= 3000; i += 1) {
      rows.push(`${keyOf(i)},${i}.5`);
      if (i % 250 === 0) rows.push(`${keyOf(i - 200)},1.5`);
      if (i % 700 === 0) rows.push(`${keyOf(i + 100)},not-a-number`);
    }
    fs.writeFileSync(path.join(work.dir, 'records.csv'), rows.join('\n') + '\n');
    const dryRun = async (env: NodeJS.ProcessEnv) => {
      const result = await runCli(['dry-run', file, '--cell', 'preview', '--json'], { env });
      assert.equal(result.code, 0, result.stdout + result.stderr);
      const parsed = JSON.parse(result.stdout) as DryRunJson | DryRunJson[];
      return Array.isArray(parsed) ? parsed[0]! : parsed;
    };
    const everyKey = await dryRun({});
    const bounded = await dryRun(SMALL_MEMORY);
    assert.deepEqual(bounded.counts, everyKey.counts);
    assert.deepEqual(bounded.duplicates, everyKey.duplicates);
    assert.deepEqual(bounded.rejected, everyKey.rejected);
    assert.equal(everyKey.counts.duplicates, 12);
    assert.deepEqual(everyKey.duplicates[0], { key: keyOf(50), line: 252, firstLine: 51 });
  });
});
