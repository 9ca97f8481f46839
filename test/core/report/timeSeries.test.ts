import { strict as assert } from 'node:assert';
import { niceCeiling } from '../../../src/core/report/charts';
import { bucketSecondsFor, ratePerBucket, SeriesBuilder } from '../../../src/core/report/timeSeries';

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

  it('gives a last bucket cut short its real width, but no less than half a bucket', () => {
    const cutShort = new SeriesBuilder(0, 590_500).build(); // 10-second buckets, the 60th is 0.5 s long
    assert.equal(cutShort.buckets.length, 60);
    assert.equal(cutShort.lastBucketSeconds, 5);
    assert.equal(new SeriesBuilder(0, 587_000).build().lastBucketSeconds, 7);
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
