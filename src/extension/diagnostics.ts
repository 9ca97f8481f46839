/**
 * Problems as you type: the notebook is serialized as saving would write it, parsed and checked by the
 * core (the same checks as `backfill check`), and each located issue (a file line) is mapped back to its
 * cell and the line inside it. The message names the cell (`cell small-batch: throttle.concurency: …`),
 * since the Problems panel shows only the notebook and a line; a misspelt field the core recognises
 * gets a quick fix.
 */
import * as vscode from 'vscode';
import { cellAtLine } from '../core/format/notebookCells';
import { suggestedField } from '../core/format/yamlBlock';
import { Disposable } from './disposable';
import { cellId, isRunbook, parseNotebook } from './notebookDocument';

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
    this._register(
      vscode.languages.registerCodeActionsProvider(
        // No `notebookType` in the selector: with it, code-server 4.96 (VS Code 1.96 in the browser) never
        // asked this provider, and Ctrl+. over the squiggle said "No code actions available". Only
        // runbooks have `backfill` problems, so the fixes stay theirs.
        { scheme: 'vscode-notebook-cell', language: 'yaml' },
        {
          // The problems at the range, from this collection (keyed by the very document given here)
          // rather than `context.diagnostics`.
          provideCodeActions: (document, range) =>
            quickFixes(
              document,
              this.get(document.uri).filter((diagnostic) => diagnostic.range.intersection(range)),
            ),
        },
        { providedCodeActionKinds: [vscode.CodeActionKind.QuickFix] },
      ),
    );
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
      const cell = notebook.cellAt(at.index);
      const document = cell.document;
      const line = Math.min(at.line, document.lineCount - 1);
      const text = document.lineAt(line);
      const range = new vscode.Range(line, text.firstNonWhitespaceCharacterIndex, line, text.text.length);
      const id = issue.cell ?? cellId(cell);
      const message = [id ? `cell ${id}` : undefined, issue.field, issue.message].filter(Boolean).join(': ');
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

  /** The quick fixes of a cell document's problems, as the editor's light bulb offers them (for tests). */
  quickFixes(document: vscode.TextDocument): vscode.CodeAction[] {
    return quickFixes(document, this.get(document.uri));
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

/** "did you mean" problems as quick fixes: the misspelt key on its line becomes the field meant. */
function quickFixes(
  document: vscode.TextDocument,
  diagnostics: readonly vscode.Diagnostic[],
): vscode.CodeAction[] {
  const fixes: vscode.CodeAction[] = [];
  for (const diagnostic of diagnostics) {
    if (diagnostic.source !== 'backfill') continue;
    const suggested = suggestedField(diagnostic.message);
    if (!suggested) continue;
    const line = document.lineAt(diagnostic.range.start.line);
    const key = new RegExp(`^(\\s*(?:-\\s+)?)(["']?)${escapeRegExp(suggested.key)}\\2\\s*:`).exec(line.text);
    if (!key) continue;
    const start = key[1]!.length + key[2]!.length;
    const fix = new vscode.CodeAction(
      `Change "${suggested.key}" to "${suggested.suggestion}"`,
      vscode.CodeActionKind.QuickFix,
    );
    fix.edit = new vscode.WorkspaceEdit();
    fix.edit.replace(
      document.uri,
      new vscode.Range(line.lineNumber, start, line.lineNumber, start + suggested.key.length),
      suggested.suggestion,
    );
    fix.diagnostics = [diagnostic];
    fix.isPreferred = true;
    fixes.push(fix);
  }
  return fixes;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
