/**
 * The `backfill.executeCells` context key: the cells (by document URI) that Execute… and Run in Production… apply
 * to, so its button shows on execute cells only (`notebookCellResource in backfill.executeCells`).
 */
import * as vscode from 'vscode';
import { Disposable } from './disposable';
import { cellKind, isRunbook } from './notebookDocument';

export class ExecuteCellsContext extends Disposable {
  constructor() {
    super();
    this._register(vscode.workspace.onDidOpenNotebookDocument(() => this.update()));
    this._register(vscode.workspace.onDidCloseNotebookDocument(() => this.update()));
    this._register(
      vscode.workspace.onDidChangeNotebookDocument((event) => {
        if (event.contentChanges.length > 0 || event.cellChanges.some((c) => c.metadata)) this.update();
      }),
    );
    this.update();
  }

  private update(): void {
    const cells = vscode.workspace.notebookDocuments
      .filter(isRunbook)
      .flatMap((notebook) => notebook.getCells())
      .filter((cell) => cellKind(cell) === 'execute')
      // URIs, not strings: VS Code turns them into the workbench's own form (which differs in a remote
      // window) before comparing them with `notebookCellResource`.
      .map((cell) => cell.document.uri);
    void vscode.commands.executeCommand('setContext', 'backfill.executeCells', cells);
  }
}
