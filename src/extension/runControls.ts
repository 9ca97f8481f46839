/**
 * Pause, Resume, Change Rate… and Stop: the same as `backfill control FILE …` — a write to
 * `<runbook>.d/control.json`, which the runner applies within a second, whichever process or window
 * started it.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { rangeProblem } from '../core/model/numericRanges';
import type { ControlCommand } from '../core/run/control';
import { Disposable } from './disposable';
import { isRunbook, resolveNotebook } from './notebookDocument';
import type { Prompts } from './prompts';
import type { ActiveRuns, LiveRun } from './runMonitor';
import { SHOW_RUN_CONTROLS } from './statusBar';
import { ensureTrusted } from './workspaceTrust';

export class RunControls extends Disposable {
  constructor(
    private readonly runs: ActiveRuns,
    private readonly prompts: Prompts,
  ) {
    super();
    const register = (id: string, handler: (argument?: unknown) => Promise<unknown>) =>
      this._register(vscode.commands.registerCommand(id, handler));
    register('backfill.pause', (argument) => this.send(argument, { command: 'pause' }, 'Paused'));
    register('backfill.resume', (argument) => this.send(argument, { command: 'resume' }, 'Resumed'));
    register('backfill.stop', (argument) => this.send(argument, { command: 'stop' }, 'Stopping'));
    register('backfill.changeRate', (argument) => this.changeRate(argument));
    register(SHOW_RUN_CONTROLS, (argument) => this.showControls(argument));
  }

  private async send(argument: unknown, command: ControlCommand, done: string): Promise<boolean> {
    if (!ensureTrusted()) return false;
    const monitor = await this.target(argument);
    if (!monitor) return false;
    await monitor.control(command);
    void vscode.window.setStatusBarMessage(
      `Backfill: ${done} ${path.basename(monitor.file)} (cell ${monitor.cell})`,
      5000,
    );
    return true;
  }

  private async changeRate(argument: unknown): Promise<boolean> {
    if (!ensureTrusted()) return false;
    const monitor = await this.target(argument);
    if (!monitor) return false;
    const given = (argument as { rate?: unknown } | undefined)?.rate;
    const rate =
      typeof given === 'number'
        ? given
        : await this.prompts.askRate(monitor.progress?.status.rate.configured);
    if (rate === undefined) return false;
    // A rate outside the runbook's range would be ignored by the run: say so instead of "set".
    const problem = rangeProblem('rate', rate);
    if (problem) {
      void vscode.window.showErrorMessage(`Backfill: rate ${rate}: ${problem}`);
      return false;
    }
    await monitor.control({ command: 'rate', value: rate });
    void vscode.window.setStatusBarMessage(`Backfill: rate of ${monitor.cell} set to ${rate}/s`, 5000);
    return true;
  }

  private async showControls(argument: unknown): Promise<void> {
    const monitor = await this.target(argument);
    if (!monitor) return;
    const paused = monitor.progress?.status.state === 'paused';
    const picked = await this.prompts.pick(
      [
        paused
          ? { id: 'backfill.resume', label: '$(debug-continue) Resume' }
          : { id: 'backfill.pause', label: '$(debug-pause) Pause' },
        { id: 'backfill.changeRate', label: '$(dashboard) Change Rate…' },
        { id: 'backfill.stop', label: '$(debug-stop) Stop', description: 'halts; running it again resumes' },
        {
          id: 'backfill.showLedger',
          label: '$(table) Show Ledger',
          description: 'failed records with reasons',
        },
      ],
      `${path.basename(monitor.file)} — cell ${monitor.cell}`,
    );
    if (picked) await vscode.commands.executeCommand(picked, { notebookUri: vscode.Uri.file(monitor.file) });
  }

  /** The live run a command is about: the given or active runbook's, or the only one running. */
  private async target(argument: unknown): Promise<LiveRun | undefined> {
    const notebook = await resolveNotebook(argument);
    if (notebook && isRunbook(notebook) && notebook.uri.scheme === 'file') {
      const monitor = this.runs.live(notebook.uri.fsPath);
      if (!monitor)
        void vscode.window.showInformationMessage(
          `Backfill: no run of ${path.basename(notebook.uri.fsPath)} is going.`,
        );
      return monitor;
    }
    const live = this.runs.all().filter((m) => !m.ended);
    if (live.length === 1) return live[0];
    if (live.length === 0) {
      void vscode.window.showInformationMessage('Backfill: no backfill is running.');
      return undefined;
    }
    const picked = await this.prompts.pick(
      live.map((m) => ({ id: m.file, label: path.basename(m.file), description: `cell ${m.cell}` })),
      'Which run?',
    );
    return live.find((m) => m.file === picked);
  }
}
