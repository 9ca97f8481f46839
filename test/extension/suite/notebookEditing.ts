// The runbook as a notebook: cells from the file, the file back from the cells, problems as you type.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { cellById, cleanUp, demoFixture, extensionApi, openRunbook, waitFor, type Fixture } from './support';

describe('a .backfill runbook in the notebook editor', () => {
  let fixture: Fixture | undefined;
  afterEach(async () => {
    await cleanUp(fixture);
    fixture = undefined;
  });

  it('opens as notes, a YAML header and one YAML cell per fenced cell, results riding with their cell', async () => {
    fixture = await demoFixture();
    const notebook = await openRunbook(fixture.uri);
    const code = notebook.getCells().filter((c) => c.kind === vscode.NotebookCellKind.Code);
    assert.deepEqual(
      code.map((c) => (c.metadata as { backfill: { kind: string } }).backfill.kind),
      ['header', 'job', 'checklist', 'dry-run', 'execute', 'execute', 'verify'],
    );
    assert.ok(code.every((c) => c.document.languageId === 'yaml'));
    assert.ok(notebook.getCells().some((c) => c.kind === vscode.NotebookCellKind.Markup));
    assert.equal(cellById(notebook, 'preview').document.getText().split('\n')[0], 'job: orders');
  });

  it('saves an edited then restored runbook byte for byte', async () => {
    fixture = await demoFixture();
    const before = fs.readFileSync(fixture.file, 'utf8');
    const notebook = await openRunbook(fixture.uri);
    const cell = cellById(notebook, 'full');
    const edit = new vscode.WorkspaceEdit();
    edit.insert(cell.document.uri, new vscode.Position(0, 0), '# a comment\n');
    await vscode.workspace.applyEdit(edit);
    const undo = new vscode.WorkspaceEdit();
    undo.delete(cell.document.uri, new vscode.Range(0, 0, 1, 0));
    await vscode.workspace.applyEdit(undo);
    assert.ok(notebook.isDirty);
    assert.ok(await notebook.save());
    assert.equal(fs.readFileSync(fixture.file, 'utf8'), before);
  });

  it('saves edits made after another environment is chosen (the toolbar label changes with it)', async () => {
    fixture = await demoFixture();
    const notebook = await openRunbook(fixture.uri);
    for (const [environment, comment] of [
      ['production', '# edited on production'],
      ['local', '# edited on local'],
    ] as const) {
      await vscode.commands.executeCommand('backfill.selectEnvironment', {
        notebookUri: notebook.uri.toString(),
        environment,
      });
      const cell = cellById(notebook, 'full');
      const edit = new vscode.WorkspaceEdit();
      edit.insert(cell.document.uri, new vscode.Position(0, 0), `${comment}\n`);
      await vscode.workspace.applyEdit(edit);
      assert.ok(await notebook.save(), `saved after choosing ${environment}`);
      assert.match(fs.readFileSync(fixture.file, 'utf8'), new RegExp(`\`\`\`execute id=full\n${comment}\n`));
    }
  });

  it('completes the fields a cell takes and explains a field on hover', async () => {
    fixture = await demoFixture();
    const notebook = await openRunbook(fixture.uri);
    const cell = cellById(notebook, 'small-batch');
    const labels = async (line: number, character: number) => {
      const list = await vscode.commands.executeCommand<vscode.CompletionList>(
        'vscode.executeCompletionItemProvider',
        cell.document.uri,
        new vscode.Position(line, character),
      );
      return list.items.map((item) => (typeof item.label === 'string' ? item.label : item.label.label));
    };
    const edit = new vscode.WorkspaceEdit();
    edit.insert(cell.document.uri, new vscode.Position(cell.document.lineCount, 0), '\n');
    await vscode.workspace.applyEdit(edit);
    const top = await labels(cell.document.lineCount - 1, 0);
    assert.ok(top.includes('errorBudget') && top.includes('successThreshold'), top.join(', '));
    const throttle = await labels(4, 2); // "  rate: 5", inside throttle:
    assert.ok(throttle.includes('concurrency') && throttle.includes('retryOn'), throttle.join(', '));
    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>(
      'vscode.executeHoverProvider',
      cell.document.uri,
      new vscode.Position(4, 3),
    );
    const text = hovers
      .flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : c.value)))
      .join('\n');
    assert.match(text, /Records per second, never exceeded/);
  });

  it('creates a new runbook from the template and opens it as a notebook without problems', async () => {
    fixture = await demoFixture();
    const api = await extensionApi();
    const uri = vscode.Uri.file(`${fixture.dir}/resend-invoices.backfill`);
    const notebook = await vscode.commands.executeCommand<vscode.NotebookDocument>(
      'backfill.newRunbook',
      uri,
    );
    assert.equal(notebook.notebookType, 'backfill');
    assert.match(fs.readFileSync(uri.fsPath, 'utf8'), /^---\ntitle: .*\nname: resend-invoices\n/);
    const kinds = notebook
      .getCells()
      .map((c) => (c.metadata as { backfill?: { kind: string } }).backfill?.kind)
      .filter((k) => k !== 'notes');
    assert.deepEqual(kinds, ['header', 'job', 'checklist', 'dry-run', 'execute', 'execute', 'verify']);
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.deepEqual(
      notebook.getCells().flatMap((c) => api.diagnostics(c.document.uri)),
      [],
    );
  });

  it('shows a schema error at its line, naming the cell, and its quick fix clears it', async () => {
    fixture = await demoFixture();
    const api = await extensionApi();
    const notebook = await openRunbook(fixture.uri);
    const cell = cellById(notebook, 'small-batch');
    const edit = new vscode.WorkspaceEdit();
    edit.replace(cell.document.uri, cell.document.lineAt(4).range, '  rate: 5\n  concurency: 2');
    await vscode.workspace.applyEdit(edit);
    await waitFor(() => api.diagnostics(cell.document.uri).length > 0, 'a diagnostic');
    const [diagnostic] = api.diagnostics(cell.document.uri);
    assert.equal(diagnostic!.range.start.line, 5);
    // The Problems panel shows the notebook and a line: the message names the cell.
    assert.equal(
      diagnostic!.message,
      'cell small-batch: throttle.concurency: unknown field "concurency": did you mean "concurrency"?',
    );
    // The light bulb's fixes (the window computes them only for a cell it has drawn; the provider is
    // asked directly), applied as the editor applies one.
    const actions = api.quickFixes(cell.document);
    const fix = actions.find((action) => action.title === 'Change "concurency" to "concurrency"');
    assert.ok(fix?.edit, actions.map((action) => action.title).join(', '));
    await vscode.workspace.applyEdit(fix.edit);
    assert.equal(cell.document.lineAt(5).text, '  concurrency: 2');
    await waitFor(() => api.diagnostics(cell.document.uri).length === 0, 'the diagnostic to clear');
  });
});
