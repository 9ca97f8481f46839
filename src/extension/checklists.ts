/**
 * Checklist cells: ▶ shows their items; checking one (Backfill: Check or Uncheck a Checklist Item, or a
 * click in the rendered checklist) edits the cell's YAML — `checked: { by, at }` added or removed, every
 * other byte kept — and records the sign-off where `backfill sign` does, with the same core function
 * (core/ledger/signOffLedgers.ts): beside the runbook, and in each production environment's PostgreSQL
 * ledger, so a production run on another host finds it. A sign-off records the plan it approves
 * (core/signoff/signOffPlan.ts); signing an item someone else owns asks first. `by` is `backfill.checklists.signOffAs`, else
 * `git config user.name` in the runbook's folder, else the OS user; `at` is the current time (ISO 8601).
 *
 * A sign-off is a record and the production gate reads it from the file, so a toggle saves the runbook
 * right away — unless the runbook already had unsaved changes of the user's, which are never saved
 * behind their back: then it stays dirty and says so.
 */
import * as vscode from 'vscode';
import { checklistItems, toggleChecklistItem, type SignOffMark } from '../core/format/checklistEdit';
import { checklistItemId } from '../core/format/runbook';
import { recordSignOffEverywhere } from '../core/ledger/signOffLedgers';
import type { SignOff } from '../core/model/runs';
import { planHash } from '../core/signoff/signOffPlan';
import { Disposable } from './disposable';
import { whoIsActing } from './identity';
import {
  cellId,
  cellKind,
  parseNotebook,
  resolveCell,
  resolveNotebook,
  type CellReference,
} from './notebookDocument';
import { checklistOutput, checklistView, errorOutput } from './outputs';
import type { Prompts } from './prompts';
import type { RunbookSecrets } from './secrets';
import { ensureTrusted } from './workspaceTrust';

export const RENDERER_ID = 'backfill-renderer';

export interface ToggleArguments extends CellReference {
  item?: string;
}

export interface ChecklistServices {
  prompts: Prompts;
  /** The secrets a production environment's PostgreSQL ledger needs, known without asking. */
  secrets: Pick<RunbookSecrets, 'knownValuesFor'>;
  showOutputs(
    cell: vscode.NotebookCell,
    outputs: vscode.NotebookCellOutput[],
    success: boolean,
  ): Promise<boolean>;
}

/** The outputs ▶ shows for a checklist cell. */
export function checklistOutputFor(cell: vscode.NotebookCell): {
  outputs: vscode.NotebookCellOutput[];
  ok: boolean;
} {
  const read = checklistItems(cell.document.getText());
  if (!read.ok) return { outputs: [errorOutput('Invalid checklist', read.reason)], ok: false };
  return {
    outputs: [checklistOutput(checklistView(cellId(cell) ?? '', read.items, checklistItemId))],
    ok: true,
  };
}

export class Checklists extends Disposable {
  constructor(private readonly s: ChecklistServices) {
    super();
    this._register(
      vscode.commands.registerCommand('backfill.toggleChecklistItem', (argument?: unknown) =>
        this.toggle(argument),
      ),
    );
    const messaging = vscode.notebooks.createRendererMessaging(RENDERER_ID);
    this._register(
      messaging.onDidReceiveMessage(({ editor, message }) => this.onMessage(editor.notebook, message)),
    );
  }

  /** Checks or unchecks one item; returns whether it is checked now (undefined when nothing changed). */
  async toggle(argument?: unknown): Promise<boolean | undefined> {
    if (!ensureTrusted()) return undefined;
    const notebook = await resolveNotebook(argument);
    if (!notebook) return fail('open a runbook to check its checklist items');
    let cell = resolveCell(notebook, argument);
    if (!cell || cellKind(cell) !== 'checklist') cell = await this.pickChecklist(notebook);
    if (!cell) return undefined;
    const id = cellId(cell)!;
    const read = checklistItems(cell.document.getText());
    if (!read.ok) return fail(read.reason);
    const item =
      (argument as ToggleArguments | undefined)?.item ??
      (await this.s.prompts.pick(
        read.items.map((i) => ({
          id: checklistItemId(i),
          label: `${i.checked ? '$(pass-filled)' : '$(circle-large-outline)'} ${i.item}`,
          description: `${i.owner}${i.required ? ' · required' : ''}`,
          ...(i.checked ? { detail: `checked by ${i.checked.by} at ${i.checked.at}` } : {}),
        })),
        'Check or uncheck an item',
      ));
    if (!item) return undefined;

    const wasDirty = notebook.isDirty;
    const mark = await this.signOffMark(notebook, id, item);
    if (!mark) return undefined;
    const toggled = toggleChecklistItem(cell.document.getText(), item, mark);
    if (!toggled.ok) return fail(toggled.reason);
    const edit = new vscode.WorkspaceEdit();
    const whole = new vscode.Range(0, 0, cell.document.lineCount, 0);
    edit.replace(cell.document.uri, whole, toggled.text);
    if (!(await vscode.workspace.applyEdit(edit))) return fail('the checklist cell could not be edited');

    if (notebook.uri.scheme === 'file') {
      const signOff = { checklist: id, item, by: mark.by, at: mark.at, checked: toggled.checked };
      await this.record(notebook, signOff);
    }
    if (!wasDirty) {
      await notebook.save();
    } else {
      void vscode.window.showInformationMessage(
        `Backfill: "${toggled.item.item}" ${toggled.checked ? 'checked' : 'unchecked'} and recorded in the ledger. ` +
          'Save the runbook to record it in the file (it has other unsaved changes).',
      );
    }
    const current = cell.index >= 0 && !notebook.isClosed ? cell : undefined;
    if (current) {
      const { outputs, ok } = checklistOutputFor(current);
      await this.s.showOutputs(current, outputs, ok);
    }
    return toggled.checked;
  }

  /**
   * Who signs, when, and the plan the sign-off approves (a sign-off without it does not open the
   * production gate). Signing an item someone else owns asks first. Undefined: nothing to sign.
   */
  private async signOffMark(
    notebook: vscode.NotebookDocument,
    checklistId: string,
    itemId: string,
  ): Promise<SignOffMark | undefined> {
    const mark: SignOffMark = { by: await whoIsActing(notebook), at: new Date().toISOString() };
    const { runbook } = parseNotebook(notebook);
    const cell = runbook?.cells.find((c) => c.kind === 'checklist' && c.id === checklistId);
    const item =
      cell?.kind === 'checklist' ? cell.spec.find((i) => checklistItemId(i) === itemId) : undefined;
    if (!runbook || cell?.kind !== 'checklist' || !item) {
      return fail('fix the problems shown in the runbook first: a sign-off records the plan it approves');
    }
    if (item.checked) return mark; // unchecking
    if (runbook.header.requireSignedSignOffs) {
      return fail(
        `this runbook requires signed sign-offs: sign with your SSH key from a terminal: ` +
          `backfill sign ${notebook.uri.fsPath} --item ${itemId} --key ~/.ssh/id_ed25519`,
      );
    }
    if (item.owner !== mark.by && !(await this.s.prompts.confirmSignOffFor(item.item, item.owner, mark.by))) {
      return undefined;
    }
    return { ...mark, plan: planHash(runbook, cell, { item: itemId, by: mark.by }) };
  }

  /**
   * Records the sign-off where `backfill sign` records it (the same core function): beside the runbook,
   * and in each production environment's PostgreSQL ledger, with the secrets the editor knows.
   */
  private async record(notebook: vscode.NotebookDocument, signOff: SignOff): Promise<void> {
    const { runbook, text } = parseNotebook(notebook);
    if (!runbook) return;
    const warnings = await recordSignOffEverywhere(runbook, signOff, (environment) =>
      this.s.secrets.knownValuesFor(text, environment),
    );
    for (const warning of warnings) void vscode.window.showWarningMessage(`Backfill: ${warning}`);
  }

  private onMessage(notebook: vscode.NotebookDocument, message: unknown): void {
    const m = message as { type?: string; cell?: unknown; item?: unknown } | undefined;
    if (m?.type !== 'toggleChecklistItem' || typeof m.cell !== 'string' || typeof m.item !== 'string') return;
    void this.toggle({ notebookUri: notebook.uri, cell: m.cell, item: m.item });
  }

  private async pickChecklist(notebook: vscode.NotebookDocument): Promise<vscode.NotebookCell | undefined> {
    const cells = notebook.getCells().filter((c) => cellKind(c) === 'checklist');
    if (cells.length <= 1) return cells[0] ?? fail('this runbook has no checklist cell');
    const picked = await this.s.prompts.pick(
      cells.map((c) => ({ id: cellId(c)!, label: cellId(c)! })),
      'Which checklist?',
    );
    return cells.find((c) => cellId(c) === picked);
  }
}

function fail(reason: string): undefined {
  void vscode.window.showErrorMessage(`Backfill: ${reason}`);
  return undefined;
}
