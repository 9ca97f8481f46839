import { strict as assert } from 'node:assert';
import { niceCeiling } from '../../../src/core/report/charts';
import fc from 'fast-check';
import {
  bucketSecondsFor,
  peakRate,
  ratePerBucket,
  SeriesBuilder,
} from '../../../src/core/report/timeSeries';

describe('run time series', () => {
  it('picks buckets that read well: 10 s for a 10-minute run, 0.1 s for a 5-second one, at most 60', () => {
    assert.equal(bucketSecondsFor(600_000), 10);
    assert.equal(bucketSecondsFor(5_000), 0.1);
    assert.equal(bucketSecondsFor(3_600_000), 60);
    assert.equal(bucketSecondsFor(0), 0.1);
    // A 22-second run at 5/s: 1 s buckets (five records each), not 0.5 s ones.
    assert.equal(bucketSecondsFor(22_000, 110), 1);
    assert.equal(bucketSecondsFor(22_000), 0.5);
  });

  it('counts good and bad outcomes per bucket and leaves rejected records out of the rate', () => {
    const builder = new SeriesBuilder(0, 600_000);
    builder.add('succeeded', 1_000);
    builder.add('failed', 9_999);
    builder.add('rejected', 5_000);
    builder.add('verified', 10_000);
    builder.add('mismatch', 599_999);
    const series = builder.build();
    assert.equal(series.buckets.length, 60);
    assert.deepEqual(series.buckets[0], { good: 1, bad: 1 });
    assert.deepEqual(series.buckets[1], { good: 1, bad: 0 });
    assert.deepEqual(series.buckets[59], { good: 0, bad: 1 });
    assert.equal(ratePerBucket(series)[0], 0.2);
  });

  it('covers the run exactly: a remainder under half a bucket joins the last bucket, a longer one is its own', () => {
    const joined = new SeriesBuilder(0, 590_500).build(); // 10-second buckets, 0.5 s left over
    assert.equal(joined.buckets.length, 59);
    assert.equal(joined.lastBucketSeconds, 10.5);
    const own = new SeriesBuilder(0, 587_000).build(); // 7 s left over: a bucket of its own
    assert.equal(own.buckets.length, 59);
    assert.equal(own.lastBucketSeconds, 7);
  });

  it('gives a 1-record re-send of 1.4 s one bucket of its own length, whose rate is the average', () => {
    assert.equal(bucketSecondsFor(1_400, 1), 1);
    const builder = new SeriesBuilder(0, 1_400, 1);
    builder.add('succeeded', 1_300);
    const series = builder.build();
    assert.equal(series.buckets.length, 1);
    assert.equal(series.lastBucketSeconds, 1.4);
    assert.equal(peakRate(series), 1 / 1.4);
  });

  it('never picks buckets longer than the run, and never shows a peak below the average', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3_600_000 }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 300 }),
        (durationMs, positions) => {
          const builder = new SeriesBuilder(0, durationMs, positions.length);
          for (const at of positions) builder.add('succeeded', at * durationMs);
          const series = builder.build();
          assert.ok(series.bucketSeconds <= Math.max(0.1, durationMs / 1000));
          const widths = (series.buckets.length - 1) * series.bucketSeconds + series.lastBucketSeconds;
          assert.ok(Math.abs(widths - durationMs / 1000) < 1e-6, 'buckets cover the run');
          const average = positions.length / (durationMs / 1000);
          assert.ok(
            peakRate(series) >= average * (1 - 1e-9),
            `peak ${peakRate(series)} < average ${average}`,
          );
        },
      ),
    );
  });

  it('shows the average as the peak when later runs took over outcomes the series would have held', () => {
    const builder = new SeriesBuilder(0, 10_000, 20);
    builder.add('succeeded', 5_000);
    assert.equal(peakRate(builder.build(), 2), 2);
  });

  it('puts outcomes stamped outside the run (clock skew) in the first or last bucket', () => {
    const builder = new SeriesBuilder(10_000, 20_000);
    builder.add('succeeded', 0);
    builder.add('succeeded', 99_000);
    const { buckets } = builder.build();
    assert.equal(buckets[0]!.good, 1);
    assert.equal(buckets.at(-1)!.good, 1);
  });

  it('rounds chart maxima up to a round number', () => {
    assert.deepEqual([0.3, 1, 1.2, 3.5, 101, 640, 9_001].map(niceCeiling), [1, 1, 1.5, 4, 150, 800, 10_000]);
  });
});
