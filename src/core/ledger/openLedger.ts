/**
 * The one place that decides which ledger a runbook uses. Today every runbook has the embedded sql.js
 * ledger beside it; a second kind (a database shared by many workers) is added here as another
 * {@link LedgerBackend}, chosen from what the runbook says, and nothing that uses a ledger changes.
 *
 * This folder cannot depend on the vscode API.
 */
import { applyJournal, foldJournal, Journal } from './journal';
import type { Ledger, LedgerBackend, LockInfo, OutcomeRecorder, RunLedger, RunLock } from './ledger';
import { acquireRunLock } from './lock';
import { SqlJsLedger } from './sqlJsLedger';
import { assertStateDirUsable, stateDirFor } from './statePaths';
import { UserError } from '../model/types';

/** The embedded ledger: `<runbook>.d/ledger.sqlite`, its journal and its lock file beside it. */
const EMBEDDED: LedgerBackend = {
  async open(runbookFile) {
    const ledger = await SqlJsLedger.open(runbookFile);
    showUnfoldedJournal(ledger, stateDirFor(runbookFile));
    return ledger;
  },

  async lockRuns(runbookFile, holder) {
    const stateDir = stateDirFor(runbookFile);
    assertStateDirUsable(stateDir);
    return acquireRunLock(stateDir, holder);
  },

  async openForRun(runbookFile) {
    const stateDir = stateDirFor(runbookFile);
    const ledger = await SqlJsLedger.open(runbookFile);
    try {
      const recovered = await foldJournal(ledger, stateDir);
      const journal = await Journal.open(stateDir);
      return { ledger, journal: recorderOf(journal, ledger), recovered };
    } catch (error) {
      await ledger.close();
      throw error;
    }
  },
};

/**
 * What a run that was killed (or still runs) recorded is in its journal until the next run folds it:
 * applied in memory, every reader sees it at once instead of "not run". A journal that does not apply
 * is left for the next run, which refuses it with the reason.
 */
function showUnfoldedJournal(ledger: SqlJsLedger, stateDir: string): void {
  try {
    applyJournal(ledger, stateDir);
  } catch (error) {
    if (!(error instanceof UserError)) throw error;
  }
}

/** The kind of ledger a runbook uses. */
function backendFor(_runbookFile: string): LedgerBackend {
  return EMBEDDED;
}

/**
 * Opens the ledger of a runbook. The embedded one is created in memory (not on disk) when it does not
 * exist yet, and an older one is migrated in memory (the file changes only on `save`). A file that is
 * not a ledger, or was written by a newer backfill, is refused with a UserError and left as it was.
 */
export function openLedger(runbookFile: string): Promise<Ledger> {
  return backendFor(runbookFile).open(runbookFile);
}

/** Takes the run lock of a runbook; see {@link LedgerBackend.lockRuns}. */
export function lockRuns(runbookFile: string, holder: LockInfo): Promise<RunLock> {
  return backendFor(runbookFile).lockRuns(runbookFile, holder);
}

/**
 * Opens a runbook's ledger for a run: recovers what a crashed run left (the embedded ledger folds its
 * journal), then opens the new run's recorder. Call it while holding the run lock. On failure nothing
 * is left open.
 */
export function openLedgerForRun(runbookFile: string): Promise<RunLedger> {
  return backendFor(runbookFile).openForRun(runbookFile);
}

/** The journal as a run's recorder: its checkpoint folds it into the ledger it was opened with. */
function recorderOf(journal: Journal, ledger: SqlJsLedger): OutcomeRecorder {
  return {
    append: (entry) => journal.append(entry),
    flush: () => journal.flush(),
    checkpoint: () => journal.checkpoint(ledger),
    close: () => journal.close(),
  };
}
