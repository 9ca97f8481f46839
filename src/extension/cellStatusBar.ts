/**
 * Under each YAML cell: what it is (kind and id — the fence line the editor does not show), its last
 * result as the runbook records it, and for execute cells the way to a real run.
 */
import * as vscode from 'vscode';
import { cellsToRunbook } from '../core/format/notebookCells';
import { readResultBody } from '../core/format/resultBlock';
import { readableTime } from '../core/report/cellRecord';
import { Disposable } from './disposable';
import { runsInProduction } from './environmentIndicator';
import { realRunAction } from './realRunAction';
import type { Environments } from './environments';
import {
  cellMeta,
  cellTexts,
  isRunbook,
  NOTEBOOK_TYPE,
  notebookEol,
  parseNotebook,
} from './notebookDocument';

const ICONS: Record<string, string> = {
  header: '$(file-text)',
  job: '$(symbol-class)',
  checklist: '$(checklist)',
  'dry-run': '$(beaker)',
  execute: '$(zap)',
  verify: '$(pass)',
  result: '$(warning)',
};

export class CellStatusBar extends Disposable implements vscode.NotebookCellStatusBarItemProvider {
  private readonly changed = this._register(new vscode.EventEmitter<void>());
  readonly onDidChangeCellStatusBarItems = this.changed.event;

  constructor(private readonly environments: Environments) {
    super();
    this._register(environments.onDidChange(() => this.changed.fire()));
    this._register(vscode.notebooks.registerNotebookCellStatusBarItemProvider(NOTEBOOK_TYPE, this));
    this._register(
      vscode.workspace.onDidChangeNotebookDocument((event) => {
        if (isRunbook(event.notebook) && event.cellChanges.some((change) => change.metadata))
          this.changed.fire();
      }),
    );
  }

  provideCellStatusBarItems(cell: vscode.NotebookCell): vscode.NotebookCellStatusBarItem[] {
    if (cell.kind !== vscode.NotebookCellKind.Code) return [];
    const meta = cellMeta(cell);
    if (!meta) {
      const kind = cellsToRunbook(cellTexts(cell.notebook), notebookEol(cell.notebook)).metas[cell.index]
        ?.kind;
      return [
        item(`$(circle-outline) new ${kind ?? 'cell'}`, 'Gets its kind and id when the runbook is saved'),
      ];
    }
    if (meta.kind === 'notes' || meta.kind === 'raw') {
      return meta.kind === 'raw'
        ? [item('$(error) not split into cells', 'Fix the problem shown, save, and reopen')]
        : [];
    }
    const id = 'id' in meta ? ` ${meta.id}` : '';
    const items = [item(`${ICONS[meta.kind] ?? ''} ${meta.kind}${id}`, meta.open.trim())];
    if (meta.kind === 'header') items.push(this.environmentItem(cell.notebook));
    if ('result' in meta && meta.result) {
      const result = describeResult(meta.result.body);
      if (result) items.push(item(`last: ${result}`, 'The result recorded in the runbook (result block)'));
    }
    const production = runsInProduction(cell.notebook, this.environments);
    // The header's banner scrolls away: every cell that reads or writes the target says production too.
    if (production && (meta.kind === 'execute' || meta.kind === 'verify' || meta.kind === 'dry-run')) {
      const mark = item(
        '$(warning) PRODUCTION',
        'Runs of this runbook use a production environment; click to choose another',
      );
      mark.command = {
        title: 'Select Environment',
        command: 'backfill.selectEnvironment',
        arguments: [{ notebookUri: cell.notebook.uri.toString() }],
      };
      items.splice(1, 0, mark);
    }
    if (meta.kind === 'execute' && 'id' in meta) {
      // Named for what it does: Run in Production… only where the run would go to production.
      const title = realRunAction(production);
      const run = item(
        `${production ? '$(rocket)' : '$(run-all)'} ${title}`,
        'Dry-run, confirm, then run for real in its own process',
      );
      run.command = {
        title,
        command: production ? 'backfill.runInProduction' : 'backfill.execute',
        arguments: [{ notebookUri: cell.notebook.uri.toString(), cell: meta.id }],
      };
      items.push(run);
    }
    return items;
  }

  private environmentItem(notebook: vscode.NotebookDocument): vscode.NotebookCellStatusBarItem {
    const { runbook } = parseNotebook(notebook);
    let text = '$(server-environment) environment: choose one';
    if (runbook) {
      try {
        const environment = this.environments.resolve(notebook.uri, runbook.header);
        text = `$(server-environment) environment: ${environment.name || '(none declared)'}${environment.production ? ' — PRODUCTION' : ''}`;
      } catch {
        // Every environment is production: one must be chosen explicitly.
      }
    }
    const result = item(text, 'Runs of this runbook use this environment; click to choose another');
    result.command = {
      title: 'Select Environment',
      command: 'backfill.selectEnvironment',
      arguments: [{ notebookUri: notebook.uri.toString() }],
    };
    return result;
  }
}

function item(text: string, tooltip: string): vscode.NotebookCellStatusBarItem {
  const result = new vscode.NotebookCellStatusBarItem(text, vscode.NotebookCellStatusBarAlignment.Left);
  result.tooltip = tooltip;
  return result;
}

/** The result block in a few words — outcome, mode, when — as the core reads it; nothing if it is invalid. */
function describeResult(body: string): string | undefined {
  const result = readResultBody(body);
  if (!result?.outcome) return undefined;
  const when = result.finishedAt ?? result.startedAt;
  return [result.outcome, result.mode, when ? readableTime(when) : undefined].filter(Boolean).join(' · ');
}
