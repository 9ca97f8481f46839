// A probe extension for the harness: a notebook serializer (one plain-text cell per line) and a
// controller that echoes each cell, the smallest real use of the notebook APIs the product relies on.
import * as vscode from 'vscode';

export const NOTEBOOK_TYPE = 'backfill-probe';
export const CONTROLLER_ID = 'backfill-probe-echo';

export function activate(context: vscode.ExtensionContext): void {
  context.subscriptions.push(
    vscode.workspace.registerNotebookSerializer(NOTEBOOK_TYPE, new LineSerializer()),
    createEchoController(),
  );
}

class LineSerializer implements vscode.NotebookSerializer {
  deserializeNotebook(content: Uint8Array): vscode.NotebookData {
    const lines = new TextDecoder().decode(content).split('\n').filter(Boolean);
    const cells = lines.map(
      (line) => new vscode.NotebookCellData(vscode.NotebookCellKind.Code, line, 'plaintext'),
    );
    return new vscode.NotebookData(cells);
  }

  serializeNotebook(data: vscode.NotebookData): Uint8Array {
    return new TextEncoder().encode(data.cells.map((cell) => cell.value).join('\n') + '\n');
  }
}

function createEchoController(): vscode.NotebookController {
  const controller = vscode.notebooks.createNotebookController(CONTROLLER_ID, NOTEBOOK_TYPE, 'Probe echo');
  controller.supportedLanguages = ['plaintext'];
  controller.executeHandler = async (cells) => {
    for (const cell of cells) {
      const execution = controller.createNotebookCellExecution(cell);
      execution.start(Date.now());
      const output = vscode.NotebookCellOutputItem.text(`echo: ${cell.document.getText()}`);
      await execution.replaceOutput([new vscode.NotebookCellOutput([output])]);
      execution.end(true, Date.now());
    }
  };
  return controller;
}
