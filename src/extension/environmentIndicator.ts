/**
 * Production is unmistakable. The environment of the active runbook is always on screen:
 *
 * - in the status bar (`$(warning) PRODUCTION: name` on the warning colour, or in it where a high
 *   contrast theme has none: productionColors.ts; click to choose another);
 * - in the notebook toolbar, as the Backfill controller's label (`Backfill · local`,
 *   `Backfill · ⚠ PRODUCTION: production`), and a $(warning) PRODUCTION button while it is a production
 *   one (the `backfill.activeRunbookInProduction` context key; menu titles are static). The label is set
 *   only when it changes (an environment chosen, another runbook active), never on each edit: updating
 *   the controller on every change of a notebook made its next save fail in code-server 4.96;
 * - as a banner output on the header cell while the environment is a production one;
 * - on execute cells, whose real-run action is named for what it does: Execute… on a non-production
 *   environment, Run in Production… only on a production one (the `backfill.productionCells` context key).
 */
import * as vscode from 'vscode';
import type { ResolvedEnvironment } from '../core/job/environment';
import { Disposable } from './disposable';
import type { Environments } from './environments';
import { cellKind, isRunbook, parseNotebook } from './notebookDocument';
import { PLAIN_STATUS, productionStatusColors } from './productionColors';

/** What a runbook's runs would use now: an environment, or none chosen yet where one must be. */
export type EnvironmentState = { environment: ResolvedEnvironment } | { unchosen: true };

export function environmentOf(
  notebook: vscode.NotebookDocument,
  environments: Environments,
): EnvironmentState | undefined {
  const { runbook } = parseNotebook(notebook);
  if (!runbook) return undefined;
  try {
    return { environment: environments.resolve(notebook.uri, runbook.header) };
  } catch {
    return { unchosen: true }; // Every environment is production: one must be chosen explicitly.
  }
}

/** Whether a real run of this runbook would go to production (or must first choose a production one). */
export function runsInProduction(notebook: vscode.NotebookDocument, environments: Environments): boolean {
  const state = environmentOf(notebook, environments);
  return state !== undefined && ('unchosen' in state || state.environment.production);
}

/** Where the environment is shown besides the status bar: the header's banner and the toolbar's label. */
export interface EnvironmentHost {
  /** Shows (or, given undefined, removes) the banner output on the runbook's header cell. */
  showBanner(notebook: vscode.NotebookDocument, banner: vscode.NotebookCellOutput | undefined): Promise<void>;
  /** The Backfill controller's label, which the toolbar of `notebook` (the active one) shows. */
  setLabel(label: string, notebook: vscode.NotebookDocument): void;
}

export class EnvironmentIndicator extends Disposable {
  private readonly item = this._register(
    vscode.window.createStatusBarItem('backfill.environment', vscode.StatusBarAlignment.Left, 60),
  );

  private label: string | undefined;

  constructor(
    private readonly environments: Environments,
    private readonly host: EnvironmentHost,
  ) {
    super();
    this.item.name = 'Backfill environment';
    this._register(environments.onDidChange(() => this.update(true)));
    this._register(vscode.window.onDidChangeActiveNotebookEditor(() => this.update(true)));
    this._register(vscode.window.onDidChangeActiveColorTheme(() => this.update(false)));
    this._register(vscode.workspace.onDidOpenNotebookDocument(() => this.update(false)));
    this._register(vscode.workspace.onDidCloseNotebookDocument(() => this.update(false)));
    this._register(
      vscode.workspace.onDidChangeNotebookDocument((event) => {
        if (event.contentChanges.length > 0 || event.cellChanges.some((c) => c.metadata)) this.update(false);
      }),
    );
    this.update(true);
  }

  private update(banner: boolean): void {
    this.updateContext();
    const notebook = vscode.window.activeNotebookEditor?.notebook;
    if (!notebook || !isRunbook(notebook)) {
      this.item.hide();
      void vscode.commands.executeCommand('setContext', 'backfill.activeRunbookInProduction', false);
      return;
    }
    const state = environmentOf(notebook, this.environments);
    const name = state && 'environment' in state ? state.environment.name || '(default)' : undefined;
    const production = state !== undefined && 'environment' in state && state.environment.production;
    this.item.text = production
      ? `$(warning) PRODUCTION: ${name}`
      : `$(server-environment) ${name ?? 'choose an environment'}`;
    const colors = production ? productionStatusColors() : PLAIN_STATUS;
    this.item.backgroundColor = colors.backgroundColor;
    this.item.color = colors.color;
    this.item.tooltip = production
      ? `Runs of this runbook write to PRODUCTION (${name}). Click to choose another environment.`
      : 'Environment of runs of this runbook. Click to choose another.';
    this.item.command = {
      title: 'Select Environment',
      command: 'backfill.selectEnvironment',
      arguments: [{ notebookUri: notebook.uri.toString() }],
    };
    this.item.show();
    void vscode.commands.executeCommand('setContext', 'backfill.activeRunbookInProduction', production);
    const label = production
      ? `Backfill · ⚠ PRODUCTION: ${name}`
      : `Backfill · ${name ?? 'choose an environment'}`;
    if (label !== this.label) this.host.setLabel((this.label = label), notebook);
    if (banner) void this.host.showBanner(notebook, production ? productionBanner(name!) : undefined);
  }

  /** The execute cells whose real run goes to production: they show Run in Production…, others Execute…. */
  private updateContext(): void {
    const cells = vscode.workspace.notebookDocuments
      .filter(isRunbook)
      .filter((notebook) => runsInProduction(notebook, this.environments))
      .flatMap((notebook) => notebook.getCells())
      .filter((cell) => cellKind(cell) === 'execute')
      .map((cell) => cell.document.uri);
    void vscode.commands.executeCommand('setContext', 'backfill.productionCells', cells);
  }
}

export function productionBanner(name: string): vscode.NotebookCellOutput {
  const text = `PRODUCTION — environment ${name}: real runs of this runbook write to production.`;
  const html =
    '<div role="alert" style="padding:8px 12px;border:2px solid var(--vscode-editorWarning-foreground);' +
    'background:var(--vscode-inputValidation-warningBackground);color:var(--vscode-foreground);' +
    `font-weight:600;white-space:normal">⚠ ${escapeHtml(text)}</div>`;
  return new vscode.NotebookCellOutput([
    vscode.NotebookCellOutputItem.text(html, 'text/html'),
    vscode.NotebookCellOutputItem.text(text),
  ]);
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
}
