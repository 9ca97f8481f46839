/**
 * Reads what a run's resume plan needs from the ledger, in the order its decisions need it, and asks
 * the production gates (which read the ledger too). With the outcome recorder, the only part of a run
 * that touches the ledger: the decisions themselves are resumePlan.ts's pure functions. This file
 * cannot depend on the vscode API.
 */
import { randomUUID } from 'node:crypto';
import type { JobFingerprint } from '../job/fingerprint';
import type { Runbook } from '../format/runbook';
import type { Ledger } from '../ledger/ledger';
import { findVerificationGaps, type VerificationGaps } from '../verify/gaps';
import { readDeliveredElsewhere } from './deliveredElsewhere';
import type { GateDecision } from './gate';
import { sourceRecords } from './planCounts';
import {
  chooseChain,
  earlierCounts,
  expectedTotal,
  rerunOfGaps,
  rerunOfKeys,
  rerunQuery,
  type ResumePlan,
  type ResumeRequest,
  type RerunSelection,
} from './resumePlan';
import { RECORD_STATUSES, type RecordStatus } from '../model/runs';

export interface ResumePlanInput {
  request: ResumeRequest;
  runbook: Runbook;
  /** The job cell's id: a gap re-backfill looks for the verify cells that check it. */
  job: string;
  fingerprint: JobFingerprint;
  /** The cell selects a subset of the records. */
  hasSubset: boolean;
  /** Gates that need the fingerprint and the ledger (production). */
  gate?: (fingerprint: JobFingerprint, ledger: Ledger) => Promise<GateDecision>;
}

/** The plan, or why a gate refused the run. Refusals that are the plan's own (finished) throw. */
export type LoadedResumePlan = { plan: ResumePlan } | { refused: string };

export async function loadResumePlan(ledger: Ledger, input: ResumePlanInput): Promise<LoadedResumePlan> {
  const { request, fingerprint } = input;
  const decision = await input.gate?.(fingerprint, ledger);
  if (decision && !decision.allowed) {
    return { refused: `refused by the ${decision.gate} gate: ${decision.reason}` };
  }
  const chain = chooseChain(request, await ledger.latestRun(request.cell), fingerprint.combined, randomUUID);
  const gaps = isGapRerun(request)
    ? await findVerificationGaps(input.runbook, ledger, input.job, request.cell)
    : undefined;
  const rerun = gaps ? rerunOfGaps(gaps) : await readRerun(ledger, input, chain.id);
  const doneKeys =
    rerun || chain.rejudge ? new Set<string>() : await ledger.keysWithStatus(chain.id, RECORD_STATUSES);
  const skipDelivered = !rerun && !chain.rejudge && request.kind === 'execute' && !request.resendDelivered;
  const delivered = skipDelivered
    ? await readDeliveredElsewhere(ledger, request.cell, fingerprint.combined)
    : [];
  // Counts of earlier runs of the chain, so progress and the success threshold cover the whole chain.
  const rerunStatuses = gaps
    ? gapStatuses(gaps, chain.id)
    : rerun
      ? await currentStatuses(ledger, input.request, chain.id, rerun)
      : [];
  const earlier = earlierCounts(await ledger.countByStatus(chain.id), rerunStatuses);
  const dryRuns = await ledger.dryRuns();
  const expected = rerun ? undefined : expectedTotal(dryRuns, fingerprint, input.hasSubset);
  const ofSource = sourceRecords(dryRuns, fingerprint.combined);
  return {
    plan: {
      chain,
      ...(rerun ? { rerun } : {}),
      doneKeys,
      delivered,
      earlier,
      ...(expected !== undefined ? { expectedTotal: expected } : {}),
      ...(ofSource !== undefined ? { ofSource } : {}),
    },
  };
}

/** An execute cell's `--only unverified`: a gap re-backfill of what its job's latest verification found. */
function isGapRerun(request: ResumeRequest): boolean {
  const query = rerunQuery(request);
  return query !== undefined && 'gaps' in query;
}

/** The records `--only failed` or a verification's `--only unverified` re-run, or undefined for a whole run. */
async function readRerun(
  ledger: Ledger,
  input: ResumePlanInput,
  chain: string,
): Promise<RerunSelection | undefined> {
  const query = rerunQuery(input.request);
  if (!query || !('statuses' in query)) return undefined;
  return rerunOfKeys(input.request, query.only, await ledger.keysWithStatus(chain, query.statuses));
}

/**
 * The current status in `chain` of each gap a re-backfill re-sends, to take them out of the chain's
 * earlier counts: read with the gaps in one pass (gaps.ts), not looked up key by key. A chain other than
 * the cell's latest is a new one, where no gap has an outcome yet.
 */
function gapStatuses(gaps: VerificationGaps, chain: string): RecordStatus[] {
  const outcomes = gaps.resending?.chain === chain ? gaps.resending.outcomes : undefined;
  const statuses: RecordStatus[] = [];
  for (const key of gaps.keys) {
    const status = outcomes?.get(key)?.status;
    if (status) statuses.push(status);
  }
  return statuses;
}

/**
 * The current status of each record a re-run chosen by status re-runs, to take them out of the chain's
 * earlier counts: the ledger is asked once per status (a set, never a round trip per record).
 */
async function currentStatuses(
  ledger: Ledger,
  request: ResumeRequest,
  chain: string,
  rerun: RerunSelection,
): Promise<RecordStatus[]> {
  const query = rerunQuery(request);
  const statuses: RecordStatus[] = [];
  if (!query || !('statuses' in query)) return statuses;
  for (const status of query.statuses) {
    const keys = query.statuses.length === 1 ? rerun.keys : await ledger.keysWithStatus(chain, [status]);
    for (const key of keys) if (rerun.keys.has(key)) statuses.push(status);
  }
  return statuses;
}
