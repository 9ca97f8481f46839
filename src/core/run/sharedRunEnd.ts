/**
 * The counts a run shared by workers is judged by, read from the ledger by the worker that finished its
 * last chunk: every worker's outcomes are committed there by then, while each worker's own counters saw
 * only its chunks. The same numbers a single process would have counted: the chain's outcomes (earlier
 * runs' included), the run's own, and the records skipped as finished by earlier runs of the chain.
 *
 * This file cannot depend on the vscode API.
 */
import type { Ledger, StatusCounts } from '../ledger/ledger';
import type { RunRecord } from '../model/runs';
import { sumOf, zeroCounts } from './statusCounts';

export interface SharedRunEnd {
  /** The chain's latest outcomes by status. */
  totals: StatusCounts;
  /** The outcomes this run recorded, by any of its workers. */
  own: StatusCounts;
  /** Records finished by earlier runs of the chain, skipped by this one. */
  skipped: number;
}

export async function sharedRunEnd(
  ledger: Ledger,
  run: Pick<RunRecord, 'id' | 'chain'>,
): Promise<SharedRunEnd> {
  const totals = await ledger.countByStatus(run.chain);
  const own = zeroCounts();
  for (const tally of await ledger.tallyChain(run.chain)) {
    if (tally.run === run.id) own[tally.status] += tally.count;
  }
  return { totals, own, skipped: sumOf(totals) - sumOf(own) };
}
