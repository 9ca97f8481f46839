/**
 * The resume plan: what a run does given what the ledger says about its cell's earlier runs — start a
 * new chain, resume the latest one, refuse because it finished (or because the job changed under an
 * unfinished one), start over (`--restart`), or re-run only the failed (`--only failed`) or unverified
 * (`--only unverified`) records. Pure functions over what resumePlanLoader.ts read from the ledger, so
 * every rule is tested without one. This file cannot depend on the vscode API.
 */
import type { JobFingerprint } from '../job/fingerprint';
import type { StatusCounts } from '../ledger/ledger';
import { UserError } from '../model/types';
import type { ChainRecords } from '../ledger/chainRecords';
import type { DeliveredElsewhere } from './deliveredElsewhere';
import { recordedFailures, type RecordedFailures } from './failureReasons';
import type { PlannedRecords, Rejudge, Rerun, RunPlan } from './runEvents';
import { rejudgeChange, type Thresholds } from './thresholds';
import { UNVERIFIED_STATUSES, type RecordStatus, type RunRecord } from '../model/runs';
import type { RunKind } from './verdict';

/** What the person asked for, and what the plan needs to know about the run to decide. */
export interface ResumeRequest {
  cell: string;
  /** The runbook's file, for the command a message suggests. */
  runbookFile: string;
  kind: RunKind;
  /** Start a new run chain instead of resuming or refusing. */
  restart?: boolean;
  /** Re-run exactly the records that failed (could not be checked, for a verification) in the latest chain. */
  onlyFailed?: boolean;
  /** Re-run the gaps the latest verification found (execute), or re-check the unverified records (verify). */
  onlyUnverified?: boolean;
  /** The status of a record whose every attempt failed: `failed`, or `error` for a verification. */
  failureStatus: RecordStatus;
  /** Send records another execute cell already delivered, instead of skipping them. */
  resendDelivered?: boolean;
  /** The cell's thresholds now: a finished chain judged by others is judged again (thresholds.ts). */
  thresholds?: Thresholds;
}

/** The run chain a run records into: a new one, or the latest one continued. */
export interface ChainChoice {
  id: string;
  resumed: boolean;
  /**
   * Set when the latest run finished and the cell's thresholds changed since: the chain is judged again
   * from the ledger, nothing is sent. Names that run, how it ended, and what changed.
   */
  rejudge?: Rejudge;
  /** With `rejudge`: the failures the judged run recorded, which the judging run reports as its own. */
  judgedFailures?: RecordedFailures;
}

/** The records chosen for a re-run, and the verification loop that chose them (gap re-backfills). */
export interface RerunSelection extends Rerun {
  keys: ChainRecords;
}

/** The latest run of the cell, as far as the plan cares. */
export type LatestRun = Pick<RunRecord, 'id' | 'chain' | 'outcome' | 'fingerprint'> &
  Partial<Pick<RunRecord, 'params' | 'counts'>>;

/** A dry run, as far as the expected total cares. */
export interface DryRunView {
  passed: boolean;
  fingerprint: string;
  /** The dry run's report, as JSON. */
  report: string;
}

/** Everything a run needs to know about the chain before it reads its first record. */
export interface ResumePlan {
  chain: ChainChoice;
  /** Set when the run re-runs chosen records only. */
  rerun?: RerunSelection;
  /** Records finished in the chain, skipped as the source is read; none for a re-run. */
  doneKeys: ChainRecords;
  /** Records other execute cells delivered, skipped too; empty for a re-run or `--resend-delivered`. */
  delivered: DeliveredElsewhere;
  /** Of those, the records this chain has not finished itself, by delivering cell: what the run will skip for it. */
  doneElsewhere: Readonly<Record<string, number>>;
  /** Outcomes of earlier runs of the chain, less the records this run re-runs (they get new outcomes). */
  earlier: StatusCounts;
  /** Records the matching dry run selected, when known (never for a re-run). */
  expectedTotal?: number;
  /** Valid records of the job's source, from a dry run of the same job and data (planCounts.ts). */
  ofSource?: number;
}

/**
 * Resume the latest chain of this cell when it did not finish; refuse what would be ambiguous. A
 * finished verification is simply verified again, in a new chain: it only reads.
 */
export function chooseChain(
  request: ResumeRequest,
  latest: LatestRun | undefined,
  fingerprint: string,
  newChainId: () => string,
): ChainChoice {
  const { cell } = request;
  const verifying = request.kind === 'verify';
  if (request.restart || !latest) return { id: newChainId(), resumed: false };
  const sameJob = latest.fingerprint === fingerprint;
  const unfinished =
    latest.outcome === 'halted' || latest.outcome === 'crashed' || latest.outcome === 'running';
  const rerun = request.onlyFailed || request.onlyUnverified;
  if (!sameJob) {
    if (unfinished || rerun) {
      throw new UserError(
        `the job or its source data changed since run ${latest.id} of cell ${cell} (${latest.outcome}): ` +
          `${verifying ? 'verify' : 'dry-run it'} again, then start over with --restart`,
      );
    }
    return { id: newChainId(), resumed: false };
  }
  if (unfinished && verifying && request.onlyUnverified) {
    // Re-checking only the gaps of a verification that never reached every record would end it
    // "succeeded" with records still unchecked.
    throw new UserError(
      `verification run ${latest.id} of cell ${cell} is ${latest.outcome}: finish it first with ` +
        `backfill run ${request.runbookFile} --cell ${cell}, then re-check with --only unverified`,
    );
  }
  if (unfinished || rerun) return { id: latest.chain, resumed: true };
  if (verifying) return { id: newChainId(), resumed: false };
  const changed = request.thresholds && rejudgeChange(latest, request.thresholds);
  if (changed !== undefined) {
    return {
      id: latest.chain,
      resumed: true,
      rejudge: { run: latest.id, outcome: latest.outcome, changed },
      judgedFailures: recordedFailures(latest.counts),
    };
  }
  throw new UserError(
    `cell ${cell} already finished in run ${latest.id} (${latest.outcome}): re-run its failed records ` +
      'with --only failed, the gaps a verification found with --only unverified, or everything with --restart',
  );
}

/**
 * Which records of the chain a re-run selects: those with some statuses, or — an execute cell's
 * `--only unverified` — the gaps its job's latest verification found. Undefined for a whole run.
 */
export type RerunQuery =
  { only: 'failed' | 'unverified'; statuses: readonly RecordStatus[] } | { only: 'unverified'; gaps: true };

export function rerunQuery(request: ResumeRequest): RerunQuery | undefined {
  if (request.onlyFailed) return { only: 'failed', statuses: [request.failureStatus] };
  if (!request.onlyUnverified) return undefined;
  if (request.kind === 'verify') return { only: 'unverified', statuses: UNVERIFIED_STATUSES };
  return { only: 'unverified', gaps: true };
}

/** The re-run of the chain's records with the query's statuses; refuses when there are none. */
export function rerunOfKeys(request: ResumeRequest, only: Rerun['only'], keys: ChainRecords): RerunSelection {
  if (keys.size === 0) {
    throw new UserError(
      only === 'failed'
        ? `no ${request.failureStatus} records in the latest run of cell ${request.cell}: nothing to re-run`
        : `every record the latest verification of cell ${request.cell} checked is verified: nothing to re-check`,
    );
  }
  return { only, records: keys.size, keys };
}

/** A gap re-backfill: the records a verification found wrong, and which verification found them. */
export function rerunOfGaps(gaps: { keys: ChainRecords; verification: { id: string } }): RerunSelection {
  return {
    only: 'unverified',
    records: gaps.keys.size,
    keys: gaps.keys,
    verification: gaps.verification.id,
  };
}

/**
 * The chain's counts by status with these statuses at zero: a re-run by status re-runs every record
 * with them, so none of their current outcomes counts as earlier.
 */
export function withoutStatuses(chainCounts: StatusCounts, statuses: readonly RecordStatus[]): StatusCounts {
  const counts = { ...chainCounts };
  for (const status of statuses) counts[status] = 0;
  return counts;
}

/**
 * The records a run will process, known up front from a passing dry run of the same job, data and
 * subset, which selected exactly the records this run sends. Undefined when there is none.
 */
export function expectedTotal(
  dryRuns: readonly DryRunView[],
  fingerprint: Pick<JobFingerprint, 'combined' | 'subset'>,
  hasSubset: boolean,
): number | undefined {
  for (const dryRun of dryRuns) {
    if (!dryRun.passed || dryRun.fingerprint !== fingerprint.combined) continue;
    try {
      const report = JSON.parse(dryRun.report) as {
        counts?: { selected?: number; rejected?: number };
        fingerprint?: { subset?: string };
      };
      if (report.fingerprint?.subset !== fingerprint.subset || report.counts?.selected === undefined)
        continue;
      // Without a subset the run also records the source's malformed rows, so they are part of "done".
      return report.counts.selected + (hasSubset ? 0 : (report.counts.rejected ?? 0));
    } catch {
      // an unreadable report only means the total is not known up front
    }
  }
  return undefined;
}

/**
 * What idempotency keys derive from besides the runbook and the record key. A gap re-backfill adds the
 * verification that found the gap: a target that de-duplicates by key would otherwise ignore the very
 * request meant to fix the record, while retries and resumes of the same re-backfill share their key.
 */
export function idempotencyScope(fingerprint: string, rerun: RerunSelection | undefined): string {
  return rerun?.verification ? `${fingerprint}:${rerun.verification}` : fingerprint;
}

/** The plan a run announces before its first record: what, where, how much, how fast. */
export function describeRunPlan(input: {
  run: string;
  kind: RunKind;
  target: string;
  fingerprint: string;
  throttle: { rate: number; concurrency: number };
  plan: ResumePlan;
  total: number | undefined;
  /** What the run will send, as far as known up front (planCounts.ts). */
  records?: PlannedRecords;
}): RunPlan {
  const { plan, total, throttle } = input;
  const rerun = plan.rerun;
  const alreadyDone = plan.doneKeys.size;
  const sending = input.records?.sending;
  const remaining =
    sending ?? (rerun ? rerun.keys.size : total !== undefined ? total - alreadyDone : undefined);
  return {
    run: input.run,
    chain: plan.chain.id,
    resumed: plan.chain.resumed,
    kind: input.kind,
    target: input.target,
    ...(rerun
      ? {
          rerun: {
            only: rerun.only,
            records: rerun.records,
            ...(rerun.verification ? { verification: rerun.verification } : {}),
          },
        }
      : {}),
    ...(total !== undefined ? { total } : {}),
    alreadyDone: rerun ? 0 : alreadyDone,
    ...(input.records && !plan.chain.rejudge ? { records: input.records } : {}),
    ...(plan.chain.rejudge ? { rejudge: plan.chain.rejudge } : {}),
    ...doneElsewhereOf(plan),
    rate: throttle.rate,
    concurrency: throttle.concurrency,
    ...(remaining !== undefined ? { estimatedSeconds: Math.max(0, remaining) / throttle.rate } : {}),
    fingerprint: input.fingerprint,
  };
}

/** The plan's records other cells delivered that the chain has not finished, by cell; none when empty. */
function doneElsewhereOf(plan: ResumePlan): Pick<RunPlan, 'doneElsewhere'> {
  const byCell = Object.fromEntries(Object.entries(plan.doneElsewhere).filter(([, count]) => count > 0));
  return Object.keys(byCell).length > 0 ? { doneElsewhere: byCell } : {};
}
