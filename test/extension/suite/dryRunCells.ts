// ▶ is always a dry run: the output items, the ledger, the result summary, and nothing sent.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import type { DryRunReport } from '../../../src/core/dryrun/dryRun';
import { openLedger } from '../../../src/core/ledger/openLedger';
import {
  answer,
  cellById,
  cleanUp,
  demoFixture,
  executeCell,
  filesContaining,
  MIME,
  openRunbook,
  outputJson,
  outputText,
  TOKEN,
  waitFor,
  type Fixture,
} from './support';

describe('running cells with ▶', () => {
  let fixture: Fixture | undefined;
  let prompts: vscode.Disposable | undefined;
  afterEach(async () => {
    prompts?.dispose();
    await cleanUp(fixture);
    fixture = undefined;
  });

  it('dry-runs a dry-run cell: a report output, a result in the cell, the dry run in the ledger, nothing sent', async () => {
    fixture = await demoFixture();
    prompts = await answer();
    const notebook = await openRunbook(fixture.uri);
    const cell = cellById(notebook, 'preview');
    await executeCell(cell);
    await waitFor(() => outputJson(cell, MIME.dryRun) !== undefined, 'the dry-run output', 30_000);

    const report = outputJson<DryRunReport>(cell, MIME.dryRun)!;
    assert.ok(report.counts.total >= 500, `the demo's 500-odd orders were read (${report.counts.total})`);
    assert.ok(report.counts.rejected > 0, 'the demo data has malformed rows');
    assert.equal(
      report.counts.valid + report.counts.rejected + report.counts.duplicates,
      report.counts.total,
    );
    assert.equal(report.passed, true);
    assert.equal(report.preview.length, 4);
    assert.ok(cell.outputs[0]!.items.some((i) => i.mime === 'text/plain'));
    assert.match(outputText(cell), /nothing was sent/);
    assert.equal(cell.executionSummary?.success, true);

    // The secret was used (rendered, redacted) and written nowhere.
    assert.ok(!JSON.stringify(report).includes(TOKEN));
    assert.equal(fixture.server.received.length, 0);

    const ledger = await openLedger(fixture.file);
    try {
      const rows = await ledger.dryRuns('preview');
      assert.equal(rows.length, 1);
      assert.equal(rows[0]!.passed, true);
    } finally {
      await ledger.close();
    }

    // The summary rides in the cell's metadata: the notebook is dirty until saved, then the file has it.
    assert.ok(notebook.isDirty);
    assert.ok(!fs.readFileSync(fixture.file, 'utf8').includes('```result for=preview'));
    await notebook.save();
    const saved = fs.readFileSync(fixture.file, 'utf8');
    assert.match(saved, /```dry-run id=preview\n[\s\S]*?```\n\n```result for=preview\noutcome: passed\n/);
    assert.deepEqual(filesContaining(fixture.dir, TOKEN), []);
  });

  it('Run All stops at the first failing cell and sends nothing', async () => {
    // The preview's threshold of 1 cannot pass with the demo's malformed rows.
    fixture = await demoFixture((text) =>
      text.replace('successThreshold: 0.99\npreview:', 'successThreshold: 1\npreview:'),
    );
    prompts = await answer();
    const notebook = await openRunbook(fixture.uri);
    await vscode.commands.executeCommand('notebook.execute');
    const preview = cellById(notebook, 'preview');
    await waitFor(() => preview.executionSummary?.success === false, 'the preview to fail', 30_000);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.equal(cellById(notebook, 'orders').executionSummary?.success, true);
    assert.equal(cellById(notebook, 'small-batch').outputs.length, 0, 'Run All stopped before small-batch');
    assert.equal(cellById(notebook, 'check').outputs.length, 0);
    assert.equal(fixture.server.received.length, 0);
  });
  it('runs nothing in an environment whose ledger is in PostgreSQL, and says how to run that cell from a terminal', async () => {
    fixture = await demoFixture((text) => {
      const shared = text.replace(
        '  local:\n',
        '  local:\n    ledger: { type: postgres, url: "${secret:LEDGER_URL}" }\n',
      );
      assert.notEqual(shared, text, 'the local environment got a PostgreSQL ledger');
      return shared;
    });
    prompts = await answer();
    const notebook = await openRunbook(fixture.uri);
    const cell = cellById(notebook, 'preview');
    await executeCell(cell);
    await waitFor(() => cell.executionSummary?.success === false, 'the refusal', 30_000);
    assert.match(outputText(cell), /keeps its ledger in PostgreSQL/);
    assert.match(outputText(cell), /backfill dry-run \S+demo\.backfill --cell preview --env local/);
    assert.doesNotMatch(outputText(cell), /--cell ID/);
    assert.equal(fs.existsSync(`${fixture.file}.d`), false, 'no state beside the runbook');
    assert.equal(fixture.server.received.length, 0);
  });
});
