/**
 * A `backfill` notebook as the core sees it: its runbook text (exactly what saving would write), the cell
 * of a given id, and the file behind it. The core mapping lives in src/core/format/notebookCells.ts;
 * this is the part that touches the vscode API.
 */
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { checkRunbook } from '../core/job/checkRunbook';
import {
  cellsToRunbook,
  type CellLines,
  type CellMeta,
  type CellText,
  type Eol,
} from '../core/format/notebookCells';
import { parseRunbook, type Runbook } from '../core/format/runbook';
import { parseRunbookFile } from '../core/format/runbookFile';
import type { Issue } from '../core/model/types';

export const NOTEBOOK_TYPE = 'backfill';
/** Where a cell's kind, id, fences and embedded result live in the cell's metadata. */
export const META_KEY = 'backfill';

export function isRunbook(notebook: vscode.NotebookDocument): boolean {
  return notebook.notebookType === NOTEBOOK_TYPE;
}

export function cellMeta(cell: vscode.NotebookCell): CellMeta | undefined {
  return (cell.metadata as Record<string, unknown> | undefined)?.[META_KEY] as CellMeta | undefined;
}

/** The id of a fenced cell (job, checklist, dry-run, execute, verify). */
export function cellId(cell: vscode.NotebookCell): string | undefined {
  const meta = cellMeta(cell);
  return meta && 'id' in meta && meta.kind !== 'result' ? meta.id : undefined;
}

export function cellKind(cell: vscode.NotebookCell): CellMeta['kind'] | undefined {
  return cellMeta(cell)?.kind;
}

export function notebookEol(notebook: vscode.NotebookDocument): Eol {
  return (notebook.metadata as { eol?: Eol } | undefined)?.eol === '\r\n' ? '\r\n' : '\n';
}

export function cellTexts(notebook: vscode.NotebookDocument): CellText[] {
  return notebook.getCells().map((cell) => {
    const meta = cellMeta(cell);
    return {
      markup: cell.kind === vscode.NotebookCellKind.Markup,
      value: cell.document.getText(),
      ...(meta ? { meta } : {}),
    };
  });
}

/** The text saving the notebook would write, and where each cell lands in it. */
export function notebookText(notebook: vscode.NotebookDocument): { text: string; lines: CellLines[] } {
  return cellsToRunbook(cellTexts(notebook), notebookEol(notebook));
}

/** Parses the notebook as its saved text would parse; `issues` includes what `backfill check` adds. */
export function parseNotebook(notebook: vscode.NotebookDocument): {
  runbook?: Runbook;
  issues: Issue[];
  text: string;
  lines: CellLines[];
} {
  const { text, lines } = notebookText(notebook);
  const parsed = parseRunbook(text, notebook.uri.fsPath);
  const issues = parsed.runbook ? checkRunbook(parsed.runbook) : parsed.issues;
  return {
    ...(issues.length === 0 && parsed.runbook ? { runbook: parsed.runbook } : {}),
    issues,
    text,
    lines,
  };
}

export function findCell(notebook: vscode.NotebookDocument, id: string): vscode.NotebookCell | undefined {
  return notebook.getCells().find((cell) => cellId(cell) === id);
}

/** The runbook file on disk, or why there is none (an untitled or remote notebook). */
export function runbookFile(notebook: vscode.NotebookDocument): { file: string } | { reason: string } {
  if (notebook.uri.scheme !== 'file') {
    return { reason: 'save the runbook to a .backfill file on this machine first: runs read the file' };
  }
  return { file: notebook.uri.fsPath };
}

/**
 * Whether what would run differs from the file: the header or any cell's kind, id or body (prose and
 * embedded results do not change what runs).
 */
export function definitionsDifferFromDisk(notebook: vscode.NotebookDocument): boolean {
  if (!notebook.isDirty) return false;
  let disk: string;
  try {
    disk = fs.readFileSync(notebook.uri.fsPath, 'utf8');
  } catch {
    return true;
  }
  return definitionKey(disk) !== definitionKey(notebookText(notebook).text);
}

function definitionKey(text: string): string {
  const { doc } = parseRunbookFile(text, 'runbook');
  if (!doc) return `raw:${text}`;
  const cells = doc.segments.flatMap((s) => (s.type === 'cell' ? [[s.kind, s.id, s.body]] : []));
  return JSON.stringify([doc.headerText, cells]);
}

/** Accepts what commands are invoked with: a cell (menus), `{ notebookUri, cell }` (tests, links) or nothing. */
export interface CellReference {
  notebookUri?: string | vscode.Uri;
  cell?: string;
}

export async function resolveNotebook(argument: unknown): Promise<vscode.NotebookDocument | undefined> {
  if (isNotebookCell(argument)) return argument.notebook;
  const uri =
    (argument as CellReference | undefined)?.notebookUri ??
    (argument instanceof vscode.Uri ? argument : undefined);
  if (uri) {
    const parsed = typeof uri === 'string' ? vscode.Uri.parse(uri) : uri;
    const open = vscode.workspace.notebookDocuments.find((nb) => nb.uri.toString() === parsed.toString());
    return open ?? vscode.workspace.openNotebookDocument(parsed);
  }
  const active = vscode.window.activeNotebookEditor?.notebook;
  return active && isRunbook(active) ? active : undefined;
}

/** The cell a command is about: the one given, the one named, or the selected one. */
export function resolveCell(
  notebook: vscode.NotebookDocument,
  argument: unknown,
): vscode.NotebookCell | undefined {
  if (isNotebookCell(argument)) return argument;
  const id = (argument as CellReference | undefined)?.cell;
  if (typeof id === 'string') return findCell(notebook, id);
  const editor = vscode.window.activeNotebookEditor;
  if (editor?.notebook !== notebook) return undefined;
  const index = editor.selection.start;
  return index < notebook.cellCount ? notebook.cellAt(index) : undefined;
}

export function isNotebookCell(value: unknown): value is vscode.NotebookCell {
  const cell = value as Partial<vscode.NotebookCell> | undefined;
  return (
    !!cell &&
    typeof cell === 'object' &&
    'notebook' in cell &&
    'document' in cell &&
    typeof cell.index === 'number'
  );
}

/** Shows the notebook's runbook name for messages: its file name. */
export function runbookLabel(notebook: vscode.NotebookDocument): string {
  return notebook.uri.path.split('/').pop() ?? notebook.uri.toString();
}
