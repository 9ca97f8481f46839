// Run in Production… (and Execute…, which never writes to production): nothing reaches the target without the typed confirmation and every gate.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { readAttempts } from '../../../src/core/ledger/attempts';
import { stateDirFor } from '../../../src/core/ledger/statePaths';
import { confirmationAction } from '../../../src/extension/prompts';
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
  progressOf,
  waitFor,
  type Fixture,
} from './support';

const SIGN_OFF = [
  'orders-service-owner-agrees-to-the-window-and-50-requests-pe',
  'support-knows-customers-will-receive-a-second-confirmation',
];

describe('Run in Production…', () => {
  let fixture: Fixture | undefined;
  let prompts: vscode.Disposable | undefined;
  afterEach(async () => {
    prompts?.dispose();
    await cleanUp(fixture);
    fixture = undefined;
  });

  /** Run in Production… on small-batch, refused by the checklist gate and recorded so: the cell and its text. */
  async function checklistRefusal(
    notebook: vscode.NotebookDocument,
  ): Promise<{ cell: vscode.NotebookCell; text: string }> {
    await vscode.commands.executeCommand('backfill.runInProduction', {
      notebookUri: notebook.uri.toString(),
      cell: 'small-batch',
    });
    const cell = cellById(notebook, 'small-batch');
    await waitFor(() => cell.outputs.length > 0, 'the refusal');
    assert.match(outputText(cell), /Refused by the checklist gate/);
    const [attempt] = readAttempts(stateDirFor(fixture!.file));
    assert.deepEqual([attempt?.outcome, attempt?.gate], ['refused', 'checklist']);
    return { cell, text: outputText(cell) };
  }

  async function productionRunbook(): Promise<vscode.NotebookDocument> {
    fixture = await demoFixture();
    const notebook = await openRunbook(fixture.uri);
    assert.ok(
      await vscode.commands.executeCommand('backfill.selectEnvironment', {
        notebookUri: notebook.uri.toString(),
        environment: 'production',
      }),
    );
    return notebook;
  }

  it('is refused by the checklist gate while required items are unchecked, and sends nothing', async () => {
    const notebook = await productionRunbook();
    let asked = false;
    prompts = await answer({
      confirmRun: async () => ((asked = true), true),
      typeRunbookName: async (name) => name,
    });
    const { cell, text } = await checklistRefusal(notebook);
    assert.match(text, /Orders service owner agrees/);
    assert.equal(cell.executionSummary?.success, undefined, 'a refusal is not a failed run: no ✗');
    assert.equal(asked, false, 'no confirmation is asked for a run a gate refuses');
    assert.equal(fixture!.server.received.length, 0);
  });

  it('is refused by the checklist gate when the plan changed after the sign-offs, and the checklist says they no longer hold', async () => {
    const notebook = await productionRunbook();
    let asked = false;
    prompts = await answer({
      confirmRun: async () => ((asked = true), true),
      typeRunbookName: async (name) => name,
    });
    await signOffRequiredItems(notebook);
    // The job changes after the stakeholders signed: 50 requests per second becomes 80.
    const job = cellById(notebook, 'orders');
    const text = job.document.getText();
    assert.match(text, /rate: 50\n/);
    const edit = new vscode.WorkspaceEdit();
    edit.replace(
      job.document.uri,
      new vscode.Range(0, 0, job.document.lineCount, 0),
      text.replace('rate: 50\n', 'rate: 80\n'),
    );
    assert.ok(await vscode.workspace.applyEdit(edit));
    assert.ok(await notebook.save());

    const refused = (await checklistRefusal(notebook)).text;
    assert.match(refused, /the job definitions changed since: \S.* signs it again \(backfill sign /);
    assert.equal(asked, false, 'no confirmation is asked for a run a gate refuses');

    const checklist = cellById(notebook, 'sign-off');
    await executeCell(checklist);
    await waitFor(() => outputJson(checklist, MIME.checklist) !== undefined, 'the checklist');
    const items = outputJson<{ items: { checked?: unknown; problem?: string }[] }>(
      checklist,
      MIME.checklist,
    )!.items;
    assert.deepEqual(
      items
        .slice(0, 2)
        .map((item) => [
          item.checked !== undefined,
          /the job definitions changed since/.test(item.problem ?? ''),
        ]),
      [
        [true, true],
        [true, true],
      ],
    );
    assert.equal(fixture!.server.received.length, 0);
  });

  it('Execute… on a production environment is refused, names Run in Production…, and sends nothing', async () => {
    const notebook = await productionRunbook();
    let asked = false;
    prompts = await answer({ confirmRun: async () => ((asked = true), true) });
    await vscode.commands.executeCommand('backfill.execute', {
      notebookUri: notebook.uri.toString(),
      cell: 'small-batch',
    });
    const cell = cellById(notebook, 'small-batch');
    await waitFor(() => cell.outputs.length > 0, 'the refusal');
    assert.match(outputText(cell), /Execute… does not run in production/);
    assert.match(outputText(cell), /Use Run in Production… on cell small-batch/);
    assert.equal(cell.executionSummary?.success, undefined, 'a refusal is not a failed run: no ✗');
    assert.deepEqual(
      readAttempts(stateDirFor(fixture!.file)).map((a) => [a.outcome, a.gate, a.production]),
      [['refused', 'mode', true]],
    );
    assert.equal(asked, false, 'no confirmation is asked');
    assert.equal(fixture!.server.received.length, 0);
  });

  it('Run in Production… on a non-production environment is refused, names Execute…, and sends nothing', async () => {
    fixture = await demoFixture();
    const notebook = await openRunbook(fixture.uri);
    let asked = false;
    prompts = await answer({ confirmRun: async () => ((asked = true), true) });
    await vscode.commands.executeCommand('backfill.runInProduction', {
      notebookUri: notebook.uri.toString(),
      cell: 'small-batch',
    });
    const cell = cellById(notebook, 'small-batch');
    await waitFor(() => cell.outputs.length > 0, 'the refusal');
    assert.match(outputText(cell), /Run in Production… is for production environments/);
    assert.match(outputText(cell), /Use Execute… to run cell small-batch for real in local/);
    assert.equal(cell.executionSummary?.success, undefined);
    assert.deepEqual(
      readAttempts(stateDirFor(fixture.file)).map((a) => [a.outcome, a.gate, a.production]),
      [['refused', 'mode', false]],
    );
    assert.equal(asked, false, 'no confirmation is asked');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.equal(fixture.server.received.length, 0);
  });

  it("names the confirmation's button for what it starts: a verification is verified, not run", () => {
    assert.equal(confirmationAction({ production: true, verification: true }), 'Verify in Production');
    assert.equal(confirmationAction({ production: false, verification: true }), 'Verify');
    assert.equal(confirmationAction({ production: true }), 'Run in Production');
    assert.equal(confirmationAction({ production: false }), 'Execute');
  });

  it('without the runbook name typed, starts nothing and sends nothing', async () => {
    const notebook = await productionRunbook();
    let shown: { records: number | undefined; target: string; production: boolean } | undefined;
    prompts = await answer({
      confirmRun: async (run) => ((shown = run), true),
      typeRunbookName: async () => undefined,
    });
    await signOffRequiredItems(notebook);
    await vscode.commands.executeCommand('backfill.runInProduction', {
      notebookUri: notebook.uri.toString(),
      cell: 'small-batch',
    });
    const cell = cellById(notebook, 'small-batch');
    const stateDir = stateDirFor(fixture!.file);
    await waitFor(() => readAttempts(stateDir).length > 0, 'the cancel to be recorded', 30_000);
    assert.equal(readAttempts(stateDir)[0]!.gate, 'typed-name');
    assert.equal(cell.outputs.length, 0, 'a cancel leaves the cell as it was');
    assert.equal(cell.executionSummary?.success, undefined, 'a cancel is not a failed run: no ✗');
    // The modal showed the dry run's figures first.
    assert.equal(shown?.production, true);
    assert.equal(shown?.records, 10);
    assert.match(shown!.target, /^POST http:\/\/127\.0\.0\.1:\d+\/orders\/\$\{record:order_id\}\/resend$/);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.equal(fixture!.server.received.length, 0);
    assert.ok(!fs.existsSync(`${stateDirFor(fixture!.file)}/status.json`), 'no runner started');
  });

  it("a refusal by the runner once launched is a notice: the cell's earlier outputs stay, no ✗, the attempt is recorded", async () => {
    const notebook = await productionRunbook();
    // The data changes between the confirmation's dry run and the runner's own gate: the runner refuses.
    prompts = await answer({
      typeRunbookName: async (name) => {
        const late = 'ORD-199999,late@example.com,1.50,USD,Late Order\n';
        fs.appendFileSync(path.join(fixture!.dir, 'data/orders.csv'), late);
        return name;
      },
    });
    await signOffRequiredItems(notebook);
    const cell = cellById(notebook, 'small-batch');
    await executeCell(cell);
    await waitFor(() => outputJson(cell, MIME.dryRun) !== undefined, 'the dry-run preview', 60_000);
    await vscode.commands.executeCommand('backfill.runInProduction', {
      notebookUri: notebook.uri.toString(),
      cell: 'small-batch',
    });
    await waitFor(() => /Refused by the dry-run gate/.test(outputText(cell)), 'the refusal', 60_000);
    assert.ok(outputJson(cell, MIME.dryRun), 'the dry-run preview the cell showed is still there');
    assert.notEqual(cell.executionSummary?.success, false, 'a refusal is not a failed run: no ✗');
    const attempts = readAttempts(stateDirFor(fixture!.file));
    assert.deepEqual(
      attempts.map((a) => [a.outcome, a.gate, a.production]),
      [['refused', 'dry-run', true]],
    );
    assert.match(attempts[0]!.reason, /source data changed/);
    assert.equal(fixture!.server.received.length, 0);
  });

  it('with the name typed and the gates satisfied, runs in production and the cell shows the result', async () => {
    const notebook = await productionRunbook();
    prompts = await answer({ typeRunbookName: async (name) => name });
    await signOffRequiredItems(notebook);
    await vscode.commands.executeCommand('backfill.runInProduction', {
      notebookUri: notebook.uri.toString(),
      cell: 'small-batch',
    });
    const cell = cellById(notebook, 'small-batch');
    await waitFor(() => cell.executionSummary?.success !== undefined, 'the run to end', 60_000);
    // The first ten records include malformed rows, which count against the threshold: the cell says so.
    const status = progressOf(cell)!;
    assert.equal(status.mode, 'production');
    assert.equal(status.state, 'finished');
    assert.equal(cell.executionSummary?.success, status.outcome === 'succeeded', outputText(cell));
    assert.equal(new Set(fixture!.server.received.map((r) => r.url)).size, 10);
    assert.ok(
      fixture!.server.received.every((r) => r.headers.authorization === 'Bearer test-token-6f1c2a9d84'),
    );
    await notebook.save();
    assert.match(
      fs.readFileSync(fixture!.file, 'utf8'),
      /```result for=small-batch\noutcome: [a-z-]+\n[\s\S]*?mode: production\n/,
    );
  });
});

/** Signs off the demo's required checklist items from the editor, as their owners would. */
async function signOffRequiredItems(notebook: vscode.NotebookDocument): Promise<void> {
  for (const item of SIGN_OFF) {
    await vscode.commands.executeCommand('backfill.toggleChecklistItem', {
      notebookUri: notebook.uri.toString(),
      cell: 'sign-off',
      item,
    });
  }
}
