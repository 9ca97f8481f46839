// Runs inside the extension host with the real `vscode` API: what the extension tests will build on.
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { CONTROLLER_ID } from '../extension';

const PROBE_EXTENSION_ID = 'backfill-test.backfill-harness-probe';

describe('probe notebook in code-server', () => {
  it('runs a cell through the selected controller and exposes its output', async () => {
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder, 'the harness opens a workspace folder');
    const notebook = await vscode.workspace.openNotebookDocument(
      vscode.Uri.joinPath(folder.uri, 'sample.probe'),
    );
    await vscode.window.showNotebookDocument(notebook);

    await vscode.commands.executeCommand('notebook.selectKernel', {
      id: CONTROLLER_ID,
      extension: PROBE_EXTENSION_ID,
    });
    await vscode.commands.executeCommand('notebook.execute');

    const cell = notebook.cellAt(0);
    await waitUntil(() => cell.outputs.length > 0);
    const item = cell.outputs[0]?.items[0];
    assert.equal(item?.mime, 'text/plain');
    assert.equal(new TextDecoder().decode(item?.data), 'echo: hello');
  });
});

/** Execution is asynchronous: `notebook.execute` resolves before the controller has written outputs. */
async function waitUntil(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
