/**
 * A status bar item while a backfill runs: progress and rate; a click opens the run's controls (pause,
 * resume, change rate, stop).
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { Disposable } from './disposable';
import { PLAIN_STATUS, productionStatusColors } from './productionColors';
import type { ActiveRuns } from './runMonitor';

export const SHOW_RUN_CONTROLS = 'backfill.showRunControls';

export class RunStatusBar extends Disposable {
  private readonly item = this._register(
    vscode.window.createStatusBarItem('backfill.run', vscode.StatusBarAlignment.Left, 50),
  );

  constructor(private readonly runs: ActiveRuns) {
    super();
    this.item.name = 'Backfill run';
    this.item.command = SHOW_RUN_CONTROLS;
    this._register(runs.onDidChange(() => this.update()));
    this._register(vscode.window.onDidChangeActiveColorTheme(() => this.update()));
    this.update();
  }

  private update(): void {
    const monitor = this.runs.all().find((m) => !m.ended);
    const status = monitor?.progress?.status;
    if (!monitor) {
      this.item.hide();
      return;
    }
    if (!status) {
      this.item.text = `$(sync~spin) Backfill ${monitor.cell}: starting`;
    } else {
      const percent = status.total ? ` ${Math.floor((100 * status.done) / status.total)}%` : '';
      const icon = status.state === 'paused' ? '$(debug-pause)' : '$(sync~spin)';
      const state = status.state === 'running' ? '' : ` · ${status.state}`;
      this.item.text = `${icon} Backfill ${status.cell}:${percent} ${status.done}${status.total ? `/${status.total}` : ''} · ${status.rate.now}/s${state}`;
      const colors = status.mode === 'production' ? productionStatusColors() : PLAIN_STATUS;
      this.item.backgroundColor = colors.backgroundColor;
      this.item.color = colors.color;
    }
    this.item.tooltip = `${path.basename(monitor.file)} — cell ${monitor.cell}${status?.mode === 'production' ? ' (PRODUCTION)' : ''}. Click for pause, resume, rate and stop.`;
    this.item.show();
  }
}
