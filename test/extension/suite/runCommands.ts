// The run controls from the command palette (the status bar's quick pick runs the same commands), the
// ledger's failed records, and re-running exactly those.
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { describeRun, type RunConfirmation } from '../../../src/extension/prompts';
import {
  answer,
  cellById,
  cleanUp,
  demoFixture,
  MIME,
  openRunbook,
  outputJson,
  outputText,
  posted,
  progressOf,
  statusOf,
  waitFor,
  type Fixture,
} from './support';

describe('run commands', () => {
  let fixture: Fixture | undefined;
  let prompts: vscode.Disposable | undefined;
  afterEach(async () => {
    prompts?.dispose();
    await cleanUp(fixture);
    fixture = undefined;
  });

  it('pauses, changes the rate of, resumes and stops a running backfill', async () => {
    fixture = await demoFixture((text) =>
      text.replace(
        '```execute id=full\njob: orders\n',
        '```execute id=full\njob: orders\nthrottle:\n  rate: 30\n',
      ),
    );
    prompts = await answer();
    const notebook = await openRunbook(fixture.uri);
    const target = { notebookUri: notebook.uri.toString() };
    await vscode.commands.executeCommand('backfill.execute', { ...target, cell: 'full' });
    const file = fixture.file;
    await waitFor(() => (statusOf(file)?.done ?? 0) >= 10, 'the run to start', 30_000);

    assert.equal(await vscode.commands.executeCommand('backfill.pause', target), true);
    await waitFor(() => statusOf(file)?.state === 'paused', 'paused');
    const pausedAt = posted(fixture.server).length;
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.ok(posted(fixture.server).length - pausedAt <= 4, 'nothing new is sent while paused');

    // A rate outside the runbook's range is refused, not sent (the run would ignore it).
    const huge = { ...target, rate: 1e308 };
    assert.equal(await vscode.commands.executeCommand('backfill.changeRate', huge), false);
    assert.equal(statusOf(file)?.rate.configured, 30);
    assert.equal(await vscode.commands.executeCommand('backfill.changeRate', { ...target, rate: 60 }), true);
    await waitFor(() => statusOf(file)?.rate.configured === 60, 'the new rate');
    assert.equal(await vscode.commands.executeCommand('backfill.resume', target), true);
    await waitFor(() => statusOf(file)?.state === 'running', 'running again');
    await waitFor(() => posted(fixture!.server).length > pausedAt + 10, 'records sent after resume');

    // The cell's chart marks the pause, the rate change and the resume.
    const cell = cellById(notebook, 'full');
    const marks = () =>
      outputJson<{ marks?: { kind: string; label: string }[] }>(cell, MIME.progress)?.marks ?? [];
    await waitFor(() => marks().some((mark) => mark.kind === 'resumed'), 'the resume on the chart');
    assert.deepEqual(
      marks().map((mark) => mark.label),
      ['paused', 'rate 30/s → 60/s', 'resumed'],
    );

    assert.equal(await vscode.commands.executeCommand('backfill.stop', target), true);
    await waitFor(() => cell.executionSummary?.success === false, 'the cell to show the halt', 30_000);
    assert.equal(statusOf(file)?.state, 'halted');
    assert.match(outputText(cell), /Halted/);
  });

  it('shows the failed records from the ledger and retries exactly those', async () => {
    fixture = await demoFixture(
      (text) =>
        text.replace('first: 10\nthrottle:\n  rate: 5\n', 'first: 10\nthrottle:\n  rate: 5\n  retries: 0\n'),
      { rate500: 0.3, seed: 7 },
    );
    prompts = await answer();
    const notebook = await openRunbook(fixture.uri);
    const target = { notebookUri: notebook.uri.toString() };
    await vscode.commands.executeCommand('backfill.execute', { ...target, cell: 'small-batch' });
    const cell = cellById(notebook, 'small-batch');
    await waitFor(() => cell.executionSummary?.success !== undefined, 'the small batch', 60_000);
    const failed = statusOf(fixture.file)!.failed;
    assert.ok(failed > 0, 'some records failed');

    const ledger = await vscode.commands.executeCommand<vscode.TextDocument>('backfill.showLedger', {
      ...target,
      format: 'jsonl',
    });
    const rows = ledger
      .getText()
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { key: string; status: string });
    assert.equal(rows.length, failed);
    assert.ok(rows.every((row) => row.status === 'failed'));
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');

    const before = posted(fixture.server).length;
    await vscode.commands.executeCommand('backfill.retryFailed', { ...target, cell: 'small-batch' });
    await waitFor(() => posted(fixture!.server).length >= before + failed, 'the retry', 30_000);
    await waitFor(() => statusOf(fixture!.file)?.state === 'finished', 'the retry to finish', 30_000);
    const retried = posted(fixture.server).slice(before);
    assert.deepEqual(new Set(retried), new Set(rows.map((row) => row.key)));
    assert.equal(retried.length, failed, 'each failed record was sent once more, nothing else');
  });
  it('confirms the full run with the records it will send, as the plan line says them: the small batch skipped', async () => {
    fixture = await demoFixture();
    const confirmations: RunConfirmation[] = [];
    prompts = await answer({ confirmRun: async (run) => (confirmations.push(run), true) });
    const notebook = await openRunbook(fixture.uri);
    const target = { notebookUri: notebook.uri.toString() };
    await vscode.commands.executeCommand('backfill.execute', { ...target, cell: 'small-batch' });
    await waitFor(() => statusOf(fixture!.file)?.state === 'finished', 'the small batch', 30_000);
    const delivered = statusOf(fixture.file)!.succeeded;
    assert.equal(delivered, posted(fixture.server).length);
    assert.ok(delivered > 0);

    await vscode.commands.executeCommand('backfill.execute', { ...target, cell: 'full' });
    const full = confirmations.find((run) => run.cell === 'full');
    assert.ok(full, 'the full run was confirmed');
    const words = /^([\d,]+) of ([\d,]+) \((\d+) skipped: done by small-batch\)$/.exec(
      full.recordsText ?? '',
    );
    assert.ok(words, full.recordsText);
    const [sending, ofSource, skipped] = words.slice(1).map((n) => Number(n.replace(/,/g, '')));
    assert.equal(skipped, delivered);
    assert.equal(sending, ofSource! - delivered);
    assert.equal(full.records, sending);
    // What the modal shows.
    assert.match(describeRun(full), new RegExp(`^Records: ${words[0]!.replace(/[()]/g, '\\$&')}$`, 'm'));

    // The run sends what the confirmation said, and its progress view says which cell delivered the rest.
    const cell = cellById(notebook, 'full');
    await waitFor(() => cell.executionSummary?.success !== undefined, 'the full run', 90_000);
    assert.equal(posted(fixture.server).length, delivered + sending!);
    assert.equal(new Set(posted(fixture.server)).size, delivered + sending!, 'no order sent twice');
    assert.deepEqual(progressOf(cell)?.doneElsewhere, { 'small-batch': delivered });
    assert.match(outputText(cell), new RegExp(`^${delivered} skipped: done by small-batch$`, 'm'));
  });

  it('shows in the notebook why a halted run failed: the top reasons with counts and a sample key', async () => {
    fixture = await demoFixture((text) =>
      text
        .replace(/(local:\n[^]*?BASE_URL: )http:\/\/127\.0\.0\.1:\d+/, '$1http://127.0.0.1:9')
        .replace(
          '```execute id=full\njob: orders\n',
          '```execute id=full\njob: orders\nthrottle:\n  retries: 0\n',
        ),
    );
    prompts = await answer();
    const notebook = await openRunbook(fixture.uri);
    await vscode.commands.executeCommand('backfill.execute', {
      notebookUri: notebook.uri.toString(),
      cell: 'full',
    });
    const cell = cellById(notebook, 'full');
    await waitFor(() => cell.executionSummary?.success !== undefined, 'the run to halt', 90_000);
    assert.equal(cell.executionSummary?.success, false);
    const status = progressOf(cell)!;
    assert.equal(status.state, 'halted');
    const [top] = status.failures ?? [];
    assert.match(
      top?.reason ?? '',
      /^connection refused \(127\.0\.0\.1:9\)$/,
      JSON.stringify(status.failures),
    );
    assert.ok((top?.count ?? 0) >= 50, `${top?.count} failures`);
    assert.match(
      outputText(cell),
      new RegExp(
        `^Failures: ${top!.count} × connection refused \\(127\\.0\\.0\\.1:9\\) — e\\.g\\. key ${top!.key}$`,
        'm',
      ),
    );
    assert.equal(fixture.server.received.length, 0, 'nothing reached the service');
  });

  it('runs a finished cell again only when asked to start over', async () => {
    fixture = await demoFixture();
    let choice = 'cancel';
    let question = '';
    prompts = await answer({ pick: async (_choices, placeholder) => ((question = placeholder), choice) });
    const notebook = await openRunbook(fixture.uri);
    const target = { notebookUri: notebook.uri.toString(), cell: 'small-batch' };
    const cell = cellById(notebook, 'small-batch');
    const runs = () => statusOf(fixture!.file)?.run;

    await vscode.commands.executeCommand('backfill.execute', target);
    await waitFor(() => statusOf(fixture!.file)?.state === 'finished', 'the first run', 30_000);
    const first = runs();
    const sent = posted(fixture.server).length;
    assert.equal(sent, 10);

    await vscode.commands.executeCommand('backfill.execute', target);
    assert.match(question, /already (succeeded|below-threshold) on \d+ \w+ \d{4}, \d\d:\d\d UTC/);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.equal(posted(fixture.server).length, sent, 'leaving it sends nothing');
    assert.equal(runs(), first);

    choice = 'restart';
    await vscode.commands.executeCommand('backfill.execute', target);
    await waitFor(
      () => runs() !== first && statusOf(fixture!.file)?.state === 'finished',
      'the new run',
      30_000,
    );
    await waitFor(
      () => cell.executionSummary?.success !== undefined && posted(fixture!.server).length === 2 * sent,
      'all sent again',
    );
  });
});
