/**
 * Records counted by status: the arithmetic the resume plan, the live status and the verdict share.
 * This file cannot depend on the vscode API.
 */
import type { StatusCounts } from '../ledger/ledger';
import { RECORD_STATUSES } from '../model/runs';
import type { VerificationCounts } from './runStatus';

/** A count of 0 for every status. */
export function zeroCounts(): StatusCounts {
  return Object.fromEntries(RECORD_STATUSES.map((status) => [status, 0])) as StatusCounts;
}

/** Records counted, whatever their status. */
export function sumOf(counts: StatusCounts): number {
  return RECORD_STATUSES.reduce((sum, status) => sum + counts[status], 0);
}

/** A verification's records by category, from its chain's counts. */
export function verificationCounts(counts: StatusCounts): VerificationCounts {
  return {
    verified: counts.verified,
    mismatch: counts.mismatch,
    missing: counts.missing,
    error: counts.error,
  };
}
