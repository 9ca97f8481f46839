/**
 * Contracts of execution: what an executor returns for one attempt, what the ledger records per record
 * and per run. This folder cannot depend on the vscode API.
 */

/** Final (or current) state of one record in one run chain. */
export type RecordStatus = 'succeeded' | 'failed' | 'rejected';

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

/** The outcome of one attempt to apply one record. */
export type AttemptResult =
  | { ok: true; durationMs: number; httpStatus?: number }
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
  lastError?: string;
  errorKind?: ErrorKind;
  httpStatus?: number;
  durationMs?: number;
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
