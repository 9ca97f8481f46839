/**
 * A run's summary goes into its cell's metadata (`result`, or `dryRun` beside a real run's: see
 * src/core/format/resultSlots.ts), not into the file: the notebook becomes
 * dirty, the editor shows it, and saving writes the ```` ```result for=ID ```` block — the same block the
 * command line writes. The extension is the one writer of a runbook it has open.
 */
import * as vscode from 'vscode';
import { withRunResult } from '../core/format/resultSlots';
import type { Result } from '../core/format/schemas';
import type { Redactor } from '../core/secrets/secrets';
import { cellMeta, findCell, META_KEY, notebookEol } from './notebookDocument';

/** Sets the result of cell `id` (found again by id: it may have moved while the run went on). */
export async function setCellResult(
  notebook: vscode.NotebookDocument,
  id: string,
  result: Result,
  redactor?: Redactor,
): Promise<boolean> {
  if (notebook.isClosed) return false;
  const cell = findCell(notebook, id);
  const meta = cell && cellMeta(cell);
  if (!cell || !meta) return false;
  const safe = redactor ? redactor.redactValue(result) : result;
  const edit = new vscode.WorkspaceEdit();
  edit.set(notebook.uri, [
    vscode.NotebookEdit.updateCellMetadata(cell.index, {
      ...cell.metadata,
      [META_KEY]: withRunResult(meta, safe, notebookEol(notebook)),
    }),
  ]);
  return vscode.workspace.applyEdit(edit);
}
