import * as vscode from 'vscode';

export const UNTRUSTED_MESSAGE =
  'This workspace is not trusted, so Backfill runs nothing here: no dry run, no run, no control of a ' +
  'run and no checklist sign-off. Runbooks can still be read and edited. To run them, trust the ' +
  'workspace (command: Workspaces: Manage Workspace Trust).';

/** True in a trusted workspace; otherwise says why nothing runs, and returns false. */
export function ensureTrusted(): boolean {
  if (vscode.workspace.isTrusted) return true;
  void vscode.window.showWarningMessage(`Backfill: ${UNTRUSTED_MESSAGE}`);
  return false;
}
