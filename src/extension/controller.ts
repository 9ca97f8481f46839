/**
 * The `backfill-controller` notebook controller. ▶ never writes anything:
 *
 * - a dry-run or execute cell → a dry run (the bundled CLI; it reads every record, sends nothing);
 * - a checklist cell → its items, checkable (see checklists.ts);
 * - a verify cell → a verification, which only reads (realRuns.ts);
 * - the header and job cells → their problems, if any.
 *
 * Run All runs the cells in order and stops at the first that fails. It skips verify cells: a
 * verification reads every record from the target and loads it, which Run All (documented as safe) must
 * not start unasked; ▶ on the verify cell runs it. Real runs start only from Execute… / Run in
 * Production… (realRuns.ts); this controller shows them: it attaches a cell execution to the run's
 * monitor, and re-attaches when a runbook whose run is live is opened again. A verify cell opened again
 * shows its recorded verification as the table a live one ends with: the file gives the counts
 * (cellRecords.ts), the ledger the records that are not right.
 */
import * as vscode from 'vscode';
import type { DryRunReport } from '../core/dryrun/dryRunReport';
import { cellsToRunbook, cellAtLine } from '../core/format/notebookCells';
import { readResultBody } from '../core/format/resultBlock';
import { isDryRunBody } from '../core/format/resultSlots';
import type { Ledger } from '../core/ledger/ledger';
import { openLedger } from '../core/ledger/openLedger';
import { formatIssue } from '../core/model/issues';
import { resultOfDryRun } from '../core/run/cellResult';
import { markedAsRecord, RECORD_OUTPUT, recordedVerification, recordOutputs } from './cellRecords';
import { setCellResult } from './cellResults';
import { checklistOutputFor } from './checklists';
import { Disposable } from './disposable';
import { endNote } from './endNote';
import { FleetMonitor } from './fleetMonitor';
import type { Environments } from './environments';
import {
  cellId,
  cellKind,
  cellMeta,
  cellTexts,
  findCell,
  isRunbook,
  NOTEBOOK_TYPE,
  notebookEol,
  notebookText,
  parseNotebook,
} from './notebookDocument';
import { dryRunOutput, errorOutput, MIME, textOutput, withNotice } from './outputs';
import type { Prompts } from './prompts';
import { RealRuns } from './realRuns';
import { RunAttachment } from './runAttachment';
import type { ActiveRuns, LiveRun } from './runMonitor';
import { concludeRun } from './runOutcome';
import type { Cli } from './runnerProcess';
import { isNotReady, prepareRun } from './runPreparation';
import { redactorForRun, type RunbookSecrets } from './secrets';
import { sharedLedgerOf, type SharedLedger } from './sharedLedger';
import { verifyOutput, verifyPayloadFromLedger } from './verifyOutput';
import { UNTRUSTED_MESSAGE } from './workspaceTrust';
import type { Redactor } from '../core/secrets/secrets';

export const CONTROLLER_ID = 'backfill-controller';
const BANNER = 'backfillBanner';

export interface ControllerServices {
  extensionId: string;
  cli: Cli;
  runs: ActiveRuns;
  environments: Environments;
  secrets: RunbookSecrets;
  prompts: Prompts;
}

export class BackfillController extends Disposable {
  readonly controller: vscode.NotebookController;
  readonly realRuns: RealRuns;
  /** Cells showing a live run, by `notebook uri#cell id`. */
  private readonly attachments = new Map<string, RunAttachment>();
  /** Cells whose execution is being created (selecting the controller can take a moment). */
  private readonly attaching = new Set<string>();
  /** Notebooks this controller is selected for: only those can show executions. */
  private readonly selected = new Set<string>();
  /** Looks for a runbook's live fleet in the database under way, by runbook file. */
  private readonly fleetLookups = new Map<string, Promise<LiveRun | undefined>>();
  /** Recorded verifications and dry runs already rebuilt from the ledger, by `notebook uri#cell id#run id`. */
  private readonly recordsShown = new Set<string>();

  constructor(private readonly s: ControllerServices) {
    super();
    this.controller = this._register(
      vscode.notebooks.createNotebookController(CONTROLLER_ID, NOTEBOOK_TYPE, 'Backfill'),
    );
    this.controller.supportedLanguages = ['yaml'];
    this.controller.supportsExecutionOrder = false;
    this.controller.description =
      '▶ dry-runs (sends nothing); real runs only through Execute… / Run in Production…';
    this.controller.executeHandler = (cells) => this.execute(cells);
    this.realRuns = new RealRuns({
      ...s,
      attach: (cell, monitor, prepared) => this.attach(cell, monitor, prepared.redactor),
      showOutputs: (cell, outputs, success) => this.showOutputs(cell, outputs, success),
      showNotice: (cell, notice) => this.showNotice(cell, notice),
    });
    this._register(
      this.controller.onDidChangeSelectedNotebooks(({ notebook, selected }) => {
        if (selected) this.selected.add(notebook.uri.toString());
        else this.selected.delete(notebook.uri.toString());
        if (selected) this.reattach(notebook);
      }),
    );
    this._register(vscode.workspace.onDidOpenNotebookDocument((notebook) => this.reattach(notebook)));
    this._register(
      vscode.window.onDidChangeVisibleNotebookEditors((editors) =>
        editors.forEach((e) => this.reattach(e.notebook)),
      ),
    );
    this._register(
      vscode.window.onDidChangeActiveNotebookEditor((editor) => editor && this.reattach(editor.notebook)),
    );
    this._register(vscode.workspace.onDidCloseNotebookDocument((notebook) => this.detachAll(notebook)));
    this._register({ dispose: () => [...this.attachments.values()].forEach((a) => a.detach()) });
    for (const notebook of vscode.workspace.notebookDocuments) this.reattach(notebook);
  }

  /**
   * Replaces a cell's outputs through a short execution (a refusal, a re-rendered checklist); false when
   * the cell cannot show them (its run is showing, or the controller is not selected for it).
   */
  async showOutputs(
    cell: vscode.NotebookCell,
    outputs: vscode.NotebookCellOutput[],
    success: boolean,
  ): Promise<boolean> {
    if (this.attachments.has(keyOf(cell))) return false;
    const execution = await this.createExecution(cell);
    if (!execution) return false;
    execution.start(Date.now());
    await execution.replaceOutput(outputs);
    execution.end(success, Date.now());
    return true;
  }

  /**
   * Adds a notice (a refusal, a skipped cell) under the cell's outputs, replacing an earlier notice and
   * keeping everything else — the record of a real run above all. The execution ends with no verdict:
   * a refusal or a skip is not a failed run, so the cell gets no ✗.
   */
  async showNotice(cell: vscode.NotebookCell, notice: vscode.NotebookCellOutput): Promise<boolean> {
    if (this.attachments.has(keyOf(cell))) return false;
    const execution = await this.createExecution(cell);
    if (!execution) return false;
    execution.start(Date.now());
    await execution.replaceOutput(withNotice(cell.outputs, notice));
    execution.end(undefined, Date.now());
    return true;
  }

  /** The production banner on the header cell (see environmentIndicator.ts); no verdict, no ✗. */
  async showBanner(
    notebook: vscode.NotebookDocument,
    banner: vscode.NotebookCellOutput | undefined,
  ): Promise<void> {
    const header = notebook.cellCount > 0 ? notebook.cellAt(0) : undefined;
    // Also before any cell ran: createExecution selects this controller for the active notebook.
    if (!header || cellKind(header) !== 'header') return;
    const had = header.outputs.some((output) => output.metadata?.[BANNER] === true);
    if (!banner && !had) return;
    const kept = header.outputs.filter((output) => output.metadata?.[BANNER] !== true);
    const execution = await this.createExecution(header);
    if (!execution) return;
    execution.start(Date.now());
    const marked = banner && new vscode.NotebookCellOutput(banner.items, { [BANNER]: true });
    await execution.replaceOutput(marked ? [marked, ...kept] : kept);
    execution.end(undefined, Date.now());
  }

  /**
   * Shows a live run in its cell until it ends; resolves with its success, or undefined when the cell
   * could not show it (the run goes on regardless) or was detached.
   */
  async attach(
    cell: vscode.NotebookCell,
    monitor: LiveRun,
    redactor: Redactor,
  ): Promise<boolean | undefined> {
    const key = keyOf(cell);
    if (this.attachments.has(key) || this.attaching.has(key)) return undefined;
    this.attaching.add(key);
    let execution: vscode.NotebookCellExecution | undefined;
    try {
      execution = await this.createExecution(cell);
    } finally {
      this.attaching.delete(key);
    }
    if (!execution) {
      void vscode.window.showInformationMessage(
        `Backfill: cell ${monitor.cell} is running in its own process; select the Backfill controller to watch it.`,
      );
      return undefined;
    }
    let success: boolean | undefined;
    const attachment = new RunAttachment(execution, monitor, cell, redactor, async (end, endedCell) => {
      const concluded = await concludeRun(end, endedCell, monitor, redactor);
      success = 'notice' in concluded ? false : concluded.success;
      return concluded;
    });
    this.attachments.set(key, attachment);
    return new Promise((resolve) =>
      attachment.onDidDetach(() => {
        if (this.attachments.get(key) === attachment) this.attachments.delete(key);
        // A fleet is read from its database only while a notebook shows it; reopening finds it again.
        if (monitor.followsOnlyWhileShown && !monitor.ended) this.s.runs.forget(monitor);
        resolve(success);
      }),
    );
  }

  private async execute(cells: vscode.NotebookCell[]): Promise<void> {
    if (!vscode.workspace.isTrusted) {
      if (cells[0])
        await this.showOutputs(cells[0], [errorOutput('Workspace not trusted', UNTRUSTED_MESSAGE)], false);
      return;
    }
    const skipped: string[] = [];
    for (const cell of cells) {
      if (this.attachments.has(keyOf(cell))) continue;
      if (cells.length > 1 && this.kindOf(cell) === 'verify') {
        skipped.push(cellId(cell) ?? `#${cell.index + 1}`);
        continue;
      }
      // Run All stops at the first cell that fails.
      if (!(await this.executeCell(cell))) break;
    }
    if (skipped.length > 0) {
      vscode.window.setStatusBarMessage(
        `Backfill: Run All skipped verify cell${skipped.length > 1 ? 's' : ''} ${skipped.join(', ')} (a verification reads the target); press ▶ on the cell to verify.`,
        15_000,
      );
    }
  }

  private kindOf(cell: vscode.NotebookCell) {
    // A cell added in the editor gets its kind when the runbook is saved; until then, what it would get.
    return (
      cellKind(cell) ??
      cellsToRunbook(cellTexts(cell.notebook), notebookEol(cell.notebook)).metas[cell.index]?.kind
    );
  }

  private async executeCell(cell: vscode.NotebookCell): Promise<boolean> {
    const kind = this.kindOf(cell);
    try {
      switch (kind) {
        case 'dry-run':
        case 'execute':
          return await this.dryRun(cell);
        case 'checklist':
          return await this.run(cell, () => checklistOutputFor(cell, this.s.secrets));
        case 'verify':
          return await this.realRuns.verify(cell);
        default:
          return await this.run(cell, async () => this.problemsOf(cell));
      }
    } catch (error) {
      await this.showOutputs(
        cell,
        [errorOutput('Backfill', error instanceof Error ? error.message : String(error))],
        false,
      );
      return false;
    }
  }

  /** A short execution whose outputs come from `work`. */
  private async run(
    cell: vscode.NotebookCell,
    work: () => Promise<{ outputs: vscode.NotebookCellOutput[]; ok: boolean }>,
  ): Promise<boolean> {
    const { outputs, ok } = await work();
    await this.showOutputs(cell, outputs, ok);
    return ok;
  }

  /** ▶ on a dry-run or execute cell: a dry run through the CLI. Nothing is sent. */
  private async dryRun(cell: vscode.NotebookCell): Promise<boolean> {
    const execution = this.controller.createNotebookCellExecution(cell);
    execution.start(Date.now());
    const finish = async (outputs: vscode.NotebookCellOutput[], ok: boolean) => {
      await execution.replaceOutput(outputs);
      execution.end(ok, Date.now());
      return ok;
    };
    await execution.replaceOutput([textOutput('Dry run: reading every record (nothing is sent)…')]);
    const id = cellId(cell);
    if (!id)
      return finish(
        [errorOutput('No cell id', 'Save the runbook so the cell gets its id, then run it.')],
        false,
      );
    const prepared = await prepareRun(cell.notebook, this.s, { cell: id, command: 'dry-run' });
    if (isNotReady(prepared))
      return finish([errorOutput(prepared.title, prepared.message, prepared.next)], false);
    const abort = new AbortController();
    execution.token.onCancellationRequested(() => abort.abort());
    const outcome = await this.s.cli.dryRun({
      file: prepared.file,
      cell: id,
      environment: prepared.environment.name,
      secrets: prepared.secrets,
      operator: prepared.operator,
      signal: abort.signal,
    });
    if (abort.signal.aborted) return finish([textOutput('Dry run cancelled. Nothing was sent.')], false);
    if (!outcome.report) {
      const message = prepared.redactor.redact(
        outcome.stderr.trim() || `the dry run exited with code ${outcome.exitCode}`,
      );
      return finish(
        [errorOutput('Dry run failed', message, 'Fix the problem shown, then run the cell again.')],
        false,
      );
    }
    const report = prepared.redactor.redactValue(outcome.report);
    await setCellResult(cell.notebook, id, resultOfDryRun(report), prepared.redactor);
    // The real run's record stays in view under the preview: a dry run does not replace it.
    return finish([dryRunOutput(report), ...recordOutputs(cellMeta(cell), true)], report.passed);
  }

  /** ▶ on the header or a job cell: the runbook's problems located in this cell, if any. */
  private problemsOf(cell: vscode.NotebookCell): { outputs: vscode.NotebookCellOutput[]; ok: boolean } {
    const { issues, lines } = parseNotebook(cell.notebook);
    const own = issues.filter((issue) => cellAtLine(lines, issue.line)?.index === cell.index);
    if (own.length === 0) {
      return { outputs: [textOutput('No problems in this cell.')], ok: true };
    }
    return {
      outputs: [
        errorOutput('Problems in this cell', own.map(formatIssue).join('\n'), 'Fix them, then run again.'),
      ],
      ok: false,
    };
  }

  /**
   * Shows the live run of a runbook that was opened (again) in its cell, and its recorded verifications
   * with the records the ledger holds.
   */
  private reattach(notebook: vscode.NotebookDocument): void {
    if (!isRunbook(notebook) || notebook.isClosed || notebook.uri.scheme !== 'file') return;
    if (!vscode.workspace.isTrusted) return;
    if (
      !this.selected.has(notebook.uri.toString()) &&
      !vscode.window.visibleNotebookEditors.some((e) => e.notebook === notebook)
    ) {
      return; // Selecting the controller (or showing the notebook) calls this again.
    }
    void this.attachLiveRun(notebook);
    void this.showRecordedVerifications(notebook);
    void this.showRecordedDryRuns(notebook);
    void this.showUnheldSignOffs(notebook);
  }

  /**
   * A checklist opened from the file shows its sign-offs as written; one that does not hold (typed by
   * hand, stale) is shown again as the core judges it, with why — once per opening, like the records.
   */
  private async showUnheldSignOffs(notebook: vscode.NotebookDocument): Promise<void> {
    const pending = notebook.getCells().filter((cell) => {
      const meta = cellMeta(cell);
      const key = `${keyOf(cell)}#sign-offs`;
      return meta && 'id' in meta && meta.kind === 'checklist' && !this.recordsShown.has(key);
    });
    pending.forEach((cell) => this.recordsShown.add(`${keyOf(cell)}#sign-offs`));
    for (const cell of pending) {
      const { outputs, unheld } = await checklistOutputFor(cell, this.s.secrets);
      if (!unheld || notebook.isClosed || cell.index < 0 || this.attachments.has(keyOf(cell))) continue;
      const execution = await this.createExecution(cell);
      if (!execution) continue;
      // No times and no verdict: the checklist is shown again, nothing ran.
      execution.start();
      await execution.replaceOutput(outputs);
      execution.end(undefined);
    }
  }

  /**
   * Shows the runbook's live run in its cell: a run on this host through its status file, or — when the
   * environment keeps its ledger in PostgreSQL — the run with live workers on any host, through the
   * database.
   */
  private async attachLiveRun(notebook: vscode.NotebookDocument): Promise<void> {
    const shared = await sharedLedgerOf(notebook, this.s.environments, this.s.secrets);
    if (shared && 'reason' in shared) {
      vscode.window.setStatusBarMessage(
        `Backfill: cannot follow the runbook's workers — ${shared.reason}`,
        15_000,
      );
      return;
    }
    const monitor = shared ? await this.fleetRun(notebook, shared) : this.s.runs.live(notebook.uri.fsPath);
    const cell = monitor && !notebook.isClosed ? findCell(notebook, monitor.cell) : undefined;
    if (monitor && cell && !this.attachments.has(keyOf(cell)) && !this.attaching.has(keyOf(cell))) {
      void this.attach(cell, monitor, shared?.redactor ?? redactorForRun(notebookText(notebook).text, {}));
    }
  }

  /** The fleet run of a runbook whose ledger is shared: the one followed, or one found in the database. */
  private fleetRun(notebook: vscode.NotebookDocument, shared: SharedLedger): Promise<LiveRun | undefined> {
    const file = notebook.uri.fsPath;
    const followed = this.s.runs.get(file);
    if (followed instanceof FleetMonitor && !followed.ended) return Promise.resolve(followed);
    // Opening, showing and selecting a notebook each call this: one look at the database at a time.
    const pending = this.fleetLookups.get(file);
    if (pending) return pending;
    const lookup = FleetMonitor.attach(file, shared.place, (cell) => shared.cells.has(cell)).then(
      (monitor) => monitor && this.s.runs.adopt(monitor),
      (error: unknown) => {
        const message = shared.redactor.redact(error instanceof Error ? error.message : String(error));
        vscode.window.setStatusBarMessage(`Backfill: cannot read the runbook's workers — ${message}`, 15_000);
        return undefined;
      },
    );
    this.fleetLookups.set(file, lookup);
    void lookup.finally(() => this.fleetLookups.delete(file));
    return lookup;
  }

  /**
   * Completes the verification tables a runbook showed on opening (counts from its result blocks) with
   * the first records that are not right, read from the ledger as at the end of a live verification.
   * Without a ledger (a runbook shared without its state folder) the counts stay as the file has them.
   */
  private async showRecordedVerifications(notebook: vscode.NotebookDocument): Promise<void> {
    const pending = notebook.getCells().flatMap((cell) => {
      const recorded = recordedVerification(cellMeta(cell));
      const key = recorded?.result.run && `${keyOf(cell)}#${recorded.result.run}`;
      const fromFile = cell.outputs.some(
        (output) =>
          output.metadata?.[RECORD_OUTPUT] === true && output.items.some((i) => i.mime === MIME.verify),
      );
      return recorded && key && fromFile && !this.recordsShown.has(key) ? [{ cell, recorded, key }] : [];
    });
    if (pending.length === 0) return;
    pending.forEach(({ key }) => this.recordsShown.add(key));
    const redactor = redactorForRun(notebookText(notebook).text, {});
    const environments = parseNotebook(notebook).runbook?.header.environments ?? {};
    await this.showFromLedger(
      notebook,
      pending,
      async (ledger, { recorded }) => {
        const run = (await ledger.runs(recorded.cell)).find((r) => r.id === recorded.result.run);
        if (!run) return undefined;
        const production = environments[run.environment]?.production ? run.environment : undefined;
        const payload = await verifyPayloadFromLedger(ledger, run, endNote(recorded.result), production);
        return markedAsRecord(verifyOutput(redactor.redactValue(payload)));
      },
      (cell, output) => [output, ...cell.outputs.filter((o) => o.metadata?.[RECORD_OUTPUT] !== true)],
    );
  }

  /**
   * Rebuilds the dry-run preview a dry-run or execute cell showed, from the report its last dry run stored
   * in the ledger (the result block names it by id), above the record of its last real run — as the cell
   * showed it when the dry run ended. Without the ledger, or without that dry run in it, the records from
   * the file stay.
   */
  private async showRecordedDryRuns(notebook: vscode.NotebookDocument): Promise<void> {
    const pending = notebook.getCells().flatMap((cell) => {
      const meta = cellMeta(cell);
      const id =
        meta && 'id' in meta && (meta.kind === 'dry-run' || meta.kind === 'execute') ? meta.id : undefined;
      const body =
        meta && 'dryRun' in meta && meta.dryRun
          ? meta.dryRun.body
          : meta && 'result' in meta
            ? meta.result?.body
            : undefined;
      const run = body && isDryRunBody(body) ? readResultBody(body)?.run : undefined;
      const key = run && `${keyOf(cell)}#${run}`;
      const fromFile = cell.outputs.every((output) => output.metadata?.[RECORD_OUTPUT] === true);
      return id && run && key && fromFile && !this.recordsShown.has(key) ? [{ cell, id, run, key }] : [];
    });
    if (pending.length === 0) return;
    pending.forEach(({ key }) => this.recordsShown.add(key));
    const redactor = redactorForRun(notebookText(notebook).text, {});
    await this.showFromLedger(
      notebook,
      pending,
      async (ledger, { id, run }) => {
        const row = (await ledger.dryRuns(id)).find((r) => r.id === run);
        if (!row) return undefined;
        const report = JSON.parse(row.report) as DryRunReport;
        return markedAsRecord(dryRunOutput(redactor.redactValue(report)));
      },
      (cell, output) => [output, ...recordOutputs(cellMeta(cell), true)],
    );
  }

  /**
   * Reads each pending cell's record from the runbook's ledger and shows it in the cell (`arrange` puts
   * it among the cell's outputs) as a record shown again, not a run: no verdict. Without a ledger, or with
   * one being written, the cells keep what the file gave them.
   */
  private async showFromLedger<T extends { cell: vscode.NotebookCell }>(
    notebook: vscode.NotebookDocument,
    pending: T[],
    read: (ledger: Ledger, item: T) => Promise<vscode.NotebookCellOutput | undefined>,
    arrange: (cell: vscode.NotebookCell, output: vscode.NotebookCellOutput) => vscode.NotebookCellOutput[],
  ): Promise<void> {
    const shown: { cell: vscode.NotebookCell; output: vscode.NotebookCellOutput }[] = [];
    let ledger: Ledger | undefined;
    try {
      ledger = await openLedger(notebook.uri.fsPath);
      for (const item of pending) {
        const output = await read(ledger, item);
        if (output) shown.push({ cell: item.cell, output });
      }
    } catch {
      return;
    } finally {
      await ledger?.close();
    }
    for (const { cell, output } of shown) {
      if (notebook.isClosed || cell.index < 0 || this.attachments.has(keyOf(cell))) continue;
      const execution = await this.createExecution(cell);
      if (!execution) continue;
      // No times: a record shown again is not a run, and a duration under the cell would say it was.
      execution.start();
      await execution.replaceOutput(arrange(cell, output));
      execution.end(undefined);
    }
  }

  private detachAll(notebook: vscode.NotebookDocument): void {
    const prefix = `${notebook.uri.toString()}#`;
    for (const [key, attachment] of [...this.attachments]) {
      if (key.startsWith(prefix)) attachment.detach();
    }
    for (const key of [...this.recordsShown]) {
      if (key.startsWith(prefix)) this.recordsShown.delete(key);
    }
    this.selected.delete(notebook.uri.toString());
  }

  /** An execution for the cell, selecting this controller for its notebook first if needed. */
  private async createExecution(
    cell: vscode.NotebookCell,
  ): Promise<vscode.NotebookCellExecution | undefined> {
    try {
      return this.controller.createNotebookCellExecution(cell);
    } catch {
      if (!(await this.select(cell.notebook))) return undefined;
      try {
        return this.controller.createNotebookCellExecution(cell);
      } catch {
        return undefined;
      }
    }
  }

  /** Selects this controller for the notebook of the active editor; true once it is selected. */
  private async select(notebook: vscode.NotebookDocument): Promise<boolean> {
    const key = notebook.uri.toString();
    if (this.selected.has(key)) return true;
    // The command acts on the active notebook editor (an API editor cannot be passed to it).
    if (vscode.window.activeNotebookEditor?.notebook !== notebook) return false;
    this.controller.updateNotebookAffinity(notebook, vscode.NotebookControllerAffinity.Preferred);
    await vscode.commands.executeCommand('notebook.selectKernel', {
      id: CONTROLLER_ID,
      extension: this.s.extensionId,
    });
    for (let waited = 0; waited < 2000 && !this.selected.has(key); waited += 50) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return this.selected.has(key);
  }
}

function keyOf(cell: vscode.NotebookCell): string {
  return `${cell.notebook.uri.toString()}#${cellId(cell) ?? cell.index}`;
}
