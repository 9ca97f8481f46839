import { strict as assert } from 'node:assert';
import { ErrorBudget } from '../../../src/core/run/errorBudget';

/** Records `outcomes` ('.' success, 'x' failure) and returns the first halt reason, with its position. */
function feed(budget: ErrorBudget, outcomes: string): { at: number; reason: string } | undefined {
  for (let i = 0; i < outcomes.length; i += 1) {
    const reason = budget.record(outcomes[i] === '.');
    if (reason) return { at: i + 1, reason };
  }
  return undefined;
}

describe('ErrorBudget', () => {
  it('halts when the failed share of the last window exceeds the limit', () => {
    const budget = new ErrorBudget({ maxFailureRatio: 0.05 });
    // 5 failures in 100 is at the limit, not above it; the 6th within the window exceeds it.
    const fine = '.'.repeat(95) + 'x'.repeat(5);
    assert.equal(feed(budget, fine), undefined);
    assert.deepEqual(feed(budget, 'x'), {
      at: 1,
      reason: 'error budget exceeded: 6 of the last 100 records failed (limit 5 %)',
    });
  });

  it('does not judge the failure ratio before the window is full', () => {
    const budget = new ErrorBudget({ maxFailureRatio: 0.1, window: 50 });
    assert.deepEqual(feed(budget, 'x'.repeat(49) + '.'), {
      at: 50,
      reason: 'error budget exceeded: 49 of the last 50 records failed (limit 10 %)',
    });
  });

  it('forgets failures that slide out of the window', () => {
    const budget = new ErrorBudget({ maxFailureRatio: 0.1, window: 10 });
    // One failure every ten records is exactly 10 % in every window: never above the limit.
    assert.equal(feed(budget, '.........x'.repeat(100)), undefined);
    assert.deepEqual(feed(budget, 'x'), {
      at: 1,
      reason: 'error budget exceeded: 2 of the last 10 records failed (limit 10 %)',
    });
  });

  it('compares the ratio exactly despite floating point', () => {
    // 0.29 * 100 is 28.999999999999996 in floating point; 29 failures are still within a 29 % limit.
    const budget = new ErrorBudget({ maxFailureRatio: 0.29 });
    assert.equal(feed(budget, 'x'.repeat(29) + '.'.repeat(71)), undefined);
  });

  it('halts at the given number of consecutive failures', () => {
    const budget = new ErrorBudget({ maxConsecutiveFailures: 20 });
    assert.equal(feed(budget, 'x'.repeat(19) + '.' + 'x'.repeat(19)), undefined);
    assert.deepEqual(feed(budget, 'x'), { at: 1, reason: '20 consecutive failures (limit 20)' });
  });

  it('halts when the total number of failures exceeds the limit', () => {
    const budget = new ErrorBudget({ maxFailures: 1000 });
    assert.equal(feed(budget, 'x.'.repeat(1000)), undefined);
    assert.deepEqual(feed(budget, '.x'), { at: 2, reason: '1001 failures in total (limit 1000)' });
    assert.equal(budget.failures, 1001);
    assert.equal(budget.records, 2002);
  });

  it('halts at the first failure when no failure is allowed', () => {
    const budget = new ErrorBudget({ maxFailures: 0 });
    assert.deepEqual(feed(budget, '...x'), { at: 4, reason: '1 failures in total (limit 0)' });
  });

  it('keeps reporting an exceeded limit for the records still finishing', () => {
    const budget = new ErrorBudget({ maxFailures: 1 });
    feed(budget, 'xx');
    assert.equal(budget.record(true), '2 failures in total (limit 1)');
  });

  it('never halts without limits', () => {
    const budget = new ErrorBudget();
    assert.equal(feed(budget, 'x'.repeat(10_000)), undefined);
    assert.equal(budget.consecutiveFailures, 10_000);
  });

  it('accepts the runbook schema defaults', () => {
    const budget = new ErrorBudget({ maxFailureRatio: 0.2, window: 100, maxConsecutiveFailures: 50 });
    assert.deepEqual(feed(budget, 'x'.repeat(50)), { at: 50, reason: '50 consecutive failures (limit 50)' });
  });

  it('prints a fractional limit without noise', () => {
    const budget = new ErrorBudget({ maxFailureRatio: 0.005, window: 1000 });
    assert.equal(
      feed(budget, 'x'.repeat(6) + '.'.repeat(994))?.reason,
      'error budget exceeded: 6 of the last 1000 records failed (limit 0.5 %)',
    );
  });

  it('refuses limits out of range', () => {
    assert.throws(() => new ErrorBudget({ maxFailureRatio: 1.5 }), RangeError);
    assert.throws(() => new ErrorBudget({ maxFailureRatio: 0.1, window: 0 }), RangeError);
    assert.throws(() => new ErrorBudget({ maxConsecutiveFailures: 0 }), RangeError);
    assert.throws(() => new ErrorBudget({ maxFailures: -1 }), RangeError);
  });
});
