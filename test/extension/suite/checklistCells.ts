// Checking a checklist item: the cell's YAML, the file, the ledger.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { openLedger } from '../../../src/core/ledger/openLedger';
import { postgresUnavailable, startPostgres } from '../../support/postgresServer.mjs';
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
  waitFor,
  type Fixture,
} from './support';

interface ChecklistPayload {
  cell: string;
  items: { id: string; required: boolean; checked?: { by: string; at: string }; problem?: string }[];
}

describe('checklist cells', () => {
  let fixture: Fixture | undefined;
  let prompts: vscode.Disposable | undefined;
  afterEach(async () => {
    prompts?.dispose();
    await cleanUp(fixture);
    fixture = undefined;
  });

  it('renders the items of a checklist cell with ▶', async () => {
    fixture = await demoFixture();
    prompts = await answer();
    const notebook = await openRunbook(fixture.uri);
    const cell = cellById(notebook, 'sign-off');
    await executeCell(cell);
    await waitFor(() => outputJson(cell, MIME.checklist) !== undefined, 'the checklist output');
    const payload = outputJson<ChecklistPayload>(cell, MIME.checklist)!;
    assert.equal(payload.cell, 'sign-off');
    assert.deepEqual(
      payload.items.map((i) => [i.required, i.checked]),
      [
        [true, undefined],
        [true, undefined],
        [false, undefined],
      ],
    );
  });

  it('persists a checked item to the file and records the sign-off in the ledger; unchecking removes it', async () => {
    fixture = await demoFixture();
    prompts = await answer();
    const notebook = await openRunbook(fixture.uri);
    const before = fs.readFileSync(fixture.file, 'utf8');
    const item = 'orders-service-owner-agrees-to-the-window-and-50-requests-pe';
    const args = { notebookUri: notebook.uri.toString(), cell: 'sign-off', item };

    const checked = await vscode.commands.executeCommand<boolean>('backfill.toggleChecklistItem', args);
    assert.equal(checked, true);
    // Saved at once, with no save by the test. The save resolves before the editor's clean state reaches
    // the extension host (a separate message), which under load arrived after this line: wait for the
    // file and the clean state rather than reading them in the same tick.
    const file = fixture.file;
    await waitFor(
      () => fs.readFileSync(file, 'utf8') !== before && !notebook.isDirty,
      'a toggle on a saved runbook to be saved at once',
    );
    const after = fs.readFileSync(fixture.file, 'utf8');
    const line =
      /\n {2}required: true\n {2}checked: \{ by: "([^"]+)", at: "([^"]+)", plan: "(?:[0-9a-f]{12}-){3}[0-9a-f]{12}" \}\n- item: Support knows/.exec(
        after,
      );
    assert.ok(line, after);
    assert.ok(!Number.isNaN(Date.parse(line[2]!)));
    // Only the one line changed.
    assert.equal(after.replace(/ {2}checked: \{[^\n]*\}\n/, ''), before);

    const payload = outputJson<ChecklistPayload>(cellById(notebook, 'sign-off'), MIME.checklist);
    assert.equal(payload?.items[0]?.checked?.by, line[1]);

    const ledger = await openLedger(fixture.file);
    try {
      const signOffs = await ledger.signOffs('sign-off');
      assert.equal(signOffs.length, 1);
      assert.deepEqual([signOffs[0]!.item, signOffs[0]!.by, signOffs[0]!.checked], [item, line[1], true]);
    } finally {
      await ledger.close();
    }

    assert.equal(await vscode.commands.executeCommand('backfill.toggleChecklistItem', args), false);
    await waitFor(
      () => fs.readFileSync(file, 'utf8') === before && !notebook.isDirty,
      'the uncheck to be saved, every byte as before',
    );
  });

  it('shows a sign-off typed by hand as not holding, with why and what to do; checking it signs it again', async () => {
    const item = 'orders-service-owner-agrees-to-the-window-and-50-requests-pe';
    fixture = await demoFixture((text) =>
      text.replace(
        '  owner: Grace Hopper\n  required: true\n',
        '  owner: Grace Hopper\n  required: true\n  checked: { by: "Grace Hopper", at: "2026-12-06T10:00:00.000Z" }\n',
      ),
    );
    prompts = await answer();
    const notebook = await openRunbook(fixture.uri);
    const cell = cellById(notebook, 'sign-off');
    const problem = () => outputJson<ChecklistPayload>(cell, MIME.checklist)?.items[0]?.problem;
    // Judged on opening already, then by ▶.
    await waitFor(() => problem() !== undefined, 'the typed sign-off judged on opening');
    await executeCell(cell);
    await waitFor(() => outputJson(cell, MIME.checklist) !== undefined, 'the checklist output');
    const typed = outputJson<ChecklistPayload>(cell, MIME.checklist)!.items[0]!;
    assert.equal(typed.checked?.by, 'Grace Hopper');
    assert.match(
      typed.problem ?? '',
      /demo\.backfill:\d+: checklist sign-off: item orders-service-owner-agrees-to-the-window-and-50-requests-pe: the sign-off by Grace Hopper records no plan \(typed by hand\?\), so it approves nothing: backfill sign \S+demo\.backfill --item orders-service-owner/,
    );
    assert.match(outputText(cell), /^☐ Orders service owner agrees .*, but it does not hold: /m);

    // Checking it from the quick pick, which shows it as not holding, signs it again (it is not
    // unchecked): bound to the plan, recorded, holding.
    let offered: { label: string; detail?: string }[] = [];
    prompts = await answer({ pick: async (choices) => ((offered = choices), item) });
    const args = { notebookUri: notebook.uri.toString(), cell: 'sign-off' };
    assert.equal(await vscode.commands.executeCommand<boolean>('backfill.toggleChecklistItem', args), true);
    assert.match(offered[0]?.label ?? '', /^\$\(warning\) Orders service owner agrees/);
    assert.match(offered[0]?.detail ?? '', /^does not hold: .*typed by hand.* — pick it to sign it again$/);
    const file = fixture.file;
    await waitFor(
      () => /checked: \{ by: "[^"]+", at: "[^"]+", plan: "/.test(fs.readFileSync(file, 'utf8')),
      'signed again',
    );
    await waitFor(
      () => outputJson<ChecklistPayload>(cell, MIME.checklist)?.items[0]?.problem === undefined,
      'the sign-off to hold',
    );
    assert.notEqual(outputJson<ChecklistPayload>(cell, MIME.checklist)?.items[0]?.checked, undefined);
    assert.doesNotMatch(fs.readFileSync(file, 'utf8'), /2026-12-06T10:00:00\.000Z/, 'the typed one is gone');
  });

  it("records a sign-off where backfill sign does: in the production environment's PostgreSQL ledger too", async function () {
    if (postgresUnavailable()) this.skip();
    const database = await startPostgres({ password: 'editor-signoff-CANARY-8d2k' });
    process.env.LEDGER_URL = database.url;
    try {
      fixture = await demoFixture((text) => {
        const shared = text.replace(
          '  production:\n    production: true\n',
          '  production:\n    production: true\n    ledger: { type: postgres, url: "${secret:LEDGER_URL}" }\n',
        );
        assert.notEqual(shared, text, 'the production environment got a PostgreSQL ledger');
        return shared;
      });
      prompts = await answer();
      const notebook = await openRunbook(fixture.uri);
      const item = 'orders-service-owner-agrees-to-the-window-and-50-requests-pe';
      const args = { notebookUri: notebook.uri.toString(), cell: 'sign-off', item };
      assert.equal(await vscode.commands.executeCommand<boolean>('backfill.toggleChecklistItem', args), true);
      const file = fixture.file;
      await waitFor(
        () => /checked: \{ by: "/.test(fs.readFileSync(file, 'utf8')),
        'the sign-off in the file',
      );
      const [, by, at] = /checked: \{ by: "([^"]+)", at: "([^"]+)"/.exec(fs.readFileSync(file, 'utf8'))!;
      const stored = await database.query<{ item: string; signed_by: string; at: string; checked: number }>(
        "SELECT item, signed_by, at, checked FROM backfill.signoffs WHERE ledger = 'resend-order-confirmations'",
      );
      assert.deepEqual(
        stored.map((row) => [row.item, row.signed_by, new Date(row.at).toISOString(), Number(row.checked)]),
        [[item, by, at, 1]],
        'a production run on another host finds the sign-off in its ledger',
      );
    } finally {
      delete process.env.LEDGER_URL;
      await database.stop();
    }
  });

  it('warns before signing an item someone else owns, and signs nothing when told no', async () => {
    fixture = await demoFixture();
    const asked: string[][] = [];
    prompts = await answer({
      confirmSignOffFor: async (item, owner, signer) => {
        asked.push([item, owner, signer]);
        return false;
      },
    });
    await vscode.workspace
      .getConfiguration('backfill.checklists')
      .update('signOffAs', 'Mallory', vscode.ConfigurationTarget.Global);
    try {
      const notebook = await openRunbook(fixture.uri);
      const before = fs.readFileSync(fixture.file, 'utf8');
      const item = 'orders-service-owner-agrees-to-the-window-and-50-requests-pe';
      const args = { notebookUri: notebook.uri.toString(), cell: 'sign-off', item };
      const result = await vscode.commands.executeCommand('backfill.toggleChecklistItem', args);
      assert.equal(result, undefined);
      assert.deepEqual(asked, [
        ['Orders service owner agrees to the window and 50 requests per second', 'Grace Hopper', 'Mallory'],
      ]);
      assert.equal(fs.readFileSync(fixture.file, 'utf8'), before, 'nothing signed');
      assert.equal(notebook.isDirty, false);
    } finally {
      await vscode.workspace
        .getConfiguration('backfill.checklists')
        .update('signOffAs', undefined, vscode.ConfigurationTarget.Global);
    }
  });

  it('never saves an edit typed in another cell while the sign-off was being asked for', async () => {
    fixture = await demoFixture();
    const notebook = await openRunbook(fixture.uri);
    const before = fs.readFileSync(fixture.file, 'utf8');
    // Valid YAML: a typo would make the runbook invalid, and the toggle then records nothing to compare.
    const typed = '# slow down if the mail queue';
    // The owner's warning stays open as long as the user likes; the user types in another cell meanwhile.
    prompts = await answer({
      confirmSignOffFor: async () => {
        const cell = cellById(notebook, 'small-batch');
        const edit = new vscode.WorkspaceEdit();
        edit.insert(cell.document.uri, new vscode.Position(0, 0), `${typed}\n`);
        assert.ok(await vscode.workspace.applyEdit(edit));
        return true;
      },
    });
    await vscode.workspace
      .getConfiguration('backfill.checklists')
      .update('signOffAs', 'Mallory', vscode.ConfigurationTarget.Global);
    try {
      const item = 'orders-service-owner-agrees-to-the-window-and-50-requests-pe';
      const args = { notebookUri: notebook.uri.toString(), cell: 'sign-off', item };
      assert.equal(await vscode.commands.executeCommand('backfill.toggleChecklistItem', args), true);
      // Recorded in the ledger and in the cell, not in the file: saving is the user's, with their edit.
      const ledger = await openLedger(fixture.file);
      try {
        assert.equal((await ledger.signOffs('sign-off')).length, 1);
      } finally {
        await ledger.close();
      }
      assert.match(cellById(notebook, 'sign-off').document.getText(), /checked: \{ by: "Mallory"/);
      assert.ok(notebook.isDirty);
      assert.equal(fs.readFileSync(fixture.file, 'utf8'), before, 'the file is as it was, byte for byte');
      assert.ok(await notebook.save());
      const saved = fs.readFileSync(fixture.file, 'utf8');
      assert.ok(saved.includes(typed) && saved.includes('checked: { by: "Mallory"'), saved);
    } finally {
      await vscode.workspace
        .getConfiguration('backfill.checklists')
        .update('signOffAs', undefined, vscode.ConfigurationTarget.Global);
    }
  });

  it('records one identity: a sign-off and a dry run name the same person (the setting, else git, else the OS user)', async () => {
    const config = () => vscode.workspace.getConfiguration('backfill');
    await config().update('checklists.signOffAs', 'Ada Lovelace', vscode.ConfigurationTarget.Global);
    try {
      fixture = await demoFixture();
      prompts = await answer();
      const notebook = await openRunbook(fixture.uri);
      await signAndDryRun(notebook);
      await notebook.save();
      const text = fs.readFileSync(fixture.file, 'utf8');
      assert.match(text, /checked: \{ by: "Ada Lovelace"/);
      assert.match(text, /```result for=preview\n[\s\S]*?operator: "?Ada Lovelace"?\n/);
    } finally {
      await config().update('checklists.signOffAs', undefined, vscode.ConfigurationTarget.Global);
    }
  });

  it('without the setting, git’s user.name in the runbook’s folder signs and runs: the command line’s rule', async () => {
    const variable = process.env.BACKFILL_OPERATOR;
    delete process.env.BACKFILL_OPERATOR;
    try {
      fixture = await demoFixture();
      execFileSync('git', ['init', '-q', fixture.dir]);
      execFileSync('git', ['config', 'user.name', 'Rosalind Franklin'], { cwd: fixture.dir });
      prompts = await answer();
      const notebook = await openRunbook(fixture.uri);
      await signAndDryRun(notebook);
      const ledger = await openLedger(fixture.file);
      try {
        assert.deepEqual(
          [
            (await ledger.signOffs('sign-off')).map((signOff) => signOff.by),
            (await ledger.dryRuns('preview')).map((dryRun) => dryRun.operator),
          ],
          [['Rosalind Franklin'], ['Rosalind Franklin']],
        );
      } finally {
        await ledger.close();
      }
    } finally {
      if (variable !== undefined) process.env.BACKFILL_OPERATOR = variable;
    }
  });
});

/** Signs the first item of the demo's checklist off, then dry-runs its preview cell. */
async function signAndDryRun(notebook: vscode.NotebookDocument): Promise<void> {
  await vscode.commands.executeCommand('backfill.toggleChecklistItem', {
    notebookUri: notebook.uri.toString(),
    cell: 'sign-off',
    item: 'orders-service-owner-agrees-to-the-window-and-50-requests-pe',
  });
  const preview = cellById(notebook, 'preview');
  await executeCell(preview);
  await waitFor(() => outputJson(preview, MIME.dryRun) !== undefined, 'the dry run', 30_000);
}
