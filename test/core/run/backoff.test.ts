import { strict as assert } from 'node:assert';
import { MAX_RETRY_AFTER_MS, retryDelayMs } from '../../../src/core/run/backoff';

const LOWEST = () => 0;
const HIGHEST = () => 0.999999;

describe('retryDelayMs', () => {
  it('doubles the ceiling with each attempt, starting at the base', () => {
    const ceilings = [1, 2, 3, 4, 5].map((attempt) => retryDelayMs(attempt, { random: HIGHEST }));
    assert.deepEqual(ceilings, [199, 399, 799, 1599, 3199]);
  });

  it('spreads delays uniformly below the ceiling (full jitter)', () => {
    assert.equal(retryDelayMs(3, { random: LOWEST }), 0);
    assert.equal(retryDelayMs(3, { random: () => 0.5 }), 400);
    assert.equal(retryDelayMs(3, { baseMs: 1000, random: () => 0.25 }), 1000);
  });

  it('never exceeds maxMs however many attempts, without a Retry-After', () => {
    for (const attempt of [10, 20, 100, 1075, 100_000]) {
      const delay = retryDelayMs(attempt, { random: HIGHEST });
      assert.ok(delay >= 29_000 && delay < 30_000, `attempt ${attempt}: ${delay}`);
    }
    assert.ok(retryDelayMs(50, { maxMs: 5000, random: HIGHEST }) < 5000);
  });

  it('waits at least the Retry-After, even beyond maxMs', () => {
    assert.equal(retryDelayMs(1, { retryAfterMs: 5000, random: HIGHEST }), 5000);
    assert.equal(retryDelayMs(1, { retryAfterMs: 120_000, random: LOWEST }), 120_000);
    assert.equal(retryDelayMs(8, { retryAfterMs: 1000, random: HIGHEST }), 25_599);
  });

  it('caps an absurd Retry-After at ten minutes', () => {
    assert.equal(retryDelayMs(1, { retryAfterMs: 86_400_000, random: LOWEST }), MAX_RETRY_AFTER_MS);
    assert.equal(MAX_RETRY_AFTER_MS, 600_000);
  });

  it('stays finite and non-negative whatever the inputs', () => {
    const odd = [Number.NaN, -1, 1.5, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY];
    for (const value of odd) {
      for (const delay of [
        retryDelayMs(3, { random: () => value }),
        retryDelayMs(3, { retryAfterMs: value, random: HIGHEST }),
        retryDelayMs(3, { baseMs: value, maxMs: value, random: HIGHEST }),
      ]) {
        assert.ok(Number.isFinite(delay) && delay >= 0, `${value}: ${delay}`);
        assert.ok(delay <= 30_000, `${value}: ${delay}`);
      }
    }
  });

  it('refuses an attempt number that is not a positive integer', () => {
    assert.throws(() => retryDelayMs(0, { random: LOWEST }), RangeError);
    assert.throws(() => retryDelayMs(1.5, { random: LOWEST }), RangeError);
  });
});
