/**
 * Records another execute cell of the same runbook already delivered: a small batch, then the full run.
 * The full run must not send the small batch's records again — an endpoint that ignores the idempotency
 * key would apply them twice — so by default it skips every record whose latest outcome in a chain of
 * another execute cell is `succeeded` for exactly the same job, environment and source data (the same
 * combined fingerprint, hence the same idempotency key). `--resend-delivered` (or `resend: delivered` on
 * the cell) sends them again. This file cannot depend on the vscode API.
 */
import { findCell, type Runbook } from '../format/runbook';
import type { Ledger } from '../ledger/ledger';
import type { RunRecord } from '../model/runs';
import { parseRunCounts } from './cellResult';

/** True when a run of `cell` sends delivered records again: `--resend-delivered`, or `resend: delivered`. */
export function resendsDelivered(runbook: Runbook, cell: string, asked: boolean | undefined): boolean {
  const spec = findCell(runbook, cell);
  return !!asked || (spec?.kind === 'execute' && spec.spec.resend === 'delivered');
}

/** The records one other cell delivered. */
export interface DeliveredBy {
  cell: string;
  keys: Set<string>;
}

/** What other cells delivered, cell by cell (a key delivered by two cells is listed under the first). */
export type DeliveredElsewhere = readonly DeliveredBy[];

/**
 * The chains whose succeeded records count as delivered for a run of `cell`: every chain of another
 * execute (or production) cell with the same combined fingerprint, newest run first. A cell's own
 * earlier chains never count: `--restart` means "send again".
 */
export function deliveringChains(
  runs: readonly Pick<RunRecord, 'cell' | 'chain' | 'mode' | 'fingerprint'>[],
  cell: string,
  fingerprint: string,
): { cell: string; chain: string }[] {
  const chains: { cell: string; chain: string }[] = [];
  const seen = new Set<string>();
  for (const run of runs) {
    if (run.cell === cell || run.mode === 'verify' || run.fingerprint !== fingerprint) continue;
    if (seen.has(run.chain)) continue;
    seen.add(run.chain);
    chains.push({ cell: run.cell, chain: run.chain });
  }
  return chains;
}

/**
 * Reads from the ledger what other cells delivered for this run: one set of keys per chain, asked once
 * before the first record (never a ledger round trip per record).
 */
export async function readDeliveredElsewhere(
  ledger: Ledger,
  cell: string,
  fingerprint: string,
): Promise<DeliveredElsewhere> {
  const byCell = new Map<string, Set<string>>();
  const claimed = new Set<string>();
  for (const chain of deliveringChains(await ledger.runs(), cell, fingerprint)) {
    const keys = await ledger.keysWithStatus(chain.chain, ['succeeded']);
    const cellKeys = byCell.get(chain.cell) ?? new Set<string>();
    for (const key of keys) {
      if (claimed.has(key)) continue;
      claimed.add(key);
      cellKeys.add(key);
    }
    if (cellKeys.size > 0) byCell.set(chain.cell, cellKeys);
  }
  return [...byCell].map(([deliveringCell, keys]) => ({ cell: deliveringCell, keys }));
}

/** The cell that delivered `key`, if another one did. */
export function deliveredBy(delivered: DeliveredElsewhere, key: string): string | undefined {
  for (const entry of delivered) if (entry.keys.has(key)) return entry.cell;
  return undefined;
}

/** Records delivered elsewhere that this chain has not finished itself: what the run will skip for it. */
export function deliveredOutside(delivered: DeliveredElsewhere, doneKeys: ReadonlySet<string>): number {
  let count = 0;
  for (const entry of delivered) for (const key of entry.keys) if (!doneKeys.has(key)) count += 1;
  return count;
}

/** "20 skipped: done by small-batch" for each cell, in words. */
export function describeDoneElsewhere(skipped: Readonly<Record<string, number>>): string[] {
  return Object.entries(skipped)
    .filter(([, count]) => count > 0)
    .map(([cell, count]) => `${count.toLocaleString('en-US')} skipped: done by ${cell}`);
}

/**
 * What a finished chain skipped because other cells had delivered it, by cell, as its runs recorded it:
 * the newest run of `chain` (runs listed newest first) that says so. A re-send of failed records or a
 * verdict judged again feeds no source and records nothing of the kind, so an earlier run of the chain
 * answers for them.
 */
export function recordedDoneElsewhere(
  runs: readonly RunRecord[],
  chain: string,
): Record<string, number> | undefined {
  for (const run of runs) {
    if (run.chain !== chain) continue;
    const byCell = parseRunCounts(run)?.doneElsewhere;
    if (byCell && typeof byCell === 'object' && Object.keys(byCell).length > 0) return { ...byCell };
  }
  return undefined;
}
