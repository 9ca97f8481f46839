/**
 * How long to wait before retrying a failed attempt. This file cannot depend on the vscode API.
 */

/** A Retry-After longer than this is treated as this: a target asking for hours is better halted on. */
export const MAX_RETRY_AFTER_MS = 10 * 60_000;

/** Options of `retryDelayMs`. */
export interface RetryDelayOptions {
  /** Ceiling of the first retry's delay; doubles with each attempt. Default 200 ms. */
  baseMs?: number;
  /** Largest delay backoff alone produces. Default 30 s. */
  maxMs?: number;
  /** The target's Retry-After, in milliseconds: the delay is at least this (capped at 10 minutes). */
  retryAfterMs?: number;
  /** Uniform in [0, 1): injected so tests are deterministic (`Math.random` in production). */
  random: () => number;
}

/**
 * Milliseconds to wait before retry number `attempt` (1 for the first retry): exponential backoff with
 * full jitter, uniform in [0, min(maxMs, baseMs * 2^(attempt - 1))), so clients that failed together do
 * not retry together. A Retry-After is a lower bound and may exceed `maxMs`. Always finite and ≥ 0.
 */
export function retryDelayMs(attempt: number, options: RetryDelayOptions): number {
  if (!Number.isInteger(attempt) || attempt < 1) {
    throw new RangeError(`retry attempt must be a positive integer, got ${attempt}`);
  }
  const baseMs = nonNegative(options.baseMs ?? 200);
  const maxMs = nonNegative(options.maxMs ?? 30_000);
  // Past 2^52 the product is either above any sane maxMs or Infinity; stop doubling before that.
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt - 1, 52));
  const jittered = Math.floor(unit(options.random()) * ceiling);
  const retryAfter = Math.min(MAX_RETRY_AFTER_MS, nonNegative(options.retryAfterMs ?? 0));
  return Math.max(jittered, Math.ceil(retryAfter));
}

/** NaN, negative and infinite inputs would make a delay nonsensical; treat them as 0. */
function nonNegative(value: number): number {
  return Number.isFinite(value) && value > 0 ? value : 0;
}

/** Keeps a misbehaving random source inside [0, 1). */
function unit(value: number): number {
  if (!(value > 0)) return 0;
  return value < 1 ? value : 1 - Number.EPSILON;
}
