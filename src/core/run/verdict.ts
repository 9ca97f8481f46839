/**
 * The final verdict of a run: halted (resumable), succeeded, or finished below its success threshold,
 * with the reason in words. Pure: counts in, verdict out. The core stops at the verdict; the command
 * line maps it to an exit code (src/cli/exitCodes.ts). This file cannot depend on the vscode API.
 */
import type { StatusCounts } from '../ledger/ledger';
import type { FailedRecord } from './failureReasons';
import type { RunStatus } from './runStatus';
import type { RecordStatus, RunOutcome } from '../model/runs';

/** What a run does to each record: sends the job's action, or checks the record's end state. */
export type RunKind = 'execute' | 'verify';

/** The outcomes a run that started can end with. */
export type FinalOutcome = Extract<RunOutcome, 'succeeded' | 'below-threshold' | 'halted'>;

export interface Verdict {
  outcome: FinalOutcome;
  /** Why it halted or fell short; absent when it succeeded. */
  reason?: string;
}

export interface VerdictInput {
  kind: RunKind;
  /** The run was stopped: by an operator, a signal, the halt file, the error budget, a state write failure. */
  halted: boolean;
  /** Why it was stopped, in words. */
  haltReason?: string;
  /** Outcomes judged: the whole chain's (earlier runs' and this run's), or a re-run's own. */
  totals: StatusCounts;
  /** Share of the records that could be sent (or checked) that must end right, 0..1. */
  successThreshold: number;
  /** Most rejected (malformed) records the run may have; absent: not limited here (the dry run judges). */
  maxRejected?: number;
  /** The command that lists the run's rejected records, as the person types it: `backfill ledger orders.backfill --cell full --status rejected`. */
  listRejected: string;
  /** Why the run's books do not balance (selectionAccounting.ts): the run halts instead of finishing. */
  unaccounted?: string;
  /** Why the selection was empty (selectionAccounting.ts): no success of the backfill. */
  empty?: string;
}

/** The statuses a run of each kind records. */
export const RUN_STATUSES: Readonly<Record<RunKind, readonly RecordStatus[]>> = {
  execute: ['succeeded', 'failed', 'rejected'],
  verify: ['verified', 'mismatch', 'missing', 'error', 'rejected'],
};

/** The status of a record that ended right, for each kind of run. */
const SUCCESS_STATUS: Readonly<Record<RunKind, RecordStatus>> = { execute: 'succeeded', verify: 'verified' };

/**
 * Decides how a run ended. A halted run is halted whatever its counts: it is resumable, not judged.
 * Otherwise the chain's success share against the threshold decides.
 */
export function decideVerdict(input: VerdictInput): Verdict {
  if (input.halted) return { outcome: 'halted', ...(input.haltReason ? { reason: input.haltReason } : {}) };
  // A finished run whose records do not add up lost some: halted, so the same command resumes them.
  if (input.unaccounted) return { outcome: 'halted', reason: input.unaccounted };
  if (input.empty) return { outcome: 'below-threshold', reason: input.empty };
  const share = successShare(input.kind, input.totals);
  const reasons: string[] = [];
  if (share < input.successThreshold) reasons.push(belowThresholdReason(input, share));
  const rejected = input.totals.rejected;
  // Every record rejected and none sent is no backfill, whatever the share of nothing says.
  if (rejected > 0 && sentCount(input.kind, input.totals) === 0) {
    reasons.push(
      `all ${rejected} records were rejected and none was sent: fix the source or the action ` +
        `(${input.listRejected} says why)`,
    );
  }
  if (input.maxRejected !== undefined && rejected > input.maxRejected) {
    reasons.push(
      `${rejected} records rejected, more than maxRejected ${input.maxRejected}: fix them in the source ` +
        `(${input.listRejected} lists them) or raise maxRejected`,
    );
  }
  if (reasons.length === 0) return { outcome: 'succeeded' };
  return { outcome: 'below-threshold', reason: reasons.join('; ') };
}

/**
 * The verdict of a run whose state folder stopped taking writes: halted, resumable, whatever its counts,
 * since what it did is not all recorded.
 */
export function unrecordedVerdict(stateDir: string, haltReason: string | undefined): Verdict {
  return { outcome: 'halted', reason: haltReason ?? `the state folder ${stateDir} could not be written` };
}

/**
 * Share of the records that could be sent (or checked) that ended right. Rejected records are left out:
 * they were never sent, and have their own limit (`maxRejected`, and the dry run's valid share) — a
 * source with one malformed row must not stay below a 0.9999 threshold for ever. No record at all is a
 * success.
 */
export function successShare(kind: RunKind, totals: StatusCounts): number {
  const considered = sentCount(kind, totals);
  return considered === 0 ? 1 : totals[SUCCESS_STATUS[kind]] / considered;
}

/** Records sent (or checked): every status of the kind but rejected. */
function sentCount(kind: RunKind, totals: StatusCounts): number {
  return RUN_STATUSES[kind]
    .filter((status) => status !== 'rejected')
    .reduce((sum, status) => sum + totals[status], 0);
}

/**
 * What a run records about itself at its end (`runs.counts`, JSON): its own counts of its kind's
 * statuses, what it skipped (and which other cells delivered), the chain's done and total, and why its
 * records failed — the top reasons and the first failed records.
 */
export function endOfRunCounts(
  kind: RunKind,
  own: StatusCounts,
  status: RunStatus,
  firstFailed: readonly FailedRecord[],
): string {
  return JSON.stringify({
    ...runCounts(kind, own),
    skipped: status.skipped,
    done: status.done,
    total: status.total ?? null,
    ...(status.doneElsewhere ? { doneElsewhere: status.doneElsewhere } : {}),
    ...(status.failures ? { failures: status.failures } : {}),
    ...(firstFailed.length > 0 ? { firstFailed } : {}),
  });
}

/** This run's own counts of the statuses its kind records (not the chain's), for its run record. */
export function runCounts(kind: RunKind, counts: StatusCounts): Partial<StatusCounts> {
  return Object.fromEntries(RUN_STATUSES[kind].map((status) => [status, counts[status]]));
}

function belowThresholdReason(input: VerdictInput, share: number): string {
  const totals = input.totals;
  if (input.kind === 'verify') {
    const checked = totals.verified + totals.mismatch + totals.missing + totals.error;
    return (
      `${checked - totals.verified} of ${checked} checked records are not verified: ` +
      `${totals.mismatch} mismatch, ${totals.missing} missing, ${totals.error} could not be checked`
    );
  }
  const sent = totals.succeeded + totals.failed;
  return (
    `${(share * 100).toFixed(2)} % of the ${sent} records sent succeeded, below the successThreshold of ` +
    `${input.successThreshold * 100} %`
  );
}
