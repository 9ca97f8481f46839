// A real run lives in its own process: closing the runbook detaches, reopening re-attaches, and the
// cell's stop button halts it with nothing lost.
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { openLedger } from '../../../src/core/ledger/openLedger';
import {
  answer,
  cellById,
  cleanUp,
  demoFixture,
  openRunbook,
  outputText,
  posted,
  progressOf,
  statusOf,
  waitFor,
  type Fixture,
} from './support';

/** A slower full run (about 12 s for the demo's orders), so there is time to close, reopen and stop. */
const SLOW = (text: string) =>
  text.replace(
    '```execute id=full\njob: orders\n',
    '```execute id=full\njob: orders\nthrottle:\n  rate: 40\n',
  );

async function succeededKeys(file: string, cell: string): Promise<Set<string>> {
  const ledger = await openLedger(file);
  try {
    const chain = (await ledger.latestRun(cell))!.chain;
    const keys = new Set<string>();
    for await (const o of ledger.outcomes({ cell, chain, status: 'succeeded' })) keys.add(o.key);
    return keys;
  } finally {
    await ledger.close();
  }
}

describe('a running backfill', () => {
  let fixture: Fixture | undefined;
  let prompts: vscode.Disposable | undefined;
  afterEach(async () => {
    prompts?.dispose();
    await cleanUp(fixture);
    fixture = undefined;
  });

  it('survives closing and reopening its runbook, which re-attaches to it and shows it finish', async () => {
    fixture = await demoFixture(SLOW);
    prompts = await answer();
    let notebook = await openRunbook(fixture.uri);
    await vscode.commands.executeCommand('backfill.execute', {
      notebookUri: notebook.uri.toString(),
      cell: 'full',
    });
    let cell = cellById(notebook, 'full');
    await waitFor(() => (progressOf(cell)?.done ?? 0) >= 40, 'live progress in the cell', 30_000);
    assert.ok(!notebook.isDirty, 'a running cell does not make the runbook dirty');

    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
    await waitFor(() => notebook.isClosed, 'the runbook to close');
    const atClose = posted(fixture.server).length;
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.ok(posted(fixture.server).length > atClose, 'the run goes on while its runbook is closed');
    assert.equal(statusOf(fixture.file)?.state, 'running');

    notebook = await openRunbook(fixture.uri);
    cell = cellById(notebook, 'full');
    await waitFor(
      () => (progressOf(cell)?.done ?? 0) > atClose,
      'the re-attached cell to show live progress',
      15_000,
    );
    assert.equal(progressOf(cell)?.state, 'running');
    await waitFor(() => cell.executionSummary?.success !== undefined, 'the run to finish', 60_000);
    assert.equal(cell.executionSummary?.success, true, outputText(cell));
    assert.equal(progressOf(cell)?.state, 'finished');
    const keys = await succeededKeys(fixture.file, 'full');
    assert.deepEqual(new Set(posted(fixture.server)), keys);
  });

  it("halts at the cell's stop button with nothing lost, and running it again delivers every record", async () => {
    fixture = await demoFixture(SLOW);
    prompts = await answer();
    let notebook = await openRunbook(fixture.uri);
    await vscode.commands.executeCommand('backfill.execute', {
      notebookUri: notebook.uri.toString(),
      cell: 'full',
    });
    let cell = cellById(notebook, 'full');
    await waitFor(() => (progressOf(cell)?.done ?? 0) >= 30, 'live progress', 30_000);

    await vscode.commands.executeCommand('notebook.cell.cancelExecution', {
      ranges: [{ start: cell.index, end: cell.index + 1 }],
      document: notebook.uri,
    });
    await waitFor(() => cell.executionSummary?.success !== undefined, 'the run to halt', 30_000);
    assert.equal(cell.executionSummary?.success, false);
    assert.equal(statusOf(fixture.file)?.state, 'halted');
    assert.match(outputText(cell), /Halted/);
    // The note names the action that resumes it (▶ would only dry-run), and so does the record reopened.
    assert.match(outputText(cell), /run the cell again \(Execute…\) to resume/);
    await notebook.save();
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await waitFor(() => notebook.isClosed, 'the runbook to close');
    notebook = await openRunbook(fixture.uri);
    cell = cellById(notebook, 'full');
    await waitFor(() => /Last real run: halted/.test(outputText(cell)), 'the halted record on opening');
    assert.match(outputText(cell), /run the cell again \(Execute…\) to resume/);
    const total = statusOf(fixture.file)!.total!;
    const sentBeforeResume = new Set(posted(fixture.server));
    const recorded = await succeededKeys(fixture.file, 'full');
    assert.ok(
      sentBeforeResume.size < total,
      `the server got a subset (${sentBeforeResume.size} of ${total})`,
    );
    for (const key of recorded) assert.ok(sentBeforeResume.has(key), `recorded ${key} really arrived`);
    assert.ok(sentBeforeResume.size - recorded.size <= 4, 'at most the in-flight records are unrecorded');

    await vscode.commands.executeCommand('backfill.execute', {
      notebookUri: notebook.uri.toString(),
      cell: 'full',
    });
    cell = cellById(notebook, 'full');
    await waitFor(
      () => statusOf(fixture!.file)?.state === 'running' || statusOf(fixture!.file)?.state === 'finished',
      'the resume',
    );
    await waitFor(() => statusOf(fixture!.file)?.state === 'finished', 'the resumed run to finish', 60_000);
    await waitFor(() => cell.executionSummary?.success === true, 'the cell to show success');
    const delivered = new Set(posted(fixture.server));
    const final = statusOf(fixture.file)!;
    // Every record has an outcome: the valid ones succeeded (each one arrived), the malformed rejected.
    assert.equal(final.done, final.total);
    assert.equal(final.failed, 0);
    assert.equal(delivered.size, final.succeeded, 'every record was delivered');
    assert.deepEqual(await succeededKeys(fixture.file, 'full'), delivered);
    const repeats = posted(fixture.server).length - delivered.size;
    assert.ok(repeats <= 4, `only records in flight at the stop were sent twice (${repeats})`);
  });
});
