/**
 * New Runbook: a runbook from the template `backfill new` writes (it walks plan, communicate, test, run
 * and monitor, verify, document), opened as a notebook.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { newRunbookText } from '../core/format/newRunbook';
import { whoIsActingIn } from './identity';
import type { Prompts } from './prompts';

export async function newRunbook(
  prompts: Prompts,
  target?: vscode.Uri,
): Promise<vscode.NotebookDocument | undefined> {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  const uri =
    target ??
    (await prompts.newRunbookLocation(folder && vscode.Uri.joinPath(folder, 'new-backfill.backfill')));
  if (!uri) return undefined;
  try {
    await vscode.workspace.fs.stat(uri);
    void vscode.window.showErrorMessage(`Backfill: ${uri.fsPath} exists already; choose another name.`);
    return undefined;
  } catch {
    // Does not exist: good.
  }
  const name =
    path
      .basename(uri.path, '.backfill')
      .toLowerCase()
      .replace(/[^a-z0-9._-]+/g, '-')
      .replace(/^[^a-z0-9]+/, '') || 'backfill';
  const text = newRunbookText({
    name,
    owner: await whoIsActingIn(uri.scheme === 'file' ? path.dirname(uri.fsPath) : undefined),
  });
  await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(text));
  const notebook = await vscode.workspace.openNotebookDocument(uri);
  await vscode.window.showNotebookDocument(notebook);
  return notebook;
}
