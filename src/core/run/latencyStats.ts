/**
 * Live figures of a run: latency percentiles and the records-per-second rate, in bounded memory, for the
 * status written each second and the Prometheus metrics. This file cannot depend on the vscode API.
 */
import type { Clock } from './clock';

/** Smallest latency resolved with bounded relative error; below it values share one bucket. */
const MIN_MS = 0.01;
/** Largest latency resolved with bounded relative error (10 minutes); above it values share one bucket. */
const MAX_MS = 600_000;
/**
 * Bucket bounds grow by this factor. Reporting a bucket's geometric middle puts the estimate within
 * sqrt(GROWTH) - 1 = 2 % of any value in the bucket, hence of the true percentile: 453 buckets, and two
 * for values outside the range.
 */
const GROWTH = 1.0404;
const LOG_GROWTH = Math.log(GROWTH);
/** Buckets covering [MIN_MS, MAX_MS), plus one below and one above. */
const LOG_BUCKETS = Math.ceil(Math.log(MAX_MS / MIN_MS) / LOG_GROWTH);
const UNDERFLOW = 0;
const OVERFLOW = LOG_BUCKETS + 1;

/**
 * Streaming latency percentiles over everything recorded, in fixed memory: a histogram with log-scale
 * buckets from 10 µs to 10 minutes, so any percentile is within 2 % of the exact one (nearest rank).
 * Values outside that range are reported within the observed minimum and maximum.
 */
export class LatencyStats {
  private readonly buckets = new Float64Array(OVERFLOW + 1);
  private n = 0;
  private sum = 0;
  private min = Number.POSITIVE_INFINITY;
  private max = Number.NEGATIVE_INFINITY;

  /** Number of latencies recorded. */
  get count(): number {
    return this.n;
  }

  /** Sum of the latencies recorded, milliseconds (for a Prometheus summary's `_sum`). */
  get sumMs(): number {
    return this.sum;
  }

  /** Mean latency in milliseconds; 0 before anything is recorded. */
  mean(): number {
    return this.n === 0 ? 0 : this.sum / this.n;
  }

  /** Records one latency in milliseconds. Negative and non-finite values are ignored: they are bugs, not data. */
  record(ms: number): void {
    if (!(ms >= 0 && ms < Number.POSITIVE_INFINITY)) return;
    this.buckets[bucketOf(ms)]! += 1;
    this.n += 1;
    this.sum += ms;
    if (ms < this.min) this.min = ms;
    if (ms > this.max) this.max = ms;
  }

  /**
   * The latency at quantile `q` (0.5 for p50, 0.95 for p95), milliseconds, by nearest rank: the smallest
   * recorded value with at least `q` of all values at or below it, within 2 %. 0 before anything is
   * recorded, so status and metrics always have a number.
   */
  quantile(q: number): number {
    if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile must be between 0 and 1, got ${q}`);
    if (this.n === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.n));
    let seen = 0;
    for (let i = 0; i < this.buckets.length; i += 1) {
      seen += this.buckets[i]!;
      if (seen >= rank) return Math.min(this.max, Math.max(this.min, representative(i)));
    }
    return this.max;
  }
}

function bucketOf(ms: number): number {
  if (ms < MIN_MS) return UNDERFLOW;
  if (ms >= MAX_MS) return OVERFLOW;
  // The clamp guards against floating-point rounding just below MAX_MS landing one bucket too far.
  return 1 + Math.min(LOG_BUCKETS - 1, Math.floor(Math.log(ms / MIN_MS) / LOG_GROWTH));
}

/** The geometric middle of a bucket; the extreme buckets are clamped to min and max by the caller. */
function representative(bucket: number): number {
  if (bucket === UNDERFLOW) return 0;
  if (bucket === OVERFLOW) return Number.POSITIVE_INFINITY;
  return MIN_MS * GROWTH ** (bucket - 1 + 0.5);
}

/** Length of the "rate now" window. */
const RECENT_SECONDS = 5;

/**
 * Records per second: `rateNow()` over roughly the last 5 seconds and `average()` since the meter was
 * created. Counts go into one-second buckets aligned on the start, so memory stays fixed however fast
 * records arrive and the status can ask once a second at no cost.
 */
export class RateMeter {
  private readonly startedAt: number;
  /** Ring of per-second counts; `seconds[i]` says which second since the start `counts[i]` belongs to. */
  private readonly counts = new Float64Array(RECENT_SECONDS + 1);
  private readonly seconds = new Float64Array(RECENT_SECONDS + 1).fill(-1);
  private total = 0;

  constructor(private readonly clock: Clock) {
    this.startedAt = clock.now();
  }

  /** Records processed since the start. */
  get count(): number {
    return this.total;
  }

  /** Counts `count` records as processed now. */
  record(count = 1): void {
    const second = this.secondNow();
    const slot = second % this.counts.length;
    if (this.seconds[slot] !== second) {
      this.seconds[slot] = second;
      this.counts[slot] = 0;
    }
    this.counts[slot]! += count;
    this.total += count;
  }

  /**
   * Records per second over the 5 whole seconds before the current one plus the part of the current one
   * that has passed (less at the very start), so it follows changes within a second or two without
   * jumping about with every record.
   */
  rateNow(): number {
    const elapsed = this.clock.now() - this.startedAt;
    if (elapsed <= 0) return 0;
    const current = Math.floor(elapsed / 1000);
    const first = Math.max(0, current - RECENT_SECONDS);
    let sum = 0;
    for (let second = first; second <= current; second += 1) {
      const slot = second % this.counts.length;
      if (this.seconds[slot] === second) sum += this.counts[slot]!;
    }
    return (sum * 1000) / (elapsed - first * 1000);
  }

  /** Records per second since the start; 0 at the very start. */
  average(): number {
    const elapsed = this.clock.now() - this.startedAt;
    return elapsed > 0 ? (this.total * 1000) / elapsed : 0;
  }

  private secondNow(): number {
    return Math.max(0, Math.floor((this.clock.now() - this.startedAt) / 1000));
  }
}
