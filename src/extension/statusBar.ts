/**
 * A status bar item while a backfill runs: progress and rate; a click opens the run's controls (pause,
 * resume, change rate, stop).
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { Disposable } from './disposable';
import { PLAIN_STATUS, productionStatusColors } from './productionColors';
import type { ActiveRuns } from './runMonitor';
import type { RunStatus } from '../core/run/runStatus';
import { inProduction, selectionProgress } from '../core/run/statusFigures';

export const SHOW_RUN_CONTROLS = 'backfill.showRunControls';

/**
 * The item's text: done of the selected records (the confirmation's count, statusFigures.ts), the
 * rate only while records are being sent ("—" when paused, stopping or ended), and PRODUCTION for any run
 * against a production environment, a verification too.
 */
export function runStatusText(status: RunStatus): string {
  const { done, of } = selectionProgress(status);
  const base = of ?? status.total;
  const shown = of !== undefined ? done : status.done;
  const percent = base ? ` ${Math.floor((100 * Math.min(shown, base)) / base)}%` : '';
  const icon = status.state === 'paused' ? '$(debug-pause)' : '$(sync~spin)';
  const state = status.state === 'running' ? '' : ` · ${status.state}`;
  const count = base
    ? `${shown} of ${base} ${of !== undefined ? 'selected' : 'to process'}`
    : `${shown} done`;
  const rate = status.state === 'running' ? `${status.rate.now}/s` : '—/s';
  const mode = status.mode === 'verify' ? ' verify' : '';
  const production = inProduction(status) ? ' ⚠ PRODUCTION' : '';
  return `${icon} Backfill${production}${mode} ${status.cell}:${percent} ${count} · ${rate}${state}`;
}

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
      this.item.text = runStatusText(status);
      const colors = inProduction(status) ? productionStatusColors() : PLAIN_STATUS;
      this.item.backgroundColor = colors.backgroundColor;
      this.item.color = colors.color;
    }
    this.item.tooltip = `${path.basename(monitor.file)} — cell ${monitor.cell}${status && inProduction(status) ? ` (PRODUCTION: ${status.environment})` : ''}. Counts are of the records the cell selects to send, as the confirmation counted them. Click for pause, resume, rate and stop.`;
    this.item.show();
  }
}
