import { strict as assert } from 'node:assert';
import type { Ledger } from '../../../src/core/ledger/ledger';
import type { Runbook } from '../../../src/core/format/runbook';
import type { ChainRecords } from '../../../src/core/ledger/chainRecords';
import { findVerificationGaps } from '../../../src/core/verify/gaps';
import { outcome, run, useRunbook, withSavedLedger, readLedger } from '../ledger/helpers';

const VERIFIED_AT = '2026-03-02T10:00:00.000Z';
const BEFORE = '2026-03-01T10:00:00.000Z';
const AFTER = '2026-03-03T10:00:00.000Z';
const key = (i: number) => `k${String(i).padStart(5, '0')}`;
const runbook = {
  file: 'orders.backfill',
  cells: [{ kind: 'verify', id: 'check', spec: { job: 'orders' } }],
};

/** The ledger, counting how it is asked: per key (`outcomeOf`) or in one pass (`outcomes`). */
function counting(ledger: Ledger): { ledger: Ledger; asked: Record<string, number> } {
  const asked: Record<string, number> = {};
  const proxy = new Proxy(ledger, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        asked[String(name)] = (asked[String(name)] ?? 0) + 1;
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { ledger: proxy, asked };
}

/** The verification run `check-1` of cell `check`, in chain `check-chain`, ended at VERIFIED_AT. */
async function recordVerification(ledger: Ledger): Promise<void> {
  await ledger.startRun(
    run('check-1', {
      cell: 'check',
      chain: 'check-chain',
      mode: 'verify',
      startedAt: '2026-03-02T09:00:00.000Z',
    }),
  );
  await ledger.finishRun('check-1', 'below-threshold', undefined, '{}', VERIFIED_AT);
}

describe('verification gaps', () => {
  const files = useRunbook();

  it('leaves out the gaps re-sent since the verification, reading the re-sending chain once, never key by key', async () => {
    await withSavedLedger(files.runbook, async (ledger) => {
      await ledger.startRun(run('full-1', { cell: 'full', chain: 'full-chain' }));
      await recordVerification(ledger);
      await ledger.startRun(
        run('full-2', { cell: 'full', chain: 'full-chain', startedAt: '2026-03-03T09:00:00.000Z' }),
      );
      await ledger.finishRun('full-2', 'below-threshold', undefined, '{}', AFTER);
      const checked = Array.from({ length: 1000 }, (_, i) =>
        outcome(key(i + 1), {
          run: 'check-1',
          chain: 'check-chain',
          cell: 'check',
          status: (i + 1) % 10 === 0 ? 'mismatch' : (i + 1) % 25 === 0 ? 'missing' : 'verified',
        }),
      );
      const sent = Array.from({ length: 1000 }, (_, i) => {
        const n = i + 1;
        // Gaps 10..200 were re-sent after the verification; 100 of them failed again.
        const resent = n % 10 === 0 && n <= 200;
        return outcome(key(n), {
          run: resent ? 'full-2' : 'full-1',
          chain: 'full-chain',
          cell: 'full',
          status: n === 100 ? 'failed' : 'succeeded',
          at: resent ? AFTER : BEFORE,
        });
      });
      await ledger.recordOutcomes([...checked, ...sent]);
    });

    const found = await readLedger(files.runbook, async (ledger) => {
      const watched = counting(ledger);
      const gaps = await findVerificationGaps(
        runbook as unknown as Runbook,
        watched.ledger,
        'orders',
        'full',
      );
      return { gaps, asked: watched.asked };
    });
    const expected = Array.from({ length: 1000 }, (_, i) => i + 1)
      .filter((n) => (n % 10 === 0 && (n > 200 || n === 100)) || (n % 10 !== 0 && n % 25 === 0))
      .map(key);
    assert.deepEqual([...(found.gaps.keys as Set<string>)].sort(), expected.sort());
    assert.equal(found.gaps.resending?.chain, 'full-chain');
    assert.deepEqual(found.gaps.resending?.counts, { failed: 1, succeeded: expected.length - 1 });
    assert.equal(found.asked.outcomeOf ?? 0, 0, 'no lookup per key');
    assert.equal(found.asked.outcomes, 1, 'one pass over the re-sending chain');
  });

  it('finds the same gaps merged by line as with Sets when the verification found more than it holds', async () => {
    await withSavedLedger(files.runbook, async (ledger) => {
      await recordVerification(ledger);
      await ledger.startRun(run('full-2', { cell: 'full', chain: 'full-chain', startedAt: AFTER }));
      const lineOf = (n: number) => n + 1;
      const checked = Array.from({ length: 3000 }, (_, i) =>
        outcome(key(i + 1), {
          run: 'check-1',
          chain: 'check-chain',
          cell: 'check',
          line: lineOf(i + 1),
          status: (i + 1) % 10 === 0 ? 'mismatch' : (i + 1) % 25 === 0 ? 'missing' : 'verified',
        }),
      );
      // The re-sending chain: every gap up to 1,000 re-sent after the verification, one in three failed.
      const sent = Array.from({ length: 1000 }, (_, i) => i + 1)
        .filter((n) => n % 10 === 0 || n % 25 === 0 || n % 7 === 0)
        .map((n) =>
          outcome(key(n), {
            run: 'full-2',
            chain: 'full-chain',
            cell: 'full',
            line: lineOf(n),
            status: n % 3 === 0 ? 'failed' : 'succeeded',
            at: n % 7 === 0 && n % 10 !== 0 && n % 25 !== 0 ? BEFORE : AFTER,
          }),
        );
      await ledger.recordOutcomes([...checked, ...sent]);
    });
    await readLedger(files.runbook, async (ledger) => {
      const asSet = await findVerificationGaps(runbook as unknown as Runbook, ledger, 'orders', 'full');
      const merged = await findVerificationGaps(runbook as unknown as Runbook, ledger, 'orders', 'full', 50);
      const keys = asSet.keys as Set<string>;
      assert.ok(keys instanceof Set && !(merged.keys instanceof Set));
      assert.equal(merged.keys.size, keys.size);
      assert.deepEqual(merged.resending, asSet.resending);
      const records = merged.keys as ChainRecords & {
        prepare(): Promise<void>;
        reach(line: number): unknown;
      };
      await records.prepare();
      for (let n = 1; n <= 3000; n += 1) {
        await records.reach(n + 1);
        assert.equal(records.has(key(n), n + 1), keys.has(key(n)), key(n));
      }
      assert.ok(keys.size > 250 && keys.has(key(30)) && !keys.has(key(20)), `${keys.size} gaps`);
    });
  });
});
