/**
 * Contracts of execution and verification: what one attempt (or check) returns, what the ledger records
 * per record and per run. This folder cannot depend on the vscode API.
 */

/** Outcomes of sending a record (an execute cell): it was applied, it failed for good, or it was refused. */
export type ExecutionStatus = 'succeeded' | 'failed' | 'rejected';

/**
 * Outcomes of checking a record's end state (a verify cell): it is right (`verified`), it is wrong
 * (`mismatch`, with expected and actual), it is not there at all (`missing`), or it could not be checked
 * (`error`: a timeout, an overloaded target, after retries). A malformed source record is `rejected`.
 */
export type VerificationStatus = 'verified' | 'mismatch' | 'missing' | 'error';

/** Final (or current) state of one record in one run chain. */
export type RecordStatus = ExecutionStatus | VerificationStatus;

/** Every record status, for complete counts and validation. */
export const RECORD_STATUSES = [
  'succeeded',
  'failed',
  'rejected',
  'verified',
  'mismatch',
  'missing',
  'error',
] as const satisfies readonly RecordStatus[];

/** Verification outcomes that say a record is not (known to be) right: what `--only unverified` re-checks. */
export const UNVERIFIED_STATUSES = [
  'mismatch',
  'missing',
  'error',
] as const satisfies readonly RecordStatus[];

/**
 * Verification outcomes that say a record is known to be wrong: what a gap re-backfill sends again.
 * `error` is left out on purpose: a record that could not be checked may well be right.
 */
export const GAP_STATUSES = ['mismatch', 'missing'] as const satisfies readonly RecordStatus[];

/** Broad kinds of failure, for "errors by kind" and for deciding retries. */
export type ErrorKind =
  | 'http-4xx'
  | 'http-429'
  | 'http-5xx'
  | 'timeout'
  | 'connection'
  | 'command-exit'
  | 'handler-error'
  | 'render'
  | 'other';

/**
 * What a check found about one record's end state. `expected` and `actual` hold only the values that
 * differ (field path → value), so a stored mismatch stays small and says exactly what is wrong.
 */
export type CheckVerdict =
  | { status: 'verified' }
  | {
      status: 'mismatch' | 'missing';
      /** One line: what differs, e.g. `amount: expected 5.5, got 6.5`. */
      detail: string;
      expected?: unknown;
      actual?: unknown;
    };

/**
 * The outcome of one attempt to apply (or check) one record. A check that could be made is `ok` and
 * carries its verdict; one that could not (a timeout, a 503) is a failure like any other attempt's.
 */
export type AttemptResult =
  | {
      ok: true;
      durationMs: number;
      httpStatus?: number;
      verdict?: CheckVerdict;
      /** Rows a SQL action's statement changed. */
      rowsAffected?: number;
    }
  | {
      ok: false;
      durationMs: number;
      kind: ErrorKind;
      /** Retrying may succeed: 429, 5xx, timeouts, connection errors (configurable). */
      retryable: boolean;
      /** The target asked to wait this long before retrying (Retry-After). */
      retryAfterMs?: number;
      /** The target signals overload (429 or 503): the runner slows down. */
      overload: boolean;
      httpStatus?: number;
      /** Short, redacted, one line. */
      message: string;
    };

/** One record's outcome as the ledger keeps it (the latest per chain and key). */
export interface RecordOutcome {
  /** The run that produced this outcome. */
  run: string;
  /** Run chain: a first run and the resumes that continue it share a chain. */
  chain: string;
  cell: string;
  key: string;
  status: RecordStatus;
  attempts: number;
  /** Source line, for messages. */
  line: number;
  /** Why the record failed or is not right: the last error, or what a check found different. */
  lastError?: string;
  errorKind?: ErrorKind;
  httpStatus?: number;
  durationMs?: number;
  /** Verification: the expected values that differ, as JSON, secrets redacted. */
  expected?: string;
  /** Verification: the actual values found instead, as JSON, secrets redacted. */
  actual?: string;
  /** Empty for verification, which sends nothing that needs one. */
  idempotencyKey: string;
  /** ISO time of the outcome. */
  at: string;
}

export type RunMode = 'execute' | 'production' | 'verify';

export type RunOutcome =
  | 'running'
  /** Finished, success share at or above the threshold. */
  | 'succeeded'
  /** Finished below the success threshold. */
  | 'below-threshold'
  /** Stopped on purpose or by the error budget; resumable. */
  | 'halted'
  /** Found 'running' with no live process holding the lock. */
  | 'crashed';

export interface RunRecord {
  id: string;
  chain: string;
  cell: string;
  job: string;
  mode: RunMode;
  environment: string;
  operator: string;
  host: string;
  pid: number;
  startedAt: string;
  endedAt?: string;
  fingerprint: string;
  /** Parameters of the run (throttle, subset, flags) as JSON, secrets redacted. */
  params: string;
  outcome: RunOutcome;
  /** Why it halted or failed, in words. */
  reason?: string;
  /** Counts at the end of the run, as JSON. */
  counts?: string;
}

/** A checklist sign-off: who checked which item of which checklist, and when. */
export interface SignOff {
  checklist: string;
  item: string;
  by: string;
  at: string;
  checked: boolean;
}
