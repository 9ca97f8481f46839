/**
 * The composition root of the VS Code extension: it creates the parts and wires them, nothing more.
 * Everything it creates goes into `context.subscriptions`. Settings are read where they are used.
 *
 * The parts: the notebook serializer (notebookSerializer.ts), the controller that runs cells
 * (controller.ts) and real runs (realRuns.ts) through the bundled CLI (runnerProcess.ts), their live
 * monitors (runMonitor.ts) and status bar item, run controls, checklists, diagnostics, environments,
 * secrets, and the prompts every question goes through (prompts.ts).
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { ExecuteCellsContext } from './cellContext';
import { CellStatusBar } from './cellStatusBar';
import { Checklists } from './checklists';
import { BackfillController } from './controller';
import { RunbookDiagnostics } from './diagnostics';
import { EnvironmentIndicator } from './environmentIndicator';
import { Environments } from './environments';
import { FieldHelp } from './fieldHelp';
import { showLedger } from './ledgerView';
import { newRunbook } from './newRunbook';
import { RunbookNotebooks } from './notebookSerializer';
import { parseNotebook, resolveCell, resolveNotebook } from './notebookDocument';
import { SwitchablePrompts, WindowPrompts, type Prompts } from './prompts';
import { ResendUnverifiedButton } from './resendUnverifiedButton';
import { RunControls } from './runControls';
import { ActiveRuns } from './runMonitor';
import { BundledCli } from './runnerProcess';
import { RunbookSecrets } from './secrets';
import { RunStatusBar } from './statusBar';
import { ensureTrusted } from './workspaceTrust';

/** What the integration tests reach through `activate`'s return value (only in test mode). */
export interface BackfillTestApi {
  /** Answers the given questions instead of showing them, until disposed. */
  setPrompts(overrides: Partial<Prompts>): vscode.Disposable;
  /** Problems of a cell document, as the diagnostics show them. */
  diagnostics(uri: vscode.Uri): readonly vscode.Diagnostic[];
  /** The quick fixes the editor offers for a cell document's problems. */
  quickFixes(document: vscode.TextDocument): vscode.CodeAction[];
}

export function activate(context: vscode.ExtensionContext): BackfillTestApi | undefined {
  const prompts = new SwitchablePrompts(new WindowPrompts());
  const cli = new BundledCli(path.join(context.extensionPath, 'dist', 'cli.js'));
  const runs = new ActiveRuns();
  const environments = new Environments(context.workspaceState, prompts);
  const secrets = new RunbookSecrets(context.secrets, prompts);
  const controller = new BackfillController({
    extensionId: context.extension.id,
    cli,
    runs,
    environments,
    secrets,
    prompts,
  });
  const diagnostics = new RunbookDiagnostics();
  const command = (id: string, handler: (argument?: unknown) => unknown) =>
    vscode.commands.registerCommand(id, handler);

  context.subscriptions.push(
    new RunbookNotebooks(),
    runs,
    environments,
    controller,
    diagnostics,
    new ExecuteCellsContext(),
    new CellStatusBar(environments),
    new EnvironmentIndicator(environments, {
      showBanner: (notebook, banner) => controller.showBanner(notebook, banner),
      setLabel: (label, notebook) => {
        controller.controller.label = label;
        // The toolbar redraws a suggested (not yet selected) controller when its affinity is set, not
        // when its label changes.
        controller.controller.updateNotebookAffinity(notebook, vscode.NotebookControllerAffinity.Preferred);
      },
    }),
    new FieldHelp(),
    new RunStatusBar(runs),
    new RunControls(runs, prompts),
    new Checklists({
      prompts,
      secrets,
      showOutputs: (cell, outputs, success) => controller.showOutputs(cell, outputs, success),
    }),
    command('backfill.newRunbook', (argument) =>
      newRunbook(prompts, argument instanceof vscode.Uri ? argument : undefined),
    ),
    command('backfill.dryRunCell', (argument) => dryRunCell(argument)),
    command('backfill.execute', (argument) => controller.realRuns.execute(argument)),
    command('backfill.runInProduction', (argument) => controller.realRuns.runInProduction(argument)),
    command('backfill.retryFailed', (argument) => controller.realRuns.retryFailed(argument)),
    command('backfill.resendUnverified', (argument) => controller.realRuns.resendUnverified(argument)),
    new ResendUnverifiedButton((argument) => controller.realRuns.resendUnverified(argument)),
    command('backfill.showLedger', (argument) => ensureTrusted() && showLedger(argument, cli, prompts)),
    command('backfill.selectEnvironment', (argument) => selectEnvironment(argument, environments)),
    command('backfill.selectProductionEnvironment', (argument) => selectEnvironment(argument, environments)),
  );

  if (context.extensionMode !== vscode.ExtensionMode.Test) return undefined;
  return {
    setPrompts: (overrides) => prompts.override(overrides),
    diagnostics: (uri) => diagnostics.get(uri),
    quickFixes: (document) => diagnostics.quickFixes(document),
  };
}

export function deactivate(): void {
  // Everything is in context.subscriptions. Runs are separate processes and keep going.
}

/** Dry Run Cell: ▶ on the given or selected cell (the controller performs a dry run). */
async function dryRunCell(argument: unknown): Promise<void> {
  const notebook = await resolveNotebook(argument);
  const cell = notebook && resolveCell(notebook, argument);
  if (!notebook || !cell) {
    void vscode.window.showErrorMessage(
      'Backfill: select a dry-run or execute cell of a runbook to dry-run it.',
    );
    return;
  }
  await vscode.commands.executeCommand('notebook.cell.execute', {
    ranges: [{ start: cell.index, end: cell.index + 1 }],
    document: notebook.uri,
  });
}

async function selectEnvironment(argument: unknown, environments: Environments): Promise<boolean> {
  const notebook = await resolveNotebook(argument);
  if (!notebook) {
    void vscode.window.showErrorMessage('Backfill: open a runbook to choose its environment.');
    return false;
  }
  const { runbook, issues } = parseNotebook(notebook);
  if (!runbook) {
    void vscode.window.showErrorMessage(
      `Backfill: fix the runbook's problems first (${issues[0]?.message ?? 'it does not parse'}).`,
    );
    return false;
  }
  const name = (argument as { environment?: unknown } | undefined)?.environment;
  return environments.select(notebook.uri, runbook.header, typeof name === 'string' ? name : undefined);
}
