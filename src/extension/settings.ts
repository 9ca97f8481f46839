/**
 * The extension's settings (`backfill.<area>.<key>` in package.json), read when used — never at import
 * time — so a change applies to the next action without a reload.
 */
import * as vscode from 'vscode';

export type LedgerFormat = 'csv' | 'jsonl';

function section(): vscode.WorkspaceConfiguration {
  return vscode.workspace.getConfiguration('backfill');
}

/** `backfill.run.saveBeforeRun`: save a runbook whose cells differ from the file before running. */
export function saveBeforeRun(): boolean {
  return section().get<boolean>('run.saveBeforeRun', true);
}

/** `backfill.ledger.format`: the format of Show Ledger, or undefined to ask. */
export function ledgerFormat(): LedgerFormat | undefined {
  const value = section().get<string>('ledger.format', 'ask');
  return value === 'csv' || value === 'jsonl' ? value : undefined;
}

/** `backfill.checklists.signOffAs`: the name a sign-off records, when set. */
export function signOffAs(): string | undefined {
  return section().get<string>('checklists.signOffAs', '').trim() || undefined;
}
