// The "already finished — run again?" prompt offers to judge a finished run again once its thresholds
// changed, as the runner does for `backfill run`: nothing is sent, the verdict comes from the ledger.
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { Choice } from '../../../src/extension/prompts';
import { openLedger } from '../../../src/core/ledger/openLedger';
import {
  answer,
  cellById,
  cleanUp,
  demoFixture,
  openRunbook,
  posted,
  statusOf,
  waitFor,
  type Fixture,
} from './support';

describe('judging a finished run again', () => {
  let fixture: Fixture | undefined;
  let prompts: vscode.Disposable | undefined;
  afterEach(async () => {
    prompts?.dispose();
    await cleanUp(fixture);
    fixture = undefined;
  });

  it('offers "Judge it again" after a threshold change, and sends nothing when chosen', async () => {
    fixture = await demoFixture();
    let offered: Choice[] = [];
    prompts = await answer({ pick: async (choices) => ((offered = choices), 'rejudge') });
    const notebook = await openRunbook(fixture.uri);
    const target = { notebookUri: notebook.uri.toString(), cell: 'small-batch' };
    const cell = cellById(notebook, 'small-batch');

    await vscode.commands.executeCommand('backfill.execute', target);
    await waitFor(() => statusOf(fixture!.file)?.state === 'finished', 'the first run', 30_000);
    const first = statusOf(fixture.file)!;
    const sent = posted(fixture.server).length;
    assert.ok(sent > 0);

    // Unchanged thresholds: no such choice.
    await vscode.commands.executeCommand('backfill.execute', { ...target });
    assert.ok(offered.length > 0, 'the prompt was shown');
    assert.ok(!offered.some((choice) => choice.id === 'rejudge'), JSON.stringify(offered));
    assert.equal(statusOf(fixture.file)!.run, first.run);

    const edit = new vscode.WorkspaceEdit();
    const text = cell.document.getText();
    const at = text.indexOf('successThreshold: 0.99');
    assert.ok(at >= 0, text);
    edit.replace(
      cell.document.uri,
      new vscode.Range(
        cell.document.positionAt(at),
        cell.document.positionAt(at + 'successThreshold: 0.99'.length),
      ),
      'successThreshold: 0.5',
    );
    assert.ok(await vscode.workspace.applyEdit(edit));
    assert.ok(await notebook.save());

    offered = [];
    await vscode.commands.executeCommand('backfill.execute', { ...target });
    const rejudge = offered.find((choice) => choice.id === 'rejudge');
    assert.ok(rejudge, JSON.stringify(offered));
    assert.match(rejudge.description ?? '', /successThreshold 0\.5 \(was 0\.99\); nothing is sent/);
    await waitFor(
      () => statusOf(fixture!.file)?.run !== first.run && statusOf(fixture!.file)?.state === 'finished',
      'the run judged again',
      30_000,
    );
    assert.equal(statusOf(fixture.file)!.outcome, 'succeeded');
    assert.equal(statusOf(fixture.file)!.chain, first.chain, 'the same chain, judged again');
    assert.equal(posted(fixture.server).length, sent, 'nothing was sent');
    const ledger = await openLedger(fixture.file);
    try {
      const [latest] = await ledger.runs('small-batch');
      assert.equal(JSON.parse(latest!.params).rejudge, true);
    } finally {
      await ledger.close();
    }
  });
});
