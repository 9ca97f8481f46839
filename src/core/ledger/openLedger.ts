/**
 * The one place that decides which ledger a runbook uses: the embedded sql.js ledger beside it, unless
 * the environment's `ledger:` puts it in a PostgreSQL database shared by many workers (see
 * ledgerPlace.ts, which resolves that setting). Nothing that uses a ledger knows which one it has.
 *
 * This folder cannot depend on the vscode API.
 */
import { FoldThread } from './foldThread';
import { applyJournal, foldJournal, Journal } from './journal';
import {
  WRITTEN_AT_ONCE_WINDOW_PER_SLOT,
  type Ledger,
  type LedgerBackend,
  type LockInfo,
  type OutcomeRecorder,
  type RunLedger,
  type RunLock,
} from './ledger';
import { EMBEDDED_LEDGER, type LedgerPlace } from './ledgerPlace';
import { acquireRunLock } from './lock';
import { postgresBackend } from './postgresBackend';
import { SqlJsLedger } from './sqlJsLedger';
import { assertLedgerBesideRunbook, assertStateDirUsable, stateDirFor } from './statePaths';
import { UserError } from '../model/types';

/** The embedded ledger: `<runbook>.d/ledger.sqlite`, its journal and its lock file beside it. */
const EMBEDDED: LedgerBackend = {
  async open(runbookFile) {
    assertLedgerBesideRunbook(runbookFile);
    const ledger = await SqlJsLedger.open(runbookFile);
    showUnfoldedJournal(ledger, stateDirFor(runbookFile));
    return ledger;
  },

  async lockRuns(runbookFile, holder) {
    assertLedgerBesideRunbook(runbookFile);
    const stateDir = stateDirFor(runbookFile);
    assertStateDirUsable(stateDir);
    return acquireRunLock(stateDir, holder);
  },

  async openForRun(runbookFile) {
    assertLedgerBesideRunbook(runbookFile);
    const stateDir = stateDirFor(runbookFile);
    const ledger = await SqlJsLedger.open(runbookFile);
    try {
      const recovered = await foldJournal(ledger, stateDir);
      const journal = await Journal.open(stateDir);
      return { ledger, journal: recorderOf(journal, new FoldThread(runbookFile, ledger)), recovered };
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
    ledger.showingJournal(() => applyJournal(ledger, stateDir));
  } catch (error) {
    if (!(error instanceof UserError)) throw error;
  }
}

function backendFor(place: LedgerPlace): LedgerBackend {
  return place.type === 'postgres' ? postgresBackend(place) : EMBEDDED;
}

/**
 * Opens the ledger of a runbook. The embedded one is created in memory (not on disk) when it does not
 * exist yet, and an older one is migrated in memory (the file changes only on `save`). A file that is
 * not a ledger, or was written by a newer backfill, is refused with a UserError and left as it was.
 */
export function openLedger(runbookFile: string, place: LedgerPlace = EMBEDDED_LEDGER): Promise<Ledger> {
  return backendFor(place).open(runbookFile);
}

/** Takes the run lock of a runbook; see {@link LedgerBackend.lockRuns}. */
export function lockRuns(
  runbookFile: string,
  holder: LockInfo,
  place: LedgerPlace = EMBEDDED_LEDGER,
): Promise<RunLock> {
  return backendFor(place).lockRuns(runbookFile, holder);
}

/**
 * Opens a runbook's ledger for a run: recovers what a crashed run left (the embedded ledger folds its
 * journal), then opens the new run's recorder. Call it while holding the run lock. On failure nothing
 * is left open.
 */
export function openLedgerForRun(
  runbookFile: string,
  place: LedgerPlace = EMBEDDED_LEDGER,
): Promise<RunLedger> {
  return backendFor(place).openForRun(runbookFile);
}

/**
 * The journal as a run's recorder: its checkpoint rotates the journal and has the fold thread fold what
 * was rotated into the ledger, while the run appends to the new file.
 */
function recorderOf(journal: Journal, folds: FoldThread): OutcomeRecorder {
  return {
    durabilityWindowPerSlot: WRITTEN_AT_ONCE_WINDOW_PER_SLOT,
    append: (entry) => journal.append(entry),
    flush: () => journal.flush(),
    checkpoint: async () => {
      if (await journal.rotate()) await folds.fold();
    },
    close: async () => {
      try {
        await journal.close();
      } finally {
        await folds.close();
      }
    },
  };
}
