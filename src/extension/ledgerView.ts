/**
 * Show Ledger: the failed records of each execute cell's latest run, with their reasons, as CSV or JSON
 * Lines (`backfill ledger FILE --status failed`) in a new untitled editor — nothing is written to disk.
 */
import * as vscode from 'vscode';
import { resolveNotebook } from './notebookDocument';
import type { Prompts } from './prompts';
import type { Cli } from './runnerProcess';
import { ledgerFormat, type LedgerFormat } from './settings';

export async function showLedger(
  argument: unknown,
  cli: Cli,
  prompts: Prompts,
): Promise<vscode.TextDocument | undefined> {
  const notebook = await resolveNotebook(argument);
  if (!notebook || notebook.uri.scheme !== 'file') {
    void vscode.window.showErrorMessage('Backfill: Show Ledger needs an open runbook saved to a file.');
    return undefined;
  }
  const given = (argument as { format?: unknown } | undefined)?.format;
  const format: LedgerFormat | undefined =
    given === 'csv' || given === 'jsonl' ? given : (ledgerFormat() ?? (await prompts.pickLedgerFormat()));
  if (!format) return undefined;
  const result = await cli.ledger(notebook.uri.fsPath, format);
  if (result.exitCode !== 0) {
    void vscode.window.showErrorMessage(
      `Backfill: ${result.stderr.trim() || `ledger exited with ${result.exitCode}`}`,
    );
    return undefined;
  }
  const languages = await vscode.languages.getLanguages();
  const language = format === 'csv' ? 'csv' : 'jsonl';
  const document = await vscode.workspace.openTextDocument({
    content: result.stdout,
    language: languages.includes(language) ? language : format === 'csv' ? 'plaintext' : 'json',
  });
  await vscode.window.showTextDocument(document, { preview: false });
  return document;
}
