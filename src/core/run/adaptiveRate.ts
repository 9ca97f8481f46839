/**
 * Backing off when the target says it is overloaded, and coming back slowly.
 * This file cannot depend on the vscode API.
 */
import type { Clock } from './clock';

/** An overload halves the effective rate. */
const DECREASE_FACTOR = 0.5;
/**
 * Overload signals closer together than this count once: the requests in flight when the target started
 * answering 429 were all sent at the old rate, and their answers say nothing about the new one.
 */
const DECREASE_INTERVAL_MS = 1000;
/** Linear recovery speed, as a share of the configured rate per second. */
const RECOVERY_PER_SECOND = 0.1;
/** The effective rate never drops below this share of the configured rate... */
const FLOOR_SHARE = 0.01;
/** ...nor below this many records per second, so a run always makes progress and can be watched. */
const FLOOR_RATE = 0.1;

/** A slowdown in progress. */
interface Slowdown {
  /** The effective rate when `since` began. */
  rate: number;
  /**
   * When recovery started counting; undefined until a success arrives after the last decrease, because a
   * target that still fails everything has not shown it can take more.
   */
  since: number | undefined;
}

/**
 * The rate to dispatch at: the configured rate, halved on overload (429, 503) at most once a second, then
 * recovering linearly by 10 % of the configured rate per second, never above the configured rate.
 * Recovery starts at the first success after the last decrease and then follows the clock, so
 * `effective()` changes with time alone: poll it (the runner does once a second) and pass it to the
 * rate limiter. Pure given the clock.
 */
export class AdaptiveRate {
  private configuredRate: number;
  private slowdown: Slowdown | undefined;
  private lastDecreaseAt = Number.NEGATIVE_INFINITY;

  /**
   * @param configured the rate the runbook (or the live throttle) asks for, records per second.
   * @param clock time source.
   */
  constructor(
    configured: number,
    private readonly clock: Clock,
  ) {
    this.configuredRate = checkRate(configured);
  }

  /** The configured rate, records per second. */
  configured(): number {
    return this.configuredRate;
  }

  /** The rate to use now, records per second: between the floor and the configured rate. */
  effective(): number {
    const slowdown = this.slowdown;
    if (!slowdown) return this.configuredRate;
    const recovered =
      slowdown.since === undefined
        ? 0
        : (RECOVERY_PER_SECOND * this.configuredRate * (this.clock.now() - slowdown.since)) / 1000;
    const rate = Math.min(this.configuredRate, Math.max(this.floor(), slowdown.rate + recovered));
    if (rate >= this.configuredRate) this.slowdown = undefined;
    return rate;
  }

  /**
   * The target signalled overload: halves the effective rate (down to the floor) unless that already
   * happened less than a second ago. Returns whether this call counted as a decrease.
   */
  onOverload(): boolean {
    const now = this.clock.now();
    if (now - this.lastDecreaseAt < DECREASE_INTERVAL_MS) return false;
    this.lastDecreaseAt = now;
    const current = this.effective();
    // Even at the floor, an overload restarts the recovery: the target is still not keeping up.
    this.slowdown = { rate: Math.max(this.floor(), current * DECREASE_FACTOR), since: undefined };
    return true;
  }

  /** A record succeeded: after a decrease, the first success starts the recovery. */
  onSuccess(): void {
    if (this.slowdown && this.slowdown.since === undefined) this.slowdown.since = this.clock.now();
  }

  /**
   * The operator changed the rate live. The effective rate is clamped to the new value; a slowdown in
   * progress carries on from its current rate, recovering by 10 % of the new configured rate per second.
   */
  setConfigured(configured: number): void {
    checkRate(configured);
    const current = this.effective();
    this.configuredRate = configured;
    if (!this.slowdown) return;
    if (current >= configured) {
      this.slowdown = undefined;
      return;
    }
    this.slowdown = {
      rate: current,
      since: this.slowdown.since === undefined ? undefined : this.clock.now(),
    };
  }

  private floor(): number {
    return Math.min(this.configuredRate, Math.max(FLOOR_SHARE * this.configuredRate, FLOOR_RATE));
  }
}

function checkRate(rate: number): number {
  if (!(rate > 0 && rate < Number.POSITIVE_INFINITY)) {
    throw new RangeError(`configured rate must be a positive finite number per second, got ${rate}`);
  }
  return rate;
}
