/**
 * Contracts of execution and verification: what one attempt (or check) returns, what the ledger records
 * per record and per run. This folder cannot depend on the vscode API.
 */
import type { ErrorKind } from './attemptResult';

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

export type { AttemptResult, CheckVerdict, ErrorKind } from './attemptResult';

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
  /** Rows the record's statement changed (a SQL action): 0 says the record matched no row. */
  rowsAffected?: number;
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
