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

/** The environment variable that moves this host's state folders, as `--state-dir DIR` does. */
export const STATE_DIR_VARIABLE = 'BACKFILL_STATE_DIR';

/**
 * Where this process keeps state folders instead of beside the runbooks, or undefined (the default).
 * Set once, at startup, by the command line; the extension never sets it.
 */
let stateRoot: string | undefined;

/**
 * Keeps the state folders of this process in `dir` (`DIR/orders.backfill.d/`) instead of beside each
 * runbook: for a worker whose runbook is in a read-only folder (a ConfigMap, `ReadOnlyPaths=`). Only for
 * a ledger in PostgreSQL, where the folder holds nothing but this host's status, control and caches; the
 * embedded ledger refuses it (see {@link assertLedgerBesideRunbook}). `undefined` restores the default.
 */
export function keepStateIn(dir: string | undefined): void {
  stateRoot = dir === undefined || dir === '' ? undefined : path.resolve(dir);
}

/**
 * Folder holding a runbook's ledger and run state: beside it (`orders.backfill` → `orders.backfill.d/`),
 * or in the folder {@link keepStateIn} gave (`DIR/orders.backfill.d/`).
 */
export function stateDirFor(runbookFile: string): string {
  const file = path.resolve(runbookFile);
  return stateRoot === undefined ? `${file}.d` : path.join(stateRoot, `${path.basename(file)}.d`);
}

/**
 * Refuses an embedded ledger while the state folder is moved: that ledger is the record of what was sent,
 * and it must stay where every run of the runbook finds it, whether or not the setting is given.
 */
export function assertLedgerBesideRunbook(runbookFile: string): void {
  if (stateRoot === undefined) return;
  throw new UserError(
    `${runbookFile}: its ledger is embedded, kept beside the runbook in ${path.resolve(runbookFile)}.d: ` +
      `a state folder elsewhere (--state-dir, ${STATE_DIR_VARIABLE}) is only for an environment whose ledger ` +
      `is in PostgreSQL; unset ${STATE_DIR_VARIABLE} and drop --state-dir, or put the ledger in PostgreSQL ` +
      '(environments.NAME.ledger: {type: postgres, url: ${secret:NAME}})',
  );
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
