import assert from 'node:assert/strict';
import type { Ledger } from '../../../src/core/ledger/ledger';
import { isMerged, readChainRecords } from '../../../src/core/ledger/chainRecords';
import { RECORD_STATUSES, type RecordStatus } from '../../../src/core/model/runs';
import { UserError } from '../../../src/core/model/types';
import { outcome, useOpenLedger } from './helpers';

describe('chain records merged with the source by line', function () {
  this.timeout(30_000);
  const opened = useOpenLedger();
  let ledger: Ledger;
  beforeEach(() => (ledger = opened.ledger));

  /** 20,000 source lines; the chain recorded every third, one in seven of those failed. */
  const LINES = 20_000;
  const keyAt = (line: number) => `k${line}`;
  const statusAt = (line: number): RecordStatus | undefined =>
    line % 3 !== 0 ? undefined : line % 7 === 0 ? 'failed' : 'succeeded';

  async function recordChain(): Promise<void> {
    const outcomes = [];
    for (let line = 2; line < LINES; line += 1) {
      const status = statusAt(line);
      if (status) outcomes.push(outcome(keyAt(line), { line, status }));
    }
    await ledger.recordOutcomes(outcomes);
  }

  it('decides every line as a Set of the same keys does, reading ahead while the chain is written', async () => {
    await recordChain();
    for (const statuses of [RECORD_STATUSES, ['failed'] as const]) {
      const count = (await ledger.keysWithStatus('chain-1', statuses)).size;
      const asSet = await readChainRecords(ledger, 'chain-1', statuses, count);
      const merged = await readChainRecords(ledger, 'chain-1', statuses, count, 100);
      assert.ok(!isMerged(asSet) && isMerged(merged));
      if (!isMerged(merged)) return;
      await merged.prepare();
      assert.equal(merged.size, count);
      let chosen = 0;
      for (let line = 2; line < LINES; line += 1) {
        await merged.reach(line);
        assert.equal(merged.has(keyAt(line), line), asSet.has(keyAt(line), line), `line ${line}`);
        if (merged.has(keyAt(line), line)) chosen += 1;
        // The run records outcomes of lines already read while the feed reads ahead.
        if (line % 1000 === 0) await ledger.recordOutcomes([outcome(keyAt(line - 1), { line: line - 1 })]);
      }
      assert.equal(chosen, count);
    }
  });

  it('decides a key whose outcome sits at another of its lines: reached up to that line, not after', async () => {
    // Source: 2 a (valid), 3 dup (malformed), 4 b (valid), 5 gone (valid), 6 gone (malformed, its
    // rejection replaced line 5's success), 9 dup (valid, never reached).
    await ledger.recordOutcomes([
      outcome('a', { line: 2 }),
      outcome('dup', { line: 3, status: 'rejected' }),
      outcome('b', { line: 4 }),
      outcome('gone', { line: 6, status: 'rejected' }),
    ]);
    const done = await readChainRecords(ledger, 'chain-1', RECORD_STATUSES, 4, 1);
    const failed = await readChainRecords(ledger, 'chain-1', ['failed'], 2, 1);
    assert.ok(isMerged(done) && isMerged(failed));
    if (!isMerged(done) || !isMerged(failed)) return;
    await done.prepare();
    await failed.prepare();
    const decide = async (key: string, line: number, how: 'valid' | 'as read' | 'malformed' = 'valid') => {
      await done.reach(line);
      if (how === 'malformed') return await done.hasMalformed(key, line);
      return done.has(key, line, how === 'as read');
    };
    assert.equal(await decide('a', 2, 'as read'), true);
    assert.equal(
      await decide('dup', 3, 'as read'),
      false,
      'a rejected row is checked, never skipped as read',
    );
    assert.equal(await decide('dup', 3, 'malformed'), true);
    assert.equal(await decide('b', 4), true);
    assert.equal(await decide('gone', 5, 'as read'), false);
    assert.equal(await decide('gone', 5), true, 'its rejection at line 6 says line 5 was reached');
    assert.equal(
      await decide('moved', 5, 'malformed'),
      true,
      'a malformed row with no outcome of its own, before lines the chain reached: a later row of its key replaced it',
    );
    assert.equal(await decide('gone', 6, 'malformed'), true);
    assert.equal(await decide('c', 7), false);
    assert.equal(
      await decide('a', 8, 'malformed'),
      false,
      'a malformed row after its key’s outcome was not reached',
    );
    assert.equal(await decide('dup', 9), false, 'the valid row after the malformed one was never reached');
    await failed.reach(5);
    assert.equal(failed.has('gone', 5), false, 'a rejection is no failure');
  });

  it('refuses to go on when a line holds another key than the chain recorded there', async () => {
    await ledger.recordOutcomes([outcome('a', { line: 2 }), outcome('b', { line: 3 })]);
    const merged = await readChainRecords(ledger, 'chain-1', RECORD_STATUSES, 2, 1);
    assert.ok(isMerged(merged));
    if (!isMerged(merged)) return;
    await merged.prepare();
    await merged.reach(2);
    assert.equal(merged.has('a', 2), true);
    await merged.reach(3);
    assert.equal(merged.has('x', 3, true), false, 'a key as read may differ from the typed one');
    assert.throws(
      () => merged.has('x', 3),
      (error: unknown) =>
        error instanceof UserError && /line 3 holds key x.*recorded key b.*--restart/.test(error.message),
    );
  });

  it('by key (a database source whose lines move), looks a key its line does not hold up in the ledger', async () => {
    // The first run recorded keys 1..4 at lines 1..4; the query now returns 3, 5 and 6 at lines 1..3.
    await ledger.recordOutcomes([
      outcome('1', { line: 1 }),
      outcome('2', { line: 2 }),
      outcome('3', { line: 3, status: 'failed' }),
      outcome('4', { line: 4 }),
    ]);
    const merged = await readChainRecords(ledger, 'chain-1', RECORD_STATUSES, 4, 1, true);
    const failed = await readChainRecords(ledger, 'chain-1', ['succeeded'], 3, 1, true);
    assert.ok(isMerged(merged) && isMerged(failed));
    if (!isMerged(merged) || !isMerged(failed)) return;
    await merged.prepare();
    const decide = async (records: typeof merged, key: string, line: number) => {
      await records.reach(line, key);
      return records.has(key, line);
    };
    assert.equal(await decide(merged, '3', 1), true, 'key 3 finished at line 3');
    assert.equal(await decide(failed, '3', 1), false, 'its outcome is a failure, not a success');
    assert.equal(await decide(merged, '5', 2), false, 'key 5 has no outcome: sent');
    assert.equal(await decide(merged, '6', 3), false);
    assert.equal(await decide(merged, '4', 4), true, 'a line that holds its key answers as before');
  });
});
