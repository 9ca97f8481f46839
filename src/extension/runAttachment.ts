/**
 * A cell execution that shows a live run: it replaces the cell's progress output each time the monitor
 * reads a new status (about once a second), turns the cell's stop button into the kill switch, and ends
 * with the run's outcome. The run itself lives in its own process: detaching (the notebook closes, the
 * window reloads) ends this execution and nothing else.
 */
import * as vscode from 'vscode';
import { Disposable } from './disposable';
import { errorOutput, progressOutput, textOutput, withNotice } from './outputs';
import type { ProgressView, RunEnd, LiveRun } from './runMonitor';
import type { Redactor } from '../core/secrets/secrets';

/**
 * What happens at the end of a run, beyond the cell's outputs (result metadata, notifications). A
 * `notice` (a refusal by the runner's gates: the run never started) goes under the outputs the cell had
 * before this execution, with no verdict.
 */
export interface RunEndHandler {
  (end: RunEnd, cell: vscode.NotebookCell): Promise<RunEndOutputs>;
}

export type RunEndOutputs =
  { success: boolean; outputs: vscode.NotebookCellOutput[] } | { notice: vscode.NotebookCellOutput };

/**
 * How long a cancellation waits before it counts as the stop button. VS Code also cancels the running
 * cells of a notebook whose document is being closed; that must detach, never stop the backfill. The
 * close reaches the extension host right after the cancellation, so a short wait tells them apart.
 */
const CLOSE_GRACE_MS = 500;

export class RunAttachment extends Disposable {
  private ended = false;
  /** What the cell showed before this execution: kept under a refusal, which is not a run's record. */
  private readonly previous: readonly vscode.NotebookCellOutput[];
  private readonly detached = this._register(new vscode.EventEmitter<void>());
  /** Fires once, when the execution ended (run over) or was detached (notebook closed). */
  readonly onDidDetach = this.detached.event;

  constructor(
    private readonly execution: vscode.NotebookCellExecution,
    private readonly monitor: LiveRun,
    private readonly cell: vscode.NotebookCell,
    private readonly redactor: Redactor,
    private readonly onEnd: RunEndHandler,
  ) {
    super();
    this.previous = [...cell.outputs];
    const startedAt = monitor.progress ? Date.parse(monitor.progress.status.startedAt) : Date.now();
    execution.start(Number.isFinite(startedAt) ? startedAt : Date.now());
    void execution.replaceOutput(
      monitor.progress ? this.progress(monitor.progress) : textOutput('Starting the run in its own process…'),
    );
    this._register(monitor.onDidChange((view) => void this.show([this.progress(view)])));
    this._register(monitor.onDidEnd((end) => void this.finish(end)));
    this._register(execution.token.onCancellationRequested(() => void this.onCancel()));
    if (monitor.ended) void this.finish(monitor.ended);
  }

  /** Ends the execution without touching the run (the notebook is closing). */
  detach(): void {
    if (this.ended) return;
    this.ended = true;
    try {
      this.execution.end(undefined);
    } catch {
      // The notebook is gone already; the execution went with it.
    }
    this.detached.fire();
    this.dispose();
  }

  private async onCancel(): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, CLOSE_GRACE_MS));
    const notebook = this.cell.notebook;
    const shown = vscode.window.visibleNotebookEditors.some((editor) => editor.notebook === notebook);
    if (this.ended) return;
    if (notebook.isClosed || !shown) return this.detach();
    try {
      await this.monitor.control({ command: 'stop' });
    } catch (error) {
      void vscode.window.showErrorMessage(
        `Backfill: the stop did not reach the run: ${this.redactor.redact(String((error as Error).message ?? error))}. Use Backfill: Stop again, or backfill control … stop in a terminal.`,
      );
      return;
    }
    const latest = this.monitor.progress;
    void this.show([
      ...(latest ? [this.progress(latest)] : []),
      textOutput(
        'Stopping: no new record is sent; records in flight finish (or are aborted after their timeout and ' +
          'sent again on resume), then the run checkpoints and halts.',
      ),
    ]);
  }

  /** Run statuses carry error messages from the target: redacted like everything shown. */
  private progress(view: ProgressView): vscode.NotebookCellOutput {
    return progressOutput(this.redactor.redactValue(view));
  }

  private async show(outputs: vscode.NotebookCellOutput[]): Promise<void> {
    if (this.ended) return;
    try {
      await this.execution.replaceOutput(outputs);
    } catch {
      // The cell was deleted or its notebook closed: nothing left to show it in.
    }
  }

  private async finish(end: RunEnd): Promise<void> {
    if (this.ended) return;
    let success: boolean | undefined = false;
    let outputs: vscode.NotebookCellOutput[];
    try {
      const ended = await this.onEnd(end, this.cell);
      if ('notice' in ended) {
        success = undefined; // Refused: no run, no verdict, no ✗.
        outputs = withNotice(this.previous, ended.notice);
      } else {
        ({ success, outputs } = ended);
      }
    } catch (error) {
      outputs = [errorOutput('Backfill', error instanceof Error ? error.message : String(error))];
    }
    if (this.ended) return;
    await this.show(outputs);
    this.ended = true;
    try {
      this.execution.end(success, Date.now());
    } catch {
      // Already gone with its notebook.
    }
    this.detached.fire();
    this.dispose();
  }
}
