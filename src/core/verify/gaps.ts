/**
 * The gaps of a backfill: the records the latest verification of a job found mismatched or missing,
 * which a gap re-backfill (`--only unverified` on an execute cell) sends again. This folder cannot
 * depend on the vscode API.
 */
import type { Runbook } from '../format/runbook';
import type { Ledger } from '../ledger/ledger';
import { hasFinished } from '../ledger/finishedRun';
import { GAP_STATUSES, type RecordOutcome, type RunRecord } from '../model/runs';
import { UserError } from '../model/types';

/** What a gap re-backfill sends again, and the verification that found it. */
export interface VerificationGaps {
  /** The latest finished verification run of the job: its chain's outcomes are the gaps. */
  verification: RunRecord;
  /** Keys found mismatched or missing, less those already re-backfilled since that verification. */
  keys: Set<string>;
  /**
   * The re-backfilling cell's latest chain and the latest outcomes there of every gap the verification
   * found: what a resumed re-backfill takes out of the chain's earlier counts. Absent when the cell never ran.
   */
  resending?: { chain: string; outcomes: ReadonlyMap<string, RecordOutcome> };
}

/**
 * Finds the gaps the latest verification of `job` (by any verify cell checking it) left. A gap already
 * re-backfilled by `cell` since that verification ended is left out, so a re-backfill that was halted
 * resumes instead of sending its records twice. Throws a UserError saying what to do when there is no
 * finished verification, or nothing left to re-backfill.
 */
export async function findVerificationGaps(
  runbook: Runbook,
  ledger: Ledger,
  job: string,
  cell: string,
): Promise<VerificationGaps> {
  const verification = await latestVerification(runbook, ledger, job);
  const found = await ledger.keysWithStatus(verification.chain, GAP_STATUSES);
  const chain = (await ledger.latestRun(cell))?.chain;
  const resending =
    chain === undefined ? undefined : { chain, outcomes: await outcomesOf(ledger, chain, found) };
  const resent = resentSince(verification, found, resending?.outcomes);
  const keys = new Set([...found].filter((key) => !resent.has(key)));
  if (keys.size > 0) return { verification, keys, ...(resending ? { resending } : {}) };
  const recheck = `backfill run ${runbook.file} --cell ${verification.cell} --only unverified`;
  if (found.size > 0) {
    throw new UserError(
      `every gap verification run ${verification.id} found was re-backfilled since: re-check them with ${recheck}`,
    );
  }
  throw new UserError(
    `verification run ${verification.id} (cell ${verification.cell}) found no mismatched or missing record of job ${job}: nothing to re-backfill`,
  );
}

async function latestVerification(runbook: Runbook, ledger: Ledger, job: string): Promise<RunRecord> {
  const cells = runbook.cells.filter((c) => c.kind === 'verify' && c.spec.job === job).map((c) => c.id);
  if (cells.length === 0) {
    throw new UserError(
      `no verify cell checks job ${job}: add one and run it to find the gaps to re-backfill`,
    );
  }
  const latestRuns = await Promise.all(cells.map((id) => ledger.latestRun(id)));
  const runs = latestRuns.filter((run): run is RunRecord => run !== undefined);
  const latest = runs.sort((a, b) => (a.startedAt < b.startedAt ? 1 : a.startedAt > b.startedAt ? -1 : 0))[0];
  if (!latest) {
    throw new UserError(
      `job ${job} has not been verified yet: run backfill run ${runbook.file} --cell ${cells[0]} first`,
    );
  }
  if (!hasFinished(latest)) {
    throw new UserError(
      `the latest verification of job ${job} (run ${latest.id} of cell ${latest.cell}) is ${latest.outcome}, so its ` +
        `gaps are not all known: finish it first with backfill run ${runbook.file} --cell ${latest.cell}`,
    );
  }
  return latest;
}

/**
 * The latest outcomes in `chain` of these keys, in one pass over the chain's outcomes with a set lookup
 * for each: never a ledger round trip per key, however many gaps a verification found.
 */
async function outcomesOf(
  ledger: Ledger,
  chain: string,
  keys: ReadonlySet<string>,
): Promise<Map<string, RecordOutcome>> {
  const outcomes = new Map<string, RecordOutcome>();
  if (keys.size === 0) return outcomes;
  for await (const outcome of ledger.outcomes({ chain })) {
    if (keys.has(outcome.key)) outcomes.set(outcome.key, outcome);
  }
  return outcomes;
}

/**
 * Gap keys that the re-backfilling cell's chain re-sent after the verification ended. One whose re-send
 * failed is still a gap: it is sent again.
 */
function resentSince(
  verification: RunRecord,
  gaps: ReadonlySet<string>,
  outcomes: ReadonlyMap<string, RecordOutcome> | undefined,
): Set<string> {
  const endedAt = verification.endedAt;
  const resent = new Set<string>();
  if (!outcomes || endedAt === undefined) return resent;
  for (const key of gaps) {
    const outcome = outcomes.get(key);
    if (outcome && outcome.at > endedAt && outcome.status !== 'failed') resent.add(key);
  }
  return resent;
}

/**
 * The execute cell that re-backfills a job's gaps: the one over the whole source (no subset), else the
 * first execute cell of the job; undefined when the job has none.
 */
export function gapResendCell(runbook: Runbook, job: string): string | undefined {
  const cells = runbook.cells.filter((c) => c.kind === 'execute' && c.spec.job === job);
  return (cells.find((c) => c.kind === 'execute' && c.spec.subset === undefined) ?? cells[0])?.id;
}
