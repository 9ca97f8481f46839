import { strict as assert } from 'node:assert';
import { ManualClock } from '../../../src/core/run/clock';
import { LatencyStats, RateMeter } from '../../../src/core/run/latencyStats';
import { seededRandom } from '../../../src/core/support/seededRandom';

/** The exact nearest-rank quantile of `values`. */
function exactQuantile(sorted: number[], q: number): number {
  return sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1]!;
}

const random = seededRandom(20240601);
const DISTRIBUTIONS: Record<string, () => number> = {
  'uniform 1 ms to 1 s': () => 1 + random() * 999,
  'exponential, mean 80 ms': () => -80 * Math.log(1 - random()),
  'log-normal around 120 ms with a long tail': () => {
    const normal = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    return 120 * Math.exp(normal);
  },
  'bimodal: fast cache hits and slow misses': () => (random() < 0.9 ? 2 + random() : 900 + random() * 300),
  'sub-millisecond local handlers': () => 0.05 + random() * 0.5,
};

describe('LatencyStats', () => {
  for (const [name, sample] of Object.entries(DISTRIBUTIONS)) {
    it(`estimates p50, p95 and p99 within 2 % on ${name}`, () => {
      const stats = new LatencyStats();
      const values = Array.from({ length: 50_000 }, sample);
      for (const value of values) stats.record(value);
      const sorted = [...values].sort((a, b) => a - b);
      for (const q of [0.5, 0.95, 0.99]) {
        const exact = exactQuantile(sorted, q);
        const estimate = stats.quantile(q);
        assert.ok(
          Math.abs(estimate - exact) / exact <= 0.0201,
          `q${q}: exact ${exact}, estimate ${estimate}`,
        );
      }
      assert.equal(stats.count, values.length);
    });
  }

  it('reports 0 before anything is recorded', () => {
    const stats = new LatencyStats();
    assert.equal(stats.quantile(0.95), 0);
    assert.equal(stats.mean(), 0);
  });

  it('reports a single value exactly', () => {
    const stats = new LatencyStats();
    stats.record(37);
    assert.equal(stats.quantile(0.5), 37);
    assert.equal(stats.quantile(0.99), 37);
  });

  it('reports values beyond ten minutes and zero durations within the observed range', () => {
    const stats = new LatencyStats();
    stats.record(0);
    stats.record(900_000);
    assert.equal(stats.quantile(0.5), 0);
    assert.equal(stats.quantile(1), 900_000);
  });

  it('keeps count, sum and mean exact and ignores impossible values', () => {
    const stats = new LatencyStats();
    for (const value of [10, 20, 30, -5, Number.NaN, Number.POSITIVE_INFINITY]) stats.record(value);
    assert.equal(stats.count, 3);
    assert.equal(stats.sumMs, 60);
    assert.equal(stats.mean(), 20);
  });

  it('refuses a quantile outside 0..1', () => {
    assert.throws(() => new LatencyStats().quantile(95), RangeError);
  });
});

describe('RateMeter', () => {
  it('measures a steady rate over the last seconds', async () => {
    const clock = new ManualClock(5_000);
    const meter = new RateMeter(clock);
    for (let i = 0; i < 200; i += 1) {
      meter.record();
      await clock.advance(50);
    }
    // 20 records a second for 10 seconds.
    assert.equal(meter.rateNow(), 20);
    assert.equal(meter.average(), 20);
    assert.equal(meter.count, 200);
  });

  it('follows a change of rate within a few seconds while the average lags', async () => {
    const clock = new ManualClock();
    const meter = new RateMeter(clock);
    for (let second = 0; second < 60; second += 1) {
      for (let i = 0; i < 100; i += 1) {
        meter.record();
        await clock.advance(10);
      }
    }
    for (let second = 0; second < 6; second += 1) {
      for (let i = 0; i < 10; i += 1) {
        meter.record();
        await clock.advance(100);
      }
    }
    assert.equal(meter.rateNow(), 10);
    assert.ok(Math.abs(meter.average() - 6060 / 66) < 1e-9);
  });

  it('counts the part of the current second that has passed', async () => {
    const clock = new ManualClock();
    const meter = new RateMeter(clock);
    await clock.advance(6000);
    await clock.advance(500);
    meter.record(30);
    // 30 records in the window of 5 whole seconds plus half of the current one.
    assert.ok(Math.abs(meter.rateNow() - 30 / 5.5) < 1e-9);
  });

  it('drops to zero after records stop for longer than the window', async () => {
    const clock = new ManualClock();
    const meter = new RateMeter(clock);
    meter.record(100);
    await clock.advance(7000);
    assert.equal(meter.rateNow(), 0);
    assert.ok(meter.average() > 0);
  });

  it('counts batches and reports the rate over a short start exactly', async () => {
    const clock = new ManualClock();
    const meter = new RateMeter(clock);
    assert.equal(meter.rateNow(), 0);
    assert.equal(meter.average(), 0);
    await clock.advance(500);
    meter.record(25);
    assert.equal(meter.rateNow(), 50);
    assert.equal(meter.average(), 50);
  });
});
