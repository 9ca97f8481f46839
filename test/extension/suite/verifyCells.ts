// ▶ on a verify cell checks each record's end state (it only reads) and shows what is not right.
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import {
  answer,
  cellById,
  cleanUp,
  demoFixture,
  executeCell,
  MIME,
  openRunbook,
  outputJson,
  outputText,
  posted,
  statusOf,
  waitFor,
  type Fixture,
} from './support';
import type { Choice } from '../../../src/extension/prompts';

const VERIFY_FIRST_20 = (text: string) =>
  text.replace(
    '```verify id=check\njob: orders\n',
    '```verify id=check\njob: orders\nsubset:\n  first: 20\n',
  );

describe('verify cells', () => {
  let fixture: Fixture | undefined;
  let prompts: vscode.Disposable | undefined;
  afterEach(async () => {
    prompts?.dispose();
    await cleanUp(fixture);
    fixture = undefined;
  });

  it('verifies the records and lists the ones that are not right, sending no write', async () => {
    fixture = await demoFixture(VERIFY_FIRST_20);
    prompts = await answer();
    const notebook = await openRunbook(fixture.uri);
    // Re-send the first ten orders for real (local environment), then verify the first twenty.
    await vscode.commands.executeCommand('backfill.execute', {
      notebookUri: notebook.uri.toString(),
      cell: 'small-batch',
    });
    const batch = cellById(notebook, 'small-batch');
    await waitFor(() => batch.executionSummary?.success !== undefined, 'the small batch', 60_000);
    const writes = fixture.server.received.filter((r) => r.method === 'POST').length;

    const check = cellById(notebook, 'check');
    await executeCell(check);
    await waitFor(() => check.executionSummary?.success !== undefined, 'the verification', 60_000);
    const payload = outputJson<{
      counts: Record<string, number>;
      samples: { key: string; status: string }[];
    }>(check, 'application/vnd.backfill.verify+json');
    assert.ok(payload, outputText(check));
    assert.equal(payload.counts.verified, 10);
    assert.equal(payload.counts.mismatch, 10);
    assert.equal(payload.samples.length, 10);
    assert.ok(payload.samples.every((s) => s.status === 'mismatch'));
    assert.equal(check.executionSummary?.success, false);
    assert.equal(fixture.server.received.filter((r) => r.method === 'POST').length, writes, 'no write');

    // Saved and opened again: the cell shows the verification as the same table, its counts from the
    // file and the records that are not right from the ledger — not a text record.
    await notebook.save();
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    const reopened = await openRunbook(fixture.uri);
    const again = cellById(reopened, 'check');
    const shown = () =>
      outputJson<{ counts: Record<string, number>; samples: { key: string }[] }>(again, MIME.verify);
    await waitFor(() => shown()?.samples.length === 10, 'the reopened table with its records', 30_000);
    assert.deepEqual(shown()!.counts, payload.counts);
    assert.deepEqual(
      shown()!.samples.map((s) => s.key),
      payload.samples.map((s) => s.key),
    );
    assert.equal(again.outputs.length, 1, 'one output: the table');
  });

  it('re-sends exactly the unverified records, offered after "Leave it" when a finished cell runs again', async () => {
    const lost = new Set(['ORD-100003', 'ORD-100007', 'ORD-100015']);
    fixture = await demoFixture((text) => VERIFY_FIRST_20(text).replace(/^ {2}rate: 50$/m, '  rate: 1000'), {
      losesFirstResendOf: (id) => lost.has(id),
    });
    let offered: Choice[] = [];
    prompts = await answer({ pick: async (choices) => ((offered = choices), 'unverified') });
    const notebook = await openRunbook(fixture.uri);
    const target = { notebookUri: notebook.uri.toString(), cell: 'full' };
    await vscode.commands.executeCommand('backfill.execute', target);
    await waitFor(() => statusOf(fixture!.file)?.state === 'finished', 'the full run', 60_000);

    const check = cellById(notebook, 'check');
    await executeCell(check);
    await waitFor(() => check.executionSummary?.success !== undefined, 'the verification', 60_000);
    const counts = () =>
      outputJson<{ counts: Record<string, number> }>(check, 'application/vnd.backfill.verify+json')?.counts;
    assert.deepEqual([counts()?.verified, counts()?.mismatch], [17, 3], outputText(check));

    const before = posted(fixture.server).length;
    await vscode.commands.executeCommand('backfill.execute', target);
    assert.deepEqual(offered.map((choice) => [choice.id, choice.label]).slice(0, 2), [
      ['cancel', 'Leave it'],
      ['unverified', 'Re-send the 3 unverified records'],
    ]);
    await waitFor(() => posted(fixture!.server).length >= before + lost.size, 'the re-send', 30_000);
    await waitFor(() => statusOf(fixture!.file)?.state === 'finished', 'the re-send to finish', 30_000);
    assert.deepEqual(new Set(posted(fixture.server).slice(before)), lost, 'the three gaps, nothing else');

    await executeCell(check);
    await waitFor(() => counts()?.verified === 20, 'the verification to find every record right', 60_000);
  });
});
