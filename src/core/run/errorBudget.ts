/**
 * The error budget: when to stop a run because too much is failing.
 * This file cannot depend on the vscode API.
 */

/** Limits of an error budget; each is off when absent. Matches the runbook's `errorBudget` block. */
export interface ErrorBudgetOptions {
  /** Halt when the failed share of the last `window` records exceeds this (0..1). */
  maxFailureRatio?: number;
  /** Size of the sliding window for `maxFailureRatio`; judged only once that many records are in. */
  window?: number;
  /** Halt when this many records in a row have failed (at least 1). */
  maxConsecutiveFailures?: number;
  /** Halt when more than this many records have failed in total (0: at the first failure). */
  maxFailures?: number;
}

const DEFAULT_WINDOW = 100;
/** Tolerance for `ratio * window` computed in floating point (0.29 * 100 is 28.999999999999996). */
const EPSILON = 1e-9;

/**
 * Counts record outcomes and says, in words, when a limit is exceeded. O(1) time per record and
 * O(window) memory: the window is a ring of outcomes with a running count of its failures.
 */
export class ErrorBudget {
  private readonly maxFailureRatio: number | undefined;
  private readonly windowSize: number;
  private readonly maxConsecutiveFailures: number | undefined;
  private readonly maxFailures: number | undefined;
  /** 1 for a failure, 0 for a success, in a ring; only allocated when the ratio is judged. */
  private readonly ring: Uint8Array;
  private ringNext = 0;
  private ringFilled = 0;
  private windowFailures = 0;
  private consecutive = 0;
  private total = 0;
  private failed = 0;

  constructor(options: ErrorBudgetOptions = {}) {
    this.maxFailureRatio = optional(options.maxFailureRatio, 'maxFailureRatio', (v) => v >= 0 && v <= 1);
    this.windowSize = options.window ?? DEFAULT_WINDOW;
    if (!Number.isInteger(this.windowSize) || this.windowSize < 1) {
      throw new RangeError(`error budget window must be a positive integer, got ${options.window}`);
    }
    this.maxConsecutiveFailures = optional(
      options.maxConsecutiveFailures,
      'maxConsecutiveFailures',
      (v) => isCount(v) && v >= 1,
    );
    // 0 is meaningful here: any failure halts.
    this.maxFailures = optional(options.maxFailures, 'maxFailures', isCount);
    this.ring = new Uint8Array(this.maxFailureRatio === undefined ? 0 : this.windowSize);
  }

  /** Records processed so far. */
  get records(): number {
    return this.total;
  }

  /** Records failed so far. */
  get failures(): number {
    return this.failed;
  }

  /** Failures since the last success. */
  get consecutiveFailures(): number {
    return this.consecutive;
  }

  /**
   * Records one record's final outcome. Returns why the run must halt, in words, or undefined while the
   * budget holds. Once exceeded, a limit keeps being reported for the records still finishing.
   */
  record(ok: boolean): string | undefined {
    this.total += 1;
    if (ok) {
      this.consecutive = 0;
    } else {
      this.consecutive += 1;
      this.failed += 1;
    }
    if (this.ring.length > 0) this.slide(ok);

    if (this.maxConsecutiveFailures !== undefined && this.consecutive >= this.maxConsecutiveFailures) {
      return `${this.consecutive} consecutive failures (limit ${this.maxConsecutiveFailures})`;
    }
    if (
      this.maxFailureRatio !== undefined &&
      this.ringFilled === this.windowSize &&
      this.windowFailures > this.maxFailureRatio * this.windowSize + EPSILON
    ) {
      return (
        `error budget exceeded: ${this.windowFailures} of the last ${this.windowSize} records failed ` +
        `(limit ${percent(this.maxFailureRatio)} %)`
      );
    }
    if (this.maxFailures !== undefined && this.failed > this.maxFailures) {
      return `${this.failed} failures in total (limit ${this.maxFailures})`;
    }
    return undefined;
  }

  private slide(ok: boolean): void {
    const bit = ok ? 0 : 1;
    if (this.ringFilled === this.windowSize) this.windowFailures -= this.ring[this.ringNext]!;
    else this.ringFilled += 1;
    this.ring[this.ringNext] = bit;
    this.windowFailures += bit;
    this.ringNext = (this.ringNext + 1) % this.windowSize;
  }
}

function isCount(value: number): boolean {
  return Number.isInteger(value) && value >= 0;
}

function optional(
  value: number | undefined,
  name: string,
  valid: (v: number) => boolean,
): number | undefined {
  if (value === undefined) return undefined;
  if (!valid(value)) throw new RangeError(`error budget ${name} is out of range: ${value}`);
  return value;
}

/** 0.05 → "5", 0.005 → "0.5", 1/3 → "33.33". */
function percent(ratio: number): string {
  return String(Number((ratio * 100).toFixed(2)));
}
