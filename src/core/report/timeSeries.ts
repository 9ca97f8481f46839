/**
 * A compact time series of a run, derived from the time (`at`) of each record's outcome in the ledger:
 * how many records ended well and how many did not in each bucket of a few seconds. The runner keeps no
 * series of its own, and needs none: the outcomes already say when each record finished.
 *
 * The ledger keeps only the latest outcome of each record in a chain, so a record that a later run sent
 * again (a resume, `--only failed`) counts in that later run's series, not in the first one's.
 */

/** One bucket: records whose outcome is good (succeeded, verified) or bad (failed, mismatch…). */
export interface Bucket {
  good: number;
  bad: number;
}

export interface TimeSeries {
  /** Epoch milliseconds where the first bucket starts: the run's start. */
  start: number;
  bucketSeconds: number;
  /**
   * Length of the last bucket: the buckets cover the run exactly, so a remainder shorter than half a
   * bucket joins the last one (between half a bucket and a bucket and a half long, seconds).
   */
  lastBucketSeconds: number;
  buckets: Bucket[];
}

/** Bucket widths that read well on an axis; the smallest giving at most {@link MAX_BUCKETS} is used. */
const NICE_SECONDS = [
  0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400,
];
const MAX_BUCKETS = 60;
/** Records a bucket holds on average at least, so a steady 5/s run does not show bars of 0 and 10/s. */
const MIN_RECORDS_PER_BUCKET = 5;

/** Statuses counted as the good part of a bucket; rejected records were never sent and are left out. */
const GOOD = new Set(['succeeded', 'verified']);
const NEUTRAL = new Set(['rejected']);

/**
 * The bucket width for a run of this length: 10 s for a 10-minute run, 0.1 s for a 5-second one — and,
 * when the number of records is known, wide enough to hold a few records each (a 22-second run of 110
 * records gets 1 s buckets, not 0.5 s ones holding two or three). Never wider than the run itself: a
 * 1.4-second re-send of one record gets 1 s buckets, not 10 s ones.
 */
export function bucketSecondsFor(durationMs: number, records?: number): number {
  const seconds = durationMs / 1000;
  const fewest = records !== undefined && records > 0 ? (seconds * MIN_RECORDS_PER_BUCKET) / records : 0;
  const fitting =
    NICE_SECONDS.find((width) => seconds / width <= MAX_BUCKETS && width >= fewest) ?? NICE_SECONDS.at(-1)!;
  const longest = [...NICE_SECONDS].reverse().find((width) => width <= seconds) ?? NICE_SECONDS[0]!;
  return Math.min(fitting, longest);
}

/** Builds a series incrementally, one outcome at a time, in constant memory per bucket. */
export class SeriesBuilder {
  private readonly series: TimeSeries;

  /** `records`: how many outcomes the run recorded, when known (it widens the buckets of a slow run). */
  constructor(startMs: number, endMs: number, records?: number) {
    const durationMs = Math.max(0, endMs - startMs);
    const bucketSeconds = bucketSecondsFor(durationMs, records);
    const seconds = durationMs / 1000;
    // Buckets cover exactly the run, so the rates average to the run's rate and the peak is never below
    // it; a remainder shorter than half a bucket joins the last full bucket instead of showing a few
    // records in a sliver of time as a spike.
    const whole = Math.floor(seconds / bucketSeconds + 1e-9);
    const rest = Math.max(0, seconds - whole * bucketSeconds);
    const ownBucket = whole === 0 || rest >= bucketSeconds / 2;
    const count = ownBucket ? whole + 1 : whole;
    const last = ownBucket ? rest : bucketSeconds + rest;
    this.series = {
      start: startMs,
      bucketSeconds,
      // A run of no measurable length: one bucket of the smallest width rather than a rate divided by 0.
      lastBucketSeconds: last > 0 ? last : bucketSeconds,
      buckets: Array.from({ length: count }, () => ({ good: 0, bad: 0 })),
    };
  }

  /** Counts one outcome; times outside the run (clock skew) land in the first or last bucket. */
  add(status: string, atMs: number): void {
    if (NEUTRAL.has(status) || !Number.isFinite(atMs)) return;
    const { buckets, bucketSeconds, start } = this.series;
    const index = Math.min(
      buckets.length - 1,
      Math.max(0, Math.floor((atMs - start) / 1000 / bucketSeconds)),
    );
    const bucket = buckets[index]!;
    if (GOOD.has(status)) bucket.good += 1;
    else bucket.bad += 1;
  }

  build(): TimeSeries {
    return this.series;
  }
}

/** Records per second in each bucket (good and bad together), the short last bucket accounted for. */
export function ratePerBucket(series: TimeSeries): number[] {
  return series.buckets.map((bucket, index) => (bucket.good + bucket.bad) / widthOf(series, index));
}

/** Bad outcomes per second in each bucket. */
export function badRatePerBucket(series: TimeSeries): number[] {
  return series.buckets.map((bucket, index) => bucket.bad / widthOf(series, index));
}

function widthOf(series: TimeSeries, index: number): number {
  return index === series.buckets.length - 1 ? series.lastBucketSeconds : series.bucketSeconds;
}

/**
 * Peak rate over the buckets. The busiest bucket of a run is at least as fast as its average, but the
 * series holds only outcomes no later run took over (a resume, `--only failed`): given the run's
 * `average`, the peak shown is never below it.
 */
export function peakRate(series: TimeSeries, average = 0): number {
  return Math.max(average, ...ratePerBucket(series));
}
