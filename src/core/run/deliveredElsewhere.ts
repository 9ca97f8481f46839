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
import { RECORD_STATUSES, type RecordStatus, type RunRecord } from '../model/runs';
import { parseRunCounts } from './cellResult';
import {
  ChainCursor,
  DEFAULT_KEYS_IN_MEMORY,
  isMerged,
  placesOf,
  readChainRecords,
  type ChainRecords,
} from '../ledger/chainRecords';

/** True when a run of `cell` sends delivered records again: `--resend-delivered`, or `resend: delivered`. */
export function resendsDelivered(runbook: Runbook, cell: string, asked: boolean | undefined): boolean {
  const spec = findCell(runbook, cell);
  return !!asked || (spec?.kind === 'execute' && spec.spec.resend === 'delivered');
}

/** The records one chain of another cell delivered. */
export interface DeliveredBy {
  cell: string;
  chain: string;
  keys: ChainRecords;
}

/** What other cells delivered, chain by chain (a key delivered by two counts for the first). */
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
 * Reads from the ledger what other cells delivered for this run, chain by chain, before the first record
 * (never a ledger round trip per record): a Set of keys for a small chain — a small batch, the usual
 * case — and a merge with the source by line for a big one (chainRecords.ts), so memory stays bounded
 * whatever the other cells sent.
 */
export async function readDeliveredElsewhere(
  ledger: Pick<
    Ledger,
    'runs' | 'countByStatus' | 'keysWithStatus' | 'outcomePlaces' | 'outcomeOf' | 'outcomes'
  >,
  cell: string,
  fingerprint: string,
  keysInMemory = DEFAULT_KEYS_IN_MEMORY,
): Promise<DeliveredElsewhere> {
  const delivered: DeliveredBy[] = [];
  for (const chain of deliveringChains(await ledger.runs(), cell, fingerprint)) {
    const count = (await ledger.countByStatus(chain.chain)).succeeded;
    if (count === 0) continue;
    const keys = await readChainRecords(ledger, chain.chain, ['succeeded'], count, keysInMemory);
    delivered.push({ ...chain, keys });
  }
  return delivered;
}

/** The cell that delivered the record at `line` with `key`, if another one did. */
export function deliveredBy(delivered: DeliveredElsewhere, key: string, line: number): string | undefined {
  for (const entry of delivered) if (entry.keys.has(key, line)) return entry.cell;
  return undefined;
}

/**
 * Records delivered elsewhere that this chain (`done`, its finished records) has not finished itself, by
 * delivering cell: what the run will skip for each. Counted before the first record, for the plan line.
 * With Sets only, a count over them; when a chain is merged, one pass over the delivering chains'
 * outcomes in line order with a forward cursor over each other chain, so memory stays bounded.
 */
export async function countDeliveredOutside(
  ledger: Pick<Ledger, 'outcomePlaces'>,
  delivered: DeliveredElsewhere,
  done: { chain: string; keys: ChainRecords },
): Promise<Record<string, number>> {
  const byCell: Record<string, number> = {};
  const add = (cell: string, count: number) => {
    if (count > 0) byCell[cell] = (byCell[cell] ?? 0) + count;
  };
  if (!isMerged(done.keys) && delivered.every((entry) => entry.keys instanceof Set)) {
    const claimed = new Set<string>();
    for (const entry of delivered) {
      let count = 0;
      for (const key of entry.keys as Set<string>) {
        if (claimed.has(key)) continue;
        claimed.add(key);
        if (!done.keys.has(key, 0)) count += 1;
      }
      add(entry.cell, count);
    }
    return byCell;
  }
  for (const [index, entry] of delivered.entries()) {
    const earlier = delivered
      .slice(0, index)
      .map((other) => lookupByLine(ledger, other.chain, ['succeeded']));
    const finished = lookupByLine(ledger, done.chain, RECORD_STATUSES);
    let count = 0;
    for await (const place of placesOf(ledger, entry.chain)) {
      if (place.status !== 'succeeded') continue;
      let seen = await finished(place.key, place.line);
      for (const other of earlier) seen ||= await other(place.key, place.line);
      if (!seen) count += 1;
    }
    add(entry.cell, count);
  }
  return byCell;
}

/** Whether `chain` holds `key` at `line` with one of `statuses`, asked in ascending line order. */
function lookupByLine(
  ledger: Pick<Ledger, 'outcomePlaces'>,
  chain: string,
  statuses: readonly RecordStatus[],
): (key: string, line: number) => Promise<boolean> {
  const cursor = new ChainCursor(ledger, chain);
  return async (key, line) => {
    await cursor.reach(line);
    return cursor.placesAt(line).some((place) => place.key === key && statuses.includes(place.status));
  };
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
