/**
 * The `backfill` notebook serializer: a thin adapter over src/core/format/notebookCells.ts, which keeps
 * the exact text of every cell (fences, blank lines, embedded results) in the cells' metadata, so an
 * unchanged runbook saves byte for byte as it was read.
 *
 * Outputs are transient (live progress and previews are not part of the file) and rebuilt on opening
 * from what the file records (cellRecords.ts); cell metadata is not transient:
 * a run puts its result summary there, which makes the notebook dirty, and saving writes the
 * ```` ```result for=ID ```` block.
 */
import * as vscode from 'vscode';
import { cellsToRunbook, runbookToCells, type CellMeta } from '../core/format/notebookCells';
import { outputsOnOpen } from './cellRecords';
import { Disposable } from './disposable';
import { cellMeta, cellTexts, isRunbook, META_KEY, NOTEBOOK_TYPE, notebookEol } from './notebookDocument';

export class RunbookSerializer implements vscode.NotebookSerializer {
  deserializeNotebook(content: Uint8Array): vscode.NotebookData {
    const { cells, eol } = runbookToCells(new TextDecoder().decode(content));
    const data = new vscode.NotebookData(
      cells.map((cell) => {
        const kind = cell.markup ? vscode.NotebookCellKind.Markup : vscode.NotebookCellKind.Code;
        const language = cell.markup || cell.meta?.kind === 'raw' ? 'markdown' : 'yaml';
        const item = new vscode.NotebookCellData(kind, cell.value, language);
        if (cell.meta) item.metadata = { [META_KEY]: cell.meta };
        // Outputs are not stored: each cell's record and checklist are rebuilt from the file.
        item.outputs = outputsOnOpen(cell.meta, cell.value);
        return item;
      }),
    );
    data.metadata = { eol };
    return data;
  }

  serializeNotebook(data: vscode.NotebookData): Uint8Array {
    const eol = (data.metadata as { eol?: string } | undefined)?.eol === '\r\n' ? '\r\n' : '\n';
    const cells = data.cells.map((cell) => {
      const meta = (cell.metadata as Record<string, unknown> | undefined)?.[META_KEY] as CellMeta | undefined;
      return {
        markup: cell.kind === vscode.NotebookCellKind.Markup,
        value: cell.value,
        ...(meta ? { meta } : {}),
      };
    });
    return new TextEncoder().encode(cellsToRunbook(cells, eol).text);
  }
}

/** Registers the serializer, and gives cells added in the editor their kind and id as they are saved. */
export class RunbookNotebooks extends Disposable {
  constructor() {
    super();
    this._register(
      vscode.workspace.registerNotebookSerializer(NOTEBOOK_TYPE, new RunbookSerializer(), {
        transientOutputs: true,
      }),
    );
    this._register(
      vscode.workspace.onWillSaveNotebookDocument((event) => {
        if (isRunbook(event.notebook)) event.waitUntil(Promise.resolve(metadataForNewCells(event.notebook)));
      }),
    );
  }
}

/**
 * A cell added in the editor has no kind or id until it is written: the serializer picks them. Storing
 * them in the cell as part of the same save keeps later saves identical and lets the cell run.
 */
function metadataForNewCells(notebook: vscode.NotebookDocument): vscode.WorkspaceEdit {
  const edit = new vscode.WorkspaceEdit();
  const fresh = notebook.getCells().filter((cell) => !cellMeta(cell));
  if (fresh.length === 0) return edit;
  const { metas } = cellsToRunbook(cellTexts(notebook), notebookEol(notebook));
  edit.set(
    notebook.uri,
    fresh.map((cell) =>
      vscode.NotebookEdit.updateCellMetadata(cell.index, { ...cell.metadata, [META_KEY]: metas[cell.index] }),
    ),
  );
  return edit;
}
