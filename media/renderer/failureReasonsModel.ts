/**
 * Why records failed, as the live progress view lists it while the run goes on: the run's top reasons
 * (the runner counts them, src/core/run/failureReasons.ts), each with its count and one key that failed
 * for it. Pure (no DOM), so it is unit-tested; failureReasonsView.ts shows it.
 */
import type { RunStatus } from '../../src/core/run/runStatus';
import { formatCount } from './format';

export interface FailureReasonRow {
  reason: string;
  count: string;
  /** "e.g. k01017": a record that failed for this reason, to look up in the ledger. */
  example: string;
}

export interface FailureReasonsModel {
  heading: string;
  rows: FailureReasonRow[];
}

/** The rows to show, most frequent first as the runner ranked them; none when nothing failed. */
export function failureReasonsModel(status: Pick<RunStatus, 'failures' | 'mode'>): FailureReasonsModel {
  const failures = Array.isArray(status.failures) ? status.failures : [];
  const rows = failures
    .filter((entry) => typeof entry?.reason === 'string' && typeof entry.count === 'number')
    .map((entry) => ({
      reason: entry.reason,
      count: formatCount(entry.count),
      example: typeof entry.key === 'string' ? `e.g. ${entry.key}` : '',
    }));
  // A verification's failures are checks that could not be made; a mismatch is a finding, not listed here.
  const heading = status.mode === 'verify' ? 'Why records could not be checked' : 'Why records failed';
  return { heading: rows.length > 0 ? `${heading} — top ${rows.length}` : heading, rows };
}
