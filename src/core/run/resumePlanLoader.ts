/**
 * Reads what a run's resume plan needs from the ledger, in the order its decisions need it, and asks
 * the production gates (which read the ledger too). With the outcome recorder, the only part of a run
 * that touches the ledger: the decisions themselves are resumePlan.ts's pure functions. This file
 * cannot depend on the vscode API.
 */
import { randomUUID } from 'node:crypto';
import type { JobFingerprint } from '../job/fingerprint';
import type { Ledger, StatusCounts } from '../ledger/ledger';
import { sumOf } from './statusCounts';
import { findVerificationGaps, type VerificationGaps } from '../verify/gaps';
import { DEFAULT_KEYS_IN_MEMORY, readChainRecords, type ChainRecords } from '../ledger/chainRecords';
import { countDeliveredOutside, readDeliveredElsewhere } from './deliveredElsewhere';
import type { GateDecision } from './gate';
import { sourceRecords } from './planCounts';
import {
  chooseChain,
  expectedTotal,
  rerunOfGaps,
  rerunOfKeys,
  rerunQuery,
  withoutStatuses,
  type ResumePlan,
  type ResumeRequest,
  type RerunSelection,
} from './resumePlan';
import { RECORD_STATUSES, type RecordStatus } from '../model/runs';
import { jobCell, type Runbook } from '../format/runbook';
import { sourceKindOf } from '../sources/sourceKinds';

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
  /** Chains with more records than this are merged with the source by line (chainRecords.ts); tests lower it. */
  keysInMemory?: number;
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
    ? await findVerificationGaps(input.runbook, ledger, input.job, request.cell, input.keysInMemory)
    : undefined;
  const keysInMemory = input.keysInMemory ?? DEFAULT_KEYS_IN_MEMORY;
  const chainCounts = await ledger.countByStatus(chain.id);
  const rerun = gaps ? rerunOfGaps(gaps) : await readRerun(ledger, input, chain.id, chainCounts);
  const doneKeys: ChainRecords =
    rerun || chain.rejudge
      ? new Set<string>()
      : await readChainRecords(
          ledger,
          chain.id,
          RECORD_STATUSES,
          sumOf(chainCounts),
          keysInMemory,
          // A database source's keys keep their meaning when its lines move (a query that excludes fixed rows).
          keysOutliveLines(input),
        );
  const skipDelivered = !rerun && !chain.rejudge && request.kind === 'execute' && !request.resendDelivered;
  const delivered = skipDelivered
    ? await readDeliveredElsewhere(ledger, request.cell, fingerprint.combined, keysInMemory)
    : [];
  const doneElsewhere =
    delivered.length > 0
      ? await countDeliveredOutside(ledger, delivered, { chain: chain.id, keys: doneKeys })
      : {};
  // Counts of earlier runs of the chain, so progress and the success threshold cover the whole chain.
  const query = rerunQuery(request);
  const earlier = gaps
    ? withoutResent(chainCounts, gaps, chain.id)
    : rerun && query && 'statuses' in query
      ? withoutStatuses(chainCounts, query.statuses)
      : chainCounts;
  const dryRuns = await ledger.dryRuns();
  const expected = rerun ? undefined : expectedTotal(dryRuns, fingerprint, input.hasSubset);
  const ofSource = sourceRecords(dryRuns, fingerprint.combined);
  return {
    plan: {
      chain,
      ...(rerun ? { rerun } : {}),
      doneKeys,
      delivered,
      doneElsewhere,
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
  counts: StatusCounts,
): Promise<RerunSelection | undefined> {
  const query = rerunQuery(input.request);
  if (!query || !('statuses' in query)) return undefined;
  let count = 0;
  for (const status of query.statuses) count += counts[status];
  const keysInMemory = input.keysInMemory ?? DEFAULT_KEYS_IN_MEMORY;
  return rerunOfKeys(
    input.request,
    query.only,
    await readChainRecords(ledger, chain, query.statuses, count, keysInMemory),
  );
}

/**
 * The chain's counts less the gaps a re-backfill re-sends, by their current status in `chain` (counted
 * with the gaps in one pass, gaps.ts). A chain other than the cell's latest is a new one, where no gap
 * has an outcome yet.
 */
function withoutResent(chainCounts: StatusCounts, gaps: VerificationGaps, chain: string): StatusCounts {
  const counts = { ...chainCounts };
  if (gaps.resending?.chain !== chain) return counts;
  for (const [status, count] of Object.entries(gaps.resending.counts))
    counts[status as RecordStatus] -= count;
  return counts;
}

/** Whether the job's source keeps its keys' meaning when its lines move (a database query). */
function keysOutliveLines(input: ResumePlanInput): boolean {
  const source = jobCell(input.runbook, input.job)?.spec.source;
  return source !== undefined && sourceKindOf(source).uniqueKeys === true;
}
