/**
 * Where a runbook keeps its state: the folder beside it and the ledger file in it. Kept apart from the
 * ledger's implementations so that what only needs a path (`backfill control`, the extension's monitor)
 * loads no database code: sql.js alone is most of a bundle that includes it.
 *
 * This folder cannot depend on the vscode API.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../model/types';

/** Folder beside the runbook holding its ledger and run state: `orders.backfill` → `orders.backfill.d/`. */
export function stateDirFor(runbookFile: string): string {
  return `${path.resolve(runbookFile)}.d`;
}

/**
 * Refuses a file (or anything else) where the state folder belongs, with a message that says what the
 * folder is for, instead of failing later on an obscure ENOTDIR or EEXIST. A missing folder is fine.
 */
export function assertStateDirUsable(stateDir: string): void {
  let stats: fs.Stats;
  try {
    stats = fs.statSync(stateDir);
  } catch {
    return;
  }
  if (!stats.isDirectory()) {
    throw new UserError(
      `${stateDir} is not a folder: backfill keeps the runbook's ledger, journal and status in a folder ` +
        'of that name; move that file away (it was left untouched)',
    );
  }
}

/** The ledger file inside a state folder. */
export function ledgerFileIn(stateDir: string): string {
  return path.join(stateDir, 'ledger.sqlite');
}
