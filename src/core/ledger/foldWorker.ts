/**
 * The worker thread that folds a run's rotated journal files into its embedded ledger (see journal.ts and
 * foldThread.ts, which starts it). It holds its own copy of the ledger for the whole run, so the segment
 * being filled stays open between folds. One fold at a time, in the order asked.
 *
 * A bundle of its own (dist/foldWorker.js): it must not load the command line or the extension.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { UserError } from '../model/types';
import { foldRotatedJournals } from './journal';
import { SqlJsLedger } from './sqlJsLedger';
import { loadSqlJs } from '../support/sqlite';
import { stateDirFor } from './statePaths';

/** What the run's thread sends: fold what is rotated now. */
export interface FoldRequest {
  type: 'fold';
}

/** What this thread answers, once per request. */
export type FoldReply = { ok: true; entries: number } | { ok: false; message: string; userError: boolean };

const { runbookFile } = workerData as { runbookFile: string };
// Compiled now, while the run goes on, not when the first fold (perhaps the run's last) needs it; a
// failure shows again, with its message, when the ledger is opened.
loadSqlJs().catch(() => undefined);
let ledger: SqlJsLedger | undefined;
let previous: Promise<void> = Promise.resolve();

parentPort?.on('message', (request: FoldRequest) => {
  if (request.type !== 'fold') return;
  previous = previous.then(async () => parentPort?.postMessage(await fold()));
});

async function fold(): Promise<FoldReply> {
  try {
    ledger ??= await SqlJsLedger.open(runbookFile);
    return { ok: true, entries: await foldRotatedJournals(ledger, stateDirFor(runbookFile)) };
  } catch (error) {
    return {
      ok: false,
      message: error instanceof Error ? error.message : String(error),
      userError: error instanceof UserError,
    };
  }
}
