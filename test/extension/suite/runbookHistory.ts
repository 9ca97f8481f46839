// A runbook is a record: a dry run, Run All, a refusal or a cancel never replaces the record of a real
// run, neither in the file nor in the cell, and opening the runbook again shows each cell's record.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  answer,
  cellById,
  cleanUp,
  demoFixture,
  EXTENSION_ID,
  executeCell,
  MIME,
  openRunbook,
  outputJson,
  outputText,
  TOKEN,
  waitFor,
  type Fixture,
} from './support';

describe('the runbook keeps its history', () => {
  let fixture: Fixture | undefined;
  let prompts: vscode.Disposable | undefined;
  afterEach(async () => {
    prompts?.dispose();
    await cleanUp(fixture);
    fixture = undefined;
  });

  it('keeps a real run through a dry run, Run All, a save and a reload, and Run All skips the verification', async () => {
    fixture = await demoFixture();
    prompts = await answer();
    let notebook = await openRunbook(fixture.uri);
    let cell = cellById(notebook, 'small-batch');
    // A real run (local: Execute…).
    await vscode.commands.executeCommand('backfill.execute', {
      notebookUri: notebook.uri.toString(),
      cell: 'small-batch',
    });
    await waitFor(() => cell.executionSummary?.success !== undefined, 'the real run to end', 60_000);
    const sentByRun = fixture.server.received.length;
    assert.ok(sentByRun >= 7, 'the real run sent its records');

    // A dry run of the same cell: the preview, and the real run's record under it.
    await executeCell(cell);
    await waitFor(() => outputJson(cell, MIME.dryRun) !== undefined, 'the dry run', 30_000);
    assert.match(outputText(cell), /Last real run: \w+/);

    // Run All: dry runs only; the verify cell is skipped (a verification reads the target).
    const full = cellById(notebook, 'full');
    await vscode.commands.executeCommand('notebook.execute');
    await waitFor(() => outputJson(full, MIME.dryRun) !== undefined, 'Run All to reach full', 60_000);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.equal(cellById(notebook, 'check').outputs.length, 0, 'the verify cell did not run');
    assert.equal(fixture.server.received.length, sentByRun, 'Run All sent and read nothing');

    await notebook.save();
    const saved = fs.readFileSync(fixture.file, 'utf8');
    const real = /```result for=small-batch\n([\s\S]*?)```/.exec(saved)?.[1] ?? '';
    assert.match(real, /^mode: execute$/m, 'the real run is still the cell’s result');
    assert.match(saved, /```result for=small-batch mode=dry-run\n[\s\S]*?mode: dry-run\n/);

    // Opened again: the record is rebuilt from the file.
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    notebook = await openRunbook(fixture.uri);
    cell = cellById(notebook, 'small-batch');
    // The real run's record from the file, and the last dry run's preview rebuilt from the ledger.
    await waitFor(() => outputJson(cell, MIME.dryRun) !== undefined, 'the dry-run preview on opening');
    assert.match(outputText(cell), /Last real run: \w+/);
    assert.match(outputText(cell), /Dry run of small-batch \([^)]*\): passed/);
    const checklist = cellById(notebook, 'sign-off');
    assert.ok(outputJson(checklist, MIME.checklist), 'a checklist is rendered as a checklist on opening');
  });

  it("rebuilds a dry run's preview from the ledger on opening, for a dry run this window never showed", async () => {
    fixture = await demoFixture();
    // A dry run from a terminal: it writes the result block and stores its report in the ledger.
    const extension = vscode.extensions.getExtension(EXTENSION_ID)!;
    const cli = path.join(extension.extensionPath, 'dist', 'cli.js');
    execFileSync(process.execPath, [cli, 'dry-run', fixture.file, '--cell', 'preview', '--no-progress'], {
      env: { ...process.env, ORDERS_API_TOKEN: TOKEN },
      stdio: 'ignore',
    });
    assert.match(fs.readFileSync(fixture.file, 'utf8'), /```result for=preview\n/);
    const notebook = await openRunbook(fixture.uri);
    const cell = cellById(notebook, 'preview');
    await waitFor(() => outputJson(cell, MIME.dryRun) !== undefined, 'the preview rebuilt', 30_000);
    const report = outputJson<{ counts: { valid: number; rejected: number }; preview: unknown[] }>(
      cell,
      MIME.dryRun,
    )!;
    assert.deepEqual([report.counts.valid, report.counts.rejected], [497, 3]);
    assert.ok(report.preview.length > 0, 'with its sample requests');
    assert.ok(!outputText(cell).includes(TOKEN), 'the secret never reaches the output');
    assert.equal(cell.executionSummary?.success, undefined, 'a record shown again, not a run: no verdict');
  });
});
