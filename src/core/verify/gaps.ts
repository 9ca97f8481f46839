/**
 * The gaps of a backfill: the records the latest verification of a job found mismatched or missing,
 * which a gap re-backfill (`--only unverified` on an execute cell) sends again. This folder cannot
 * depend on the vscode API.
 */
import type { Runbook } from '../format/runbook';
import {
  ChainCursor,
  DEFAULT_KEYS_IN_MEMORY,
  MergedChainRecords,
  placesOf,
  type ChainRecords,
  type MergedRecords,
} from '../ledger/chainRecords';
import type { Ledger, OutcomePlace } from '../ledger/ledger';
import { hasFinished } from '../ledger/finishedRun';
import { GAP_STATUSES, type RecordOutcome, type RecordStatus, type RunRecord } from '../model/runs';
import { UserError } from '../model/types';

/** What a gap re-backfill sends again, and the verification that found it. */
export interface VerificationGaps {
  /** The latest finished verification run of the job: its chain's outcomes are the gaps. */
  verification: RunRecord;
  /**
   * Records found mismatched or missing, less those already re-backfilled since that verification: a
   * Set of keys when few, merged with the source by line when many (ledger/chainRecords.ts).
   */
  keys: ChainRecords;
  /**
   * The re-backfilling cell's latest chain and how many of the gaps sent again have each status there:
   * what a resumed re-backfill takes out of the chain's earlier counts. Absent when the cell never ran.
   */
  resending?: { chain: string; counts: Partial<Record<RecordStatus, number>> };
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
  keysInMemory = DEFAULT_KEYS_IN_MEMORY,
): Promise<VerificationGaps> {
  const verification = await latestVerification(runbook, ledger, job);
  const verified = await ledger.countByStatus(verification.chain);
  const foundCount = GAP_STATUSES.reduce((sum, status) => sum + verified[status], 0);
  const chain = (await ledger.latestRun(cell))?.chain;
  const gaps =
    foundCount <= keysInMemory
      ? await gapsAsSet(ledger, verification, chain)
      : await gapsMerged(ledger, verification, chain, foundCount);
  if (gaps.keys.size > 0) return gaps;
  const recheck = `backfill run ${runbook.file} --cell ${verification.cell} --only unverified`;
  if (foundCount > 0) {
    throw new UserError(
      `every gap verification run ${verification.id} found was re-backfilled since: re-check them with ${recheck}`,
    );
  }
  throw new UserError(
    `verification run ${verification.id} (cell ${verification.cell}) found no mismatched or missing record of job ${job}: nothing to re-backfill`,
  );
}

/** The gaps of a verification that found few: Sets and one pass over the re-sending chain. */
async function gapsAsSet(
  ledger: Ledger,
  verification: RunRecord,
  chain: string | undefined,
): Promise<VerificationGaps> {
  const found = await ledger.keysWithStatus(verification.chain, GAP_STATUSES);
  const outcomes = chain === undefined ? undefined : await outcomesOf(ledger, chain, found);
  const resent = resentSince(verification, found, outcomes);
  const keys = new Set([...found].filter((key) => !resent.has(key)));
  if (chain === undefined || !outcomes) return { verification, keys };
  const counts: Partial<Record<RecordStatus, number>> = {};
  for (const key of keys) {
    const status = outcomes.get(key)?.status;
    if (status) counts[status] = (counts[status] ?? 0) + 1;
  }
  return { verification, keys, resending: { chain, counts } };
}

/**
 * The gaps of a verification that found many: the verification's chain and the re-sending one merged
 * with the source by line, counted in one pass over both in line order, holding a page of each.
 */
async function gapsMerged(
  ledger: Ledger,
  verification: RunRecord,
  chain: string | undefined,
  foundCount: number,
): Promise<VerificationGaps> {
  const resentAfter = resentPlace(verification);
  const resending = chain === undefined ? undefined : new ChainCursor(ledger, chain);
  const counts: Partial<Record<RecordStatus, number>> = {};
  let size = 0;
  for await (const place of placesOf(ledger, verification.chain)) {
    if (!(GAP_STATUSES as readonly RecordStatus[]).includes(place.status)) continue;
    await resending?.reach(place.line);
    const there = resending?.placesAt(place.line).find((other) => other.key === place.key);
    if (there && resentAfter(there)) continue;
    size += 1;
    if (there) counts[there.status] = (counts[there.status] ?? 0) + 1;
  }
  const found = new MergedChainRecords(ledger, verification.chain, GAP_STATUSES, foundCount);
  const resent = chain === undefined ? undefined : new MergedChainRecords(ledger, chain, resentAfter, 0);
  const keys = new GapRecords(size, found, resent);
  return { verification, keys, ...(chain === undefined ? {} : { resending: { chain, counts } }) };
}

/** An outcome of the re-sending chain that re-sent a gap after the verification: one that failed did not. */
function resentPlace(verification: RunRecord): (place: Pick<OutcomePlace, 'status' | 'at'>) => boolean {
  const endedAt = verification.endedAt;
  return (place) => endedAt !== undefined && place.at > endedAt && place.status !== 'failed';
}

/** Gaps found by the verification and not re-sent since, both merged with the source by line. */
class GapRecords implements MergedRecords {
  constructor(
    readonly size: number,
    private readonly found: MergedRecords,
    private readonly resent: MergedRecords | undefined,
  ) {}

  async prepare(): Promise<void> {
    await this.found.prepare();
    await this.resent?.prepare();
  }

  reach(line: number): Promise<void> | undefined {
    const reading = [this.found.reach(line), this.resent?.reach(line)].filter((read) => read !== undefined);
    return reading.length === 0 ? undefined : Promise.all(reading).then(() => undefined);
  }

  has(key: string, line: number, asRead = false): boolean {
    return this.found.has(key, line, asRead) && !(this.resent?.has(key, line, asRead) ?? false);
  }

  async hasMalformed(key: string, line: number): Promise<boolean> {
    return (
      (await this.found.hasMalformed(key, line)) && !((await this.resent?.hasMalformed(key, line)) ?? false)
    );
  }
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
  const resentAfter = resentPlace(verification);
  const resent = new Set<string>();
  if (!outcomes) return resent;
  for (const key of gaps) {
    const outcome = outcomes.get(key);
    if (outcome && resentAfter(outcome)) resent.add(key);
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
