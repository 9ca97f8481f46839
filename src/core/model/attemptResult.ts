/**
 * What one attempt of an action (or one check of a record) returns: the contract between the kinds that
 * perform attempts and the runner that schedules them. This file cannot depend on the vscode API.
 */

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
      /** Rows a SQL action's statement changed, when that is why it failed (0 rows and `zeroRows: fail`). */
      rowsAffected?: number;
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
