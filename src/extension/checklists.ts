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
 * right away — unless the runbook has unsaved changes of the user's, which are never saved behind their
 * back (typed before the toggle, or while it asked who signs and recorded the sign-off): then it stays
 * dirty and says so.
 */
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { checklistItems, toggleChecklistItem, type SignOffMark } from '../core/format/checklistEdit';
import { checklistItemId } from '../core/format/runbook';
import { recordSignOffEverywhere, signOffsRecordedEverywhere } from '../core/ledger/signOffLedgers';
import { signOffInCell } from '../core/signoff/signOff';
import { signOffProblems } from '../core/signoff/signOffGate';
import type { ChecklistItem } from '../core/format/schemas';
import { UserError } from '../core/model/types';
import type { SignOff } from '../core/model/runs';
import { planHash } from '../core/signoff/signOffPlan';
import { Disposable } from './disposable';
import { whoIsActing } from './identity';
import {
  cellId,
  cellKind,
  notebookText,
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

/**
 * The outputs ▶ shows for a checklist cell (and how many sign-offs do not hold): its items, each
 * sign-off marked as holding or not. The core says which do not hold and why (a hand-typed, copied or
 * stale one: signOffGate.ts), against the sign-offs recorded where the editor and `backfill sign` record
 * them; the renderer only shows it.
 */
export async function checklistOutputFor(
  cell: vscode.NotebookCell,
  secrets: Pick<RunbookSecrets, 'knownValuesFor'>,
): Promise<{ outputs: vscode.NotebookCellOutput[]; ok: boolean; unheld: number }> {
  const read = checklistItems(cell.document.getText());
  if (!read.ok) return { outputs: [errorOutput('Invalid checklist', read.reason)], ok: false, unheld: 0 };
  const id = cellId(cell) ?? '';
  const unheld = await unheldSignOffs(cell.notebook, id, secrets);
  return {
    outputs: [checklistOutput(checklistView(id, read.items, checklistItemId, unheld))],
    ok: true,
    unheld: unheld.size,
  };
}

/** Why each checked item of checklist `checklistId` does not hold, by item id (what to do included). */
async function unheldSignOffs(
  notebook: vscode.NotebookDocument,
  checklistId: string,
  secrets: Pick<RunbookSecrets, 'knownValuesFor'>,
): Promise<Map<string, string>> {
  const { runbook, text } = parseNotebook(notebook);
  if (!runbook) return new Map();
  const recorded =
    notebook.uri.scheme === 'file'
      ? await signOffsRecordedEverywhere(runbook, (environment) => secrets.knownValuesFor(text, environment))
      : undefined;
  return new Map(
    signOffProblems(runbook, recorded, { optionalItems: true })
      .filter((problem) => problem.checklist === checklistId && problem.kind !== 'unchecked')
      .map((problem) => [problem.item, problem.message]),
  );
}

/** One item in the Check or Uncheck quick pick: a sign-off that does not hold is not shown as checked. */
function pickItemOf(item: ChecklistItem, problem: string | undefined) {
  const icon = problem ? '$(warning)' : item.checked ? '$(pass-filled)' : '$(circle-large-outline)';
  const detail = problem
    ? `does not hold: ${problem} — pick it to sign it again`
    : item.checked
      ? `checked by ${item.checked.by} at ${item.checked.at}`
      : undefined;
  return {
    id: checklistItemId(item),
    label: `${icon} ${item.item}`,
    description: `${item.owner}${item.required ? ' · required' : ''}`,
    ...(detail ? { detail } : {}),
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
    // A sign-off that does not hold (stale, typed by hand) is shown as such and signed again, not unchecked.
    const unheld = await unheldSignOffs(notebook, id, this.s.secrets);
    const item =
      (argument as ToggleArguments | undefined)?.item ??
      (await this.s.prompts.pick(
        read.items.map((i) => pickItemOf(i, unheld.get(checklistItemId(i)))),
        'Check or uncheck an item',
      ));
    if (!item) return undefined;

    const resign = unheld.has(item);
    const mark = await this.signOffMark(notebook, id, item, resign);
    if (!mark) return undefined;
    const toggled = resign
      ? signedAgain(cell.document.getText(), item, mark)
      : toggleChecklistItem(cell.document.getText(), item, mark);
    if (!toggled.ok) return fail(toggled.reason);
    // Judged here, not when the toggle began: the questions above (who signs, the owner's warning) take
    // as long as the user likes, and what they type meanwhile is theirs to save.
    const hadNoOtherChanges = matchesDisk(notebook);
    const edit = new vscode.WorkspaceEdit();
    const whole = new vscode.Range(0, 0, cell.document.lineCount, 0);
    edit.replace(cell.document.uri, whole, toggled.text);
    if (!(await vscode.workspace.applyEdit(edit))) return fail('the checklist cell could not be edited');
    const edited = notebookText(notebook).text;

    if (notebook.uri.scheme === 'file') {
      const signOff = { checklist: id, item, by: mark.by, at: mark.at, checked: toggled.checked };
      await this.record(notebook, signOff);
    }
    // Recording (a PostgreSQL ledger included) takes a while too: saved only if nothing else changed since.
    if (hadNoOtherChanges && notebookText(notebook).text === edited) {
      await notebook.save();
    } else {
      void vscode.window.showInformationMessage(
        `Backfill: "${toggled.item.item}" ${toggled.checked ? 'checked' : 'unchecked'} and recorded in the ledger. ` +
          'Save the runbook to record it in the file (it has other unsaved changes).',
      );
    }
    const current = cell.index >= 0 && !notebook.isClosed ? cell : undefined;
    if (current) {
      const { outputs, ok } = await checklistOutputFor(current, this.s.secrets);
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
    resign: boolean,
  ): Promise<SignOffMark | undefined> {
    const mark: SignOffMark = { by: await whoIsActing(notebook), at: new Date().toISOString() };
    const { runbook } = parseNotebook(notebook);
    const cell = runbook?.cells.find((c) => c.kind === 'checklist' && c.id === checklistId);
    const item =
      cell?.kind === 'checklist' ? cell.spec.find((i) => checklistItemId(i) === itemId) : undefined;
    if (!runbook || cell?.kind !== 'checklist' || !item) {
      return fail('fix the problems shown in the runbook first: a sign-off records the plan it approves');
    }
    if (item.checked && !resign) return mark; // unchecking
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

/**
 * Whether saving the notebook now would write the file as it is on disk: no unsaved change of the user's
 * (read from the text, not `isDirty`, whose update reaches the extension host after the edit itself).
 */
function matchesDisk(notebook: vscode.NotebookDocument): boolean {
  if (notebook.uri.scheme !== 'file') return !notebook.isDirty;
  try {
    return fs.readFileSync(notebook.uri.fsPath, 'utf8') === notebookText(notebook).text;
  } catch {
    return false;
  }
}

function fail(reason: string): undefined {
  void vscode.window.showErrorMessage(`Backfill: ${reason}`);
  return undefined;
}

/** The cell's YAML with the item signed off again by `mark` (the core's replacement of a sign-off). */
function signedAgain(
  text: string,
  item: string,
  mark: SignOffMark,
): { ok: true; text: string; checked: true; item: ChecklistItem } | { ok: false; reason: string } {
  try {
    const signed = signOffInCell(text, item, mark);
    const read = checklistItems(signed);
    const found = read.ok ? read.items.find((i) => checklistItemId(i) === item) : undefined;
    return found
      ? { ok: true, text: signed, checked: true, item: found }
      : { ok: false, reason: `no item ${item}` };
  } catch (error) {
    if (error instanceof UserError) return { ok: false, reason: error.message };
    throw error;
  }
}
