/**
 * Following a real run from outside its process: `<runbook>.d/status.json`, which the runner rewrites
 * about once a second, read once a second. A monitor outlives the notebook it was started from (closing
 * the editor does not stop the run, and reopening it attaches a new cell execution to the same monitor);
 * `ActiveRuns` holds one monitor per runbook while its run is live. A run whose ledger is in PostgreSQL
 * is followed through the database instead (fleetMonitor.ts), behind the same {@link LiveRun}.
 */
import * as os from 'node:os';
import * as vscode from 'vscode';
import type { Ledger } from '../core/ledger/ledger';
import { openLedger } from '../core/ledger/openLedger';
import { stateDirFor } from '../core/ledger/statePaths';
import { sendControl, type ControlCommand } from '../core/run/control';
import { isLive, readStatus, type RunStatus } from '../core/run/runStatus';
import type { FleetPayload, ProgressMark } from '../../media/renderer/payloads';
import { Disposable } from './disposable';
import { ProgressHistory, type ProgressPoint } from './progressHistory';
import type { RunExit } from './runnerProcess';

export type { ProgressPoint };

/** The `application/vnd.backfill.progress+json` payload. */
export interface ProgressView {
  status: RunStatus;
  history: ProgressPoint[];
  /** Pauses, resumes, rate changes, and an attach to a run already going: the chart marks them. */
  marks: ProgressMark[];
  /** The workers of a run whose ledger is in PostgreSQL. */
  fleet?: FleetPayload;
}

/** A live run as the cell, the status bar and the commands see it, however it is followed. */
export interface LiveRun extends vscode.Disposable {
  readonly file: string;
  readonly cell: string;
  readonly progress: ProgressView | undefined;
  readonly ended: RunEnd | undefined;
  readonly onDidChange: vscode.Event<ProgressView>;
  readonly onDidEnd: vscode.Event<RunEnd>;
  /** Reads the run now rather than at the next tick: a command must not act on a second-old view. */
  refresh(): void;
  /** Pause, resume, rate, stop: to the run's process, or to every worker of a fleet. */
  control(command: ControlCommand): Promise<void>;
  /** The ledger the run records into, for its result once it ended. */
  openLedger(): Promise<Ledger>;
  /** Polls only while a notebook shows it (a database read): dropped when its cell detaches. */
  readonly followsOnlyWhileShown: boolean;
}

export type RunEnd =
  /** The runner wrote its final status (finished or halted). */
  | { kind: 'ended'; status: RunStatus; exit?: RunExit }
  /** The process exited before running (a refusal, invalid input): its exit code says which. */
  | { kind: 'exited'; exit: RunExit; status?: RunStatus }
  /** The process is gone without a final status (killed, crashed): a resume picks it up. */
  | { kind: 'vanished'; status?: RunStatus };

const POLL_MS = 1000;

export class RunMonitor extends Disposable implements LiveRun {
  private readonly changed = this._register(new vscode.EventEmitter<ProgressView>());
  private readonly finished = this._register(new vscode.EventEmitter<RunEnd>());
  readonly onDidChange = this.changed.event;
  readonly onDidEnd = this.finished.event;
  readonly stateDir: string;
  readonly followsOnlyWhileShown = false;
  private readonly history: ProgressHistory;
  private latest: ProgressView | undefined;
  private end: RunEnd | undefined;
  private exit: RunExit | undefined;
  private readonly timer: ReturnType<typeof setInterval>;

  /**
   * @param pid the runner's process id: statuses of other processes (an earlier run's final status) are
   *   ignored.
   * @param exited known when this extension host started the process.
   */
  constructor(
    readonly file: string,
    readonly cell: string,
    readonly pid: number,
    exited?: Promise<RunExit>,
  ) {
    super();
    // Without the process's exit, this window did not start the run: it attached to one already going
    // (after a reload), so the chart's history starts here, and says so.
    this.history = new ProgressHistory(exited === undefined);
    this.stateDir = stateDirFor(file);
    void exited?.then((exit) => {
      this.exit = exit;
      this.poll();
    });
    this.timer = setInterval(() => this.poll(), POLL_MS);
    this._register({ dispose: () => clearInterval(this.timer) });
    this.poll();
  }

  /** The latest progress, when the runner has written any. */
  get progress(): ProgressView | undefined {
    return this.latest;
  }

  /** How the run ended, once it has. */
  get ended(): RunEnd | undefined {
    return this.end;
  }

  refresh(): void {
    this.poll();
  }

  async control(command: ControlCommand): Promise<void> {
    sendControl(this.stateDir, command);
  }

  openLedger(): Promise<Ledger> {
    return openLedger(this.file);
  }

  private poll(): void {
    if (this.end || this.isDisposed) return;
    const read = readStatus(this.stateDir);
    const status = read && read.pid === this.pid ? read : undefined;
    if (status) this.record(status);
    if (status && (status.state === 'finished' || status.state === 'halted')) {
      return this.finish({ kind: 'ended', status, ...(this.exit ? { exit: this.exit } : {}) });
    }
    if (this.exit) {
      return this.finish({ kind: 'exited', exit: this.exit, ...(status ? { status } : {}) });
    }
    if (status && !isLive(status, os.hostname())) {
      return this.finish({ kind: 'vanished', status });
    }
    if (!status && !processAlive(this.pid)) this.finish({ kind: 'vanished' });
  }

  private record(status: RunStatus): void {
    this.latest = { status, ...this.history.record(status) };
    this.changed.fire(this.latest);
  }

  private finish(end: RunEnd): void {
    this.end = end;
    clearInterval(this.timer);
    this.finished.fire(end);
  }
}

function processAlive(pid: number): boolean {
  if (pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The live runs this window follows, one per runbook file. */
export class ActiveRuns extends Disposable {
  private readonly monitors = new Map<string, LiveRun>();
  private readonly changed = this._register(new vscode.EventEmitter<void>());
  /** A run started, progressed or ended. */
  readonly onDidChange = this.changed.event;

  /** Follows the run of `file` by the process `pid`; the same monitor when it is already followed. */
  follow(file: string, cell: string, pid: number, exited?: Promise<RunExit>): LiveRun {
    const existing = this.monitors.get(file);
    if (existing instanceof RunMonitor && existing.pid === pid && !existing.ended) return existing;
    return this.adopt(new RunMonitor(file, cell, pid, exited));
  }

  /** Follows `run` as the live run of its runbook, in place of any other. */
  adopt(run: LiveRun): LiveRun {
    const { file } = run;
    const existing = this.monitors.get(file);
    if (existing !== run) existing?.dispose();
    this.monitors.set(file, run);
    run.onDidChange(() => this.changed.fire());
    run.onDidEnd(() => {
      this.changed.fire();
      // Kept a moment, so a notebook reopened right at the end still sees how it ended.
      setTimeout(() => this.forget(run), 5000);
    });
    return run;
  }

  /** Stops following `run` (its runbook closed, or it ended a while ago). */
  forget(run: LiveRun): void {
    if (this.monitors.get(run.file) === run) this.monitors.delete(run.file);
    run.dispose();
    this.changed.fire();
  }

  /**
   * The monitor of the live run of `file`: the one followed already, or a new one when the state folder
   * shows a run whose process is alive (started by another window, the command line, or before a
   * reload).
   */
  live(file: string): LiveRun | undefined {
    const followed = this.monitors.get(file);
    followed?.refresh();
    if (followed && !followed.ended) return followed;
    const status = readStatus(stateDirFor(file));
    if (!status || status.state === 'finished' || status.state === 'halted') return undefined;
    if (!isLive(status, os.hostname())) return undefined;
    return this.follow(file, status.cell, status.pid);
  }

  get(file: string): LiveRun | undefined {
    return this.monitors.get(file);
  }

  all(): LiveRun[] {
    return [...this.monitors.values()];
  }

  override dispose(): void {
    for (const monitor of this.monitors.values()) monitor.dispose();
    this.monitors.clear();
    super.dispose();
  }
}
