import { strict as assert } from 'node:assert';
import { describeFailureReason, FailureTally, reasonOf } from '../../../src/core/run/failureReasons';

describe('failure reasons', () => {
  it("says Node's connection errors briefly and leaves the record's key out", () => {
    assert.equal(
      reasonOf('connection refused: connect ECONNREFUSED 127.0.0.1:9', 'k1'),
      'connection refused (127.0.0.1:9)',
    );
    assert.equal(
      reasonOf('HTTP 404 Not Found: {"order":"1017"}', '1017'),
      'HTTP 404 Not Found: {"order":"…"}',
    );
    assert.equal(reasonOf('x'.repeat(500), 'key').length, 120);
  });

  it('ranks reasons by count with the first key of each, and keeps the first failed records', () => {
    const tally = new FailureTally();
    tally.record('a', 'HTTP 500');
    tally.record('b', 'timed out after 10 ms waiting for a response');
    tally.record('c', 'timed out after 10 ms waiting for a response');
    tally.record('d', 'HTTP 500');
    tally.record('e', 'timed out after 10 ms waiting for a response');
    tally.record('f', 'HTTP 404');
    assert.deepEqual(tally.top(2), [
      { reason: 'timed out after 10 ms waiting for a response', count: 3, key: 'b' },
      { reason: 'HTTP 500', count: 2, key: 'a' },
    ]);
    assert.deepEqual(
      tally.firstFailed().map((failed) => failed.key),
      ['a', 'b', 'c', 'd', 'e'],
    );
    assert.equal(
      describeFailureReason({ reason: 'HTTP 500', count: 1500, key: 'a' }),
      '1,500 × HTTP 500 — e.g. key a',
    );
  });

  it('keeps a bounded number of distinct reasons and counts the rest together', () => {
    const tally = new FailureTally();
    for (let i = 0; i < 1000; i += 1) tally.record(`r${i}`, `failure number ${i * 7919}`);
    const all = tally.top(1000);
    assert.equal(all.length, 51);
    assert.deepEqual(all[0], { reason: 'other reasons', count: 950, key: 'r50' });
    assert.equal(
      all.reduce((sum, entry) => sum + entry.count, 0),
      1000,
    );
  });
});
