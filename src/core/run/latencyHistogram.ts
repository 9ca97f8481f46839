/**
 * Attempt latency as a Prometheus histogram: counts in fixed buckets, which Prometheus can add up across
 * a fleet's members and then take percentiles of (`histogram_quantile`). Percentiles computed by each
 * member cannot be combined: the p99 of four workers is not any function of their four p99s. The bucket
 * bounds are Prometheus's defaults, widened to a minute at the top and a millisecond at the bottom.
 * This file cannot depend on the vscode API.
 */

/** Upper bounds of the buckets, in seconds (Prometheus's unit of time); `+Inf` follows them. */
export const LATENCY_BUCKETS_SECONDS: readonly number[] = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
];

/** A histogram's state: cumulative counts per upper bound, as the exposition format writes them. */
export interface HistogramSnapshot {
  /** `[upper bound in seconds, observations at or below it]`, ascending, ending with `Infinity`. */
  buckets: [number, number][];
  /** Sum of the observations, seconds. */
  sum: number;
  count: number;
}

/** Counts latencies into {@link LATENCY_BUCKETS_SECONDS}; fixed memory however many. */
export class LatencyHistogram {
  /** Non-cumulative: `counts[i]` holds the observations in bucket i, the last one above every bound. */
  private readonly counts = new Float64Array(LATENCY_BUCKETS_SECONDS.length + 1);
  private sumSeconds = 0;
  private n = 0;

  /** Records one latency in milliseconds; negative and non-finite values are ignored, as in LatencyStats. */
  record(ms: number): void {
    if (!(ms >= 0 && ms < Number.POSITIVE_INFINITY)) return;
    const seconds = ms / 1000;
    // A loop, not findIndex: no closure per record.
    let bucket = 0;
    while (bucket < LATENCY_BUCKETS_SECONDS.length && seconds > LATENCY_BUCKETS_SECONDS[bucket]!) bucket += 1;
    this.counts[bucket]! += 1;
    this.sumSeconds += seconds;
    this.n += 1;
  }

  snapshot(): HistogramSnapshot {
    let cumulative = 0;
    const bounds = [...LATENCY_BUCKETS_SECONDS, Number.POSITIVE_INFINITY];
    const buckets = bounds.map((bound, i): [number, number] => {
      cumulative += this.counts[i]!;
      return [bound, cumulative];
    });
    return { buckets, sum: this.sumSeconds, count: this.n };
  }
}
