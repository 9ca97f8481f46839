/**
 * The sane range of every numeric setting: the runbook's throttle, error budget, subset and preview, a
 * check's expectations, a PostgreSQL ledger's and source's sizes, a SQL action's statement timeout,
 * `backfill control rate N | concurrency N` and `--metrics-port`. A value outside its range is a
 * located error, never accepted: `rate: 1e308` once overflowed the permit arithmetic to Infinity and
 * silently skipped records, `concurrency: 100000` or `retries: 1e9` can only be typos. README's
 * "Numeric settings" table lists the same ranges (a test keeps the two in step).
 *
 * No imports: `backfill control` checks its argument with this table without loading zod. This file
 * cannot depend on the vscode API.
 */

/** An inclusive range, in the setting's unit. */
export interface NumericRange {
  min: number;
  max: number;
  /** Whole numbers only. */
  integer: boolean;
  /** What the number counts, for messages and the README: "records per second". */
  unit: string;
}

const range = (min: number, max: number, integer: boolean, unit: string): NumericRange => ({
  min,
  max,
  integer,
  unit,
});

/** Most records a backfill is sized for: subsets and counts above it are typos. */
const MAX_RECORDS = 100_000_000;

/**
 * Every numeric setting, by the name the README uses. Rates are fractional (0.5 is one record every
 * two seconds); the smallest rate is one record a day, the largest far above what one machine sends.
 */
export const NUMERIC_RANGES = {
  rate: range(0.00001, 1_000_000, false, 'records per second'),
  concurrency: range(1, 1_000, true, 'requests or processes at once'),
  batchSize: range(1, 10_000, true, 'records per request or process'),
  // Node's timers fire at once above 2^31 - 1 ms; a day is longer than any one request should take.
  timeoutMs: range(1, 86_400_000, true, 'milliseconds'),
  retries: range(0, 100, true, 'retries per record'),
  maxFailureRatio: range(0, 1, false, 'share of the window'),
  // The window is held in memory, one byte per record.
  window: range(1, 1_000_000, true, 'records'),
  maxConsecutiveFailures: range(1, MAX_RECORDS, true, 'records'),
  maxFailures: range(1, MAX_RECORDS, true, 'records'),
  successThreshold: range(0, 1, false, 'share of the records'),
  maxRejected: range(0, MAX_RECORDS, true, 'records'),
  'subset.first': range(1, MAX_RECORDS, true, 'records'),
  // A count sample keeps its records' keys in memory.
  'subset.sample.count': range(1, 10_000_000, true, 'records'),
  'subset.sample.percent': range(0.00001, 100, false, 'percent'),
  'subset.sample.seed': range(-2_147_483_648, 2_147_483_647, true, 'any whole number'),
  'preview.first': range(0, 1_000, true, 'records'),
  'preview.random': range(0, 1_000, true, 'records'),
  'preview.seed': range(-2_147_483_648, 2_147_483_647, true, 'any whole number'),
  'expect.status': range(100, 599, true, 'HTTP status'),
  'expect.exitCode': range(0, 255, true, 'exit code'),
  'expect.tolerance': range(0, 1e15, false, 'absolute difference'),
  // A PostgreSQL ledger's (environments.NAME.ledger) sharing of a run between workers.
  chunkSize: range(1, 10_000_000, true, 'records per chunk'),
  leaseSeconds: range(1, 3_600, false, 'seconds'),
  outageSeconds: range(0, 86_400, false, 'seconds'),
  // A postgres source's keyset page: held in memory whole.
  pageSize: range(1, 100_000, true, 'rows per page'),
  // PostgreSQL's statement_timeout is a 32-bit count of milliseconds.
  statementTimeoutMs: range(1, 2_147_483_647, true, 'milliseconds'),
  // On 127.0.0.1 unless --metrics-host names another address (run/metricsServer.ts).
  '--metrics-port': range(1, 65_535, true, 'TCP port'),
  '--wait-for-run': range(0, 86_400, false, 'seconds'),
} as const satisfies Record<string, NumericRange>;

export type NumericSetting = keyof typeof NUMERIC_RANGES;

/** "between 1 and 1,000 (requests or processes at once), a whole number". */
export function describeRange(setting: NumericSetting): string {
  const { min, max, integer, unit } = NUMERIC_RANGES[setting];
  return `between ${formatNumber(min)} and ${formatNumber(max)} (${unit})${integer ? ', a whole number' : ''}`;
}

/**
 * Why `value` is not a valid `setting`, or undefined when it is. The message names the range, so the
 * user sees at once what to type instead.
 */
export function rangeProblem(setting: NumericSetting, value: number): string | undefined {
  const { min, max, integer } = NUMERIC_RANGES[setting];
  if (typeof value !== 'number' || Number.isNaN(value)) return `must be a number ${describeRange(setting)}`;
  if (!Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    return `${formatNumber(value)} is out of range: must be ${describeRange(setting)}`;
  }
  return undefined;
}

/**
 * Why the typed `text` is not a valid `setting` (an empty or non-numeric text included), or undefined
 * when it is: what `backfill control rate N` and the editor's "Change Rate…" box both check.
 */
export function typedRangeProblem(setting: NumericSetting, text: string): string | undefined {
  return rangeProblem(setting, typedNumber(text));
}

/** The number typed in `text`; NaN for an empty text, which Number() would read as 0. */
export function typedNumber(text: string): number {
  return text.trim() === '' ? Number.NaN : Number(text);
}

/** 1000000 → "1,000,000"; 0.00001 → "0.00001"; 1e308 → "1e+308". */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value) || Math.abs(value) >= 1e21) return String(value);
  return value.toLocaleString('en-US', { maximumFractionDigits: 10 });
}
