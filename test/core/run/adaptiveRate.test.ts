import { strict as assert } from 'node:assert';
import { AdaptiveRate } from '../../../src/core/run/adaptiveRate';
import { ManualClock } from '../../../src/core/run/clock';

function approx(actual: number, expected: number): void {
  assert.ok(Math.abs(actual - expected) < 1e-9, `expected ${expected}, got ${actual}`);
}

describe('AdaptiveRate', () => {
  it('uses the configured rate while nothing is overloaded', async () => {
    const clock = new ManualClock();
    const rate = new AdaptiveRate(40, clock);
    rate.onSuccess();
    await clock.advance(60_000);
    assert.equal(rate.effective(), 40);
    assert.equal(rate.configured(), 40);
  });

  it('halves the effective rate on overload', () => {
    const rate = new AdaptiveRate(100, new ManualClock());
    assert.equal(rate.onOverload(), true);
    assert.equal(rate.effective(), 50);
  });

  it('counts a burst of overload signals within one second once', async () => {
    const clock = new ManualClock();
    const rate = new AdaptiveRate(100, clock);
    rate.onOverload();
    for (let i = 0; i < 20; i += 1) {
      await clock.advance(49);
      assert.equal(rate.onOverload(), false);
    }
    assert.equal(rate.effective(), 50);
    await clock.advance(20);
    assert.equal(rate.onOverload(), true);
    assert.equal(rate.effective(), 25);
  });

  it('never drops below 1 % of the configured rate', async () => {
    const clock = new ManualClock();
    const rate = new AdaptiveRate(1000, clock);
    for (let i = 0; i < 20; i += 1) {
      rate.onOverload();
      await clock.advance(1000);
    }
    assert.equal(rate.effective(), 10);
  });

  it('never drops below 0.1 per second, nor above a configured rate lower than that', async () => {
    const clock = new ManualClock();
    const slow = new AdaptiveRate(2, clock);
    const slowest = new AdaptiveRate(0.05, clock);
    for (let i = 0; i < 20; i += 1) {
      slow.onOverload();
      slowest.onOverload();
      await clock.advance(1000);
    }
    assert.equal(slow.effective(), 0.1);
    assert.equal(slowest.effective(), 0.05);
  });

  it('recovers linearly by 10 % of the configured rate per second after a success, up to the configured rate', async () => {
    const clock = new ManualClock();
    const rate = new AdaptiveRate(100, clock);
    rate.onOverload();
    rate.onSuccess();
    const seen: number[] = [];
    for (let i = 0; i < 8; i += 1) {
      await clock.advance(1000);
      seen.push(rate.effective());
    }
    assert.deepEqual(seen, [60, 70, 80, 90, 100, 100, 100, 100]);
    await clock.advance(500);
    rate.onOverload();
    assert.equal(rate.effective(), 50);
  });

  it('recovers in proportion to the time passed within a second', async () => {
    const clock = new ManualClock();
    const rate = new AdaptiveRate(100, clock);
    rate.onOverload();
    rate.onSuccess();
    await clock.advance(250);
    approx(rate.effective(), 52.5);
  });

  it('does not recover until a success follows the last decrease', async () => {
    const clock = new ManualClock();
    const rate = new AdaptiveRate(100, clock);
    rate.onOverload();
    await clock.advance(10_000);
    assert.equal(rate.effective(), 50);
    rate.onSuccess();
    await clock.advance(2000);
    approx(rate.effective(), 70);
  });

  it('halves from the partly recovered rate and restarts the recovery', async () => {
    const clock = new ManualClock();
    const rate = new AdaptiveRate(100, clock);
    rate.onOverload();
    rate.onSuccess();
    await clock.advance(3000);
    rate.onOverload();
    assert.equal(rate.effective(), 40);
    await clock.advance(3000);
    assert.equal(rate.effective(), 40);
  });

  it('clamps the effective rate to a lowered configured rate at once', () => {
    const rate = new AdaptiveRate(100, new ManualClock());
    rate.setConfigured(30);
    assert.equal(rate.effective(), 30);
    assert.equal(rate.configured(), 30);
  });

  it('clamps a slowed-down rate to a configured rate set below it', async () => {
    const clock = new ManualClock();
    const rate = new AdaptiveRate(100, clock);
    rate.onOverload();
    rate.setConfigured(20);
    assert.equal(rate.effective(), 20);
    await clock.advance(10_000);
    assert.equal(rate.effective(), 20);
  });

  it('follows a raised configured rate at once when not slowed down', () => {
    const rate = new AdaptiveRate(10, new ManualClock());
    rate.setConfigured(50);
    assert.equal(rate.effective(), 50);
  });

  it('keeps a slowdown when the configured rate is raised and recovers by 10 % of the new rate', async () => {
    const clock = new ManualClock();
    const rate = new AdaptiveRate(100, clock);
    rate.onOverload();
    rate.onSuccess();
    await clock.advance(1000);
    rate.setConfigured(200);
    assert.equal(rate.effective(), 60);
    await clock.advance(1000);
    assert.equal(rate.effective(), 80);
    await clock.advance(60_000);
    assert.equal(rate.effective(), 200);
  });

  it('refuses a configured rate that is not positive and finite', () => {
    const clock = new ManualClock();
    assert.throws(() => new AdaptiveRate(0, clock), RangeError);
    assert.throws(() => new AdaptiveRate(Number.POSITIVE_INFINITY, clock), RangeError);
    assert.throws(() => new AdaptiveRate(5, clock).setConfigured(-1), RangeError);
  });
});
