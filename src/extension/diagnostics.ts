/**
 * Problems as you type: the notebook is serialized as saving would write it, parsed and checked by the
 * core (the same checks as `backfill check`), and each located issue (a file line) is mapped back to its
 * cell and the line inside it.
 */
import * as vscode from 'vscode';
import { cellAtLine } from '../core/format/notebookCells';
import { Disposable } from './disposable';
import { isRunbook, parseNotebook } from './notebookDocument';

const DEBOUNCE_MS = 250;

export class RunbookDiagnostics extends Disposable {
  private readonly collection = this._register(vscode.languages.createDiagnosticCollection('backfill'));
  private readonly pending = new Map<string, ReturnType<typeof setTimeout>>();
  /** Cell documents that have diagnostics, per notebook, so they can be cleared. */
  private readonly shown = new Map<string, vscode.Uri[]>();

  constructor() {
    super();
    this._register(vscode.workspace.onDidOpenNotebookDocument((notebook) => this.schedule(notebook, 0)));
    this._register(vscode.workspace.onDidChangeNotebookDocument((event) => this.schedule(event.notebook)));
    this._register(
      vscode.workspace.onDidChangeTextDocument((event) => {
        if (event.document.uri.scheme !== 'vscode-notebook-cell') return;
        const notebook = vscode.workspace.notebookDocuments.find((nb) =>
          nb.getCells().some((cell) => cell.document === event.document),
        );
        if (notebook) this.schedule(notebook);
      }),
    );
    this._register(vscode.workspace.onDidCloseNotebookDocument((notebook) => this.clear(notebook)));
    this._register({ dispose: () => this.pending.forEach((timer) => clearTimeout(timer)) });
    for (const notebook of vscode.workspace.notebookDocuments) this.schedule(notebook, 0);
  }

  private schedule(notebook: vscode.NotebookDocument, delay = DEBOUNCE_MS): void {
    if (!isRunbook(notebook)) return;
    const key = notebook.uri.toString();
    clearTimeout(this.pending.get(key));
    this.pending.set(
      key,
      setTimeout(() => {
        this.pending.delete(key);
        if (!notebook.isClosed) this.update(notebook);
      }, delay),
    );
  }

  /** Computes and shows the problems of a notebook now. */
  update(notebook: vscode.NotebookDocument): void {
    const { issues, lines } = parseNotebook(notebook);
    const byCell = new Map<number, vscode.Diagnostic[]>();
    for (const issue of issues) {
      const at = cellAtLine(lines, issue.line);
      if (!at || at.index >= notebook.cellCount) continue;
      const document = notebook.cellAt(at.index).document;
      const line = Math.min(at.line, document.lineCount - 1);
      const text = document.lineAt(line);
      const range = new vscode.Range(line, text.firstNonWhitespaceCharacterIndex, line, text.text.length);
      const message = issue.field ? `${issue.field}: ${issue.message}` : issue.message;
      const diagnostic = new vscode.Diagnostic(range, message, vscode.DiagnosticSeverity.Error);
      diagnostic.source = 'backfill';
      byCell.set(at.index, [...(byCell.get(at.index) ?? []), diagnostic]);
    }
    this.clear(notebook);
    const uris: vscode.Uri[] = [];
    for (const [index, diagnostics] of byCell) {
      const uri = notebook.cellAt(index).document.uri;
      this.collection.set(uri, diagnostics);
      uris.push(uri);
    }
    this.shown.set(notebook.uri.toString(), uris);
  }

  /** Diagnostics of a cell document, for tests and hovers. */
  get(uri: vscode.Uri): readonly vscode.Diagnostic[] {
    return this.collection.get(uri) ?? [];
  }

  private clear(notebook: vscode.NotebookDocument): void {
    for (const uri of this.shown.get(notebook.uri.toString()) ?? []) this.collection.delete(uri);
    this.shown.delete(notebook.uri.toString());
  }
}
