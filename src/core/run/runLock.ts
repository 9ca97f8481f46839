/**
 * The runner's hold on its state folder: the run lock (one writer at a time) and whether an earlier run
 * left outcomes in the journal that it never folded into the ledger. This file cannot depend on the
 * vscode API.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import { journalFileIn } from '../ledger/journalFile';
import type { LedgerPlace } from '../ledger/ledgerPlace';
import { lockRuns } from '../ledger/openLedger';
import { RefusedError, UserError } from '../model/types';

/**
 * A lock that cannot be removed (the state folder became read-only) must not hide the run's result: it
 * names this process, so once it has exited the next run takes the lock over as stale.
 */
export function releaseLock(lock: { release(): void }): void {
  try {
    lock.release();
  } catch {
    // Left behind as a stale lock; see above.
  }
}

/** One writer at a time: a second concurrent run of the same runbook is refused by this gate. */
export async function takeLock(
  runbookFile: string,
  place: LedgerPlace,
  run: { runId: string; cell: string; startedAt: string },
) {
  try {
    return await lockRuns(runbookFile, { pid: process.pid, host: os.hostname(), ...run }, place);
  } catch (error) {
    if (error instanceof UserError && !(error instanceof RefusedError)) throw new RefusedError(error.message);
    throw error;
  }
}

/** The journal of an earlier run holds outcomes not yet folded into the ledger: that run did not end cleanly. */
export function hasUnfoldedJournal(stateDir: string): boolean {
  try {
    return fs.statSync(journalFileIn(stateDir)).size > 0;
  } catch {
    return false;
  }
}
