/**
 * Following a real run from outside its process: `<runbook>.d/status.json`, which the runner rewrites
 * about once a second, read once a second. A monitor outlives the notebook it was started from (closing
 * the editor does not stop the run, and reopening it attaches a new cell execution to the same monitor);
 * `ActiveRuns` holds one monitor per runbook while its run is live.
 */
import * as os from 'node:os';
import * as vscode from 'vscode';
import { stateDirFor } from '../core/ledger/statePaths';
import { isLive, readStatus, type RunStatus } from '../core/run/runStatus';
import type { ProgressMark } from '../../media/renderer/payloads';
import { attachedMark, marksBetween } from '../../media/renderer/progressMarks';
import { Disposable } from './disposable';
import type { RunExit } from './runnerProcess';

/** One point per second of the chart the renderer draws. */
export interface ProgressPoint {
  /** When: milliseconds since the epoch, on a whole second. */
  t: number;
  done: number;
  succeeded: number;
  failed: number;
  rate: number;
}

/** The `application/vnd.backfill.progress+json` payload. */
export interface ProgressView {
  status: RunStatus;
  history: ProgressPoint[];
  /** Pauses, resumes, rate changes, and an attach to a run already going: the chart marks them. */
  marks: ProgressMark[];
}

export type RunEnd =
  /** The runner wrote its final status (finished or halted). */
  | { kind: 'ended'; status: RunStatus; exit?: RunExit }
  /** The process exited before running (a refusal, invalid input): its exit code says which. */
  | { kind: 'exited'; exit: RunExit; status?: RunStatus }
  /** The process is gone without a final status (killed, crashed): a resume picks it up. */
  | { kind: 'vanished'; status?: RunStatus };

const HISTORY_SECONDS = 300;
const POLL_MS = 1000;

export class RunMonitor extends Disposable {
  private readonly changed = this._register(new vscode.EventEmitter<ProgressView>());
  private readonly finished = this._register(new vscode.EventEmitter<RunEnd>());
  readonly onDidChange = this.changed.event;
  readonly onDidEnd = this.finished.event;
  readonly stateDir: string;
  private history: ProgressPoint[] = [];
  private marks: ProgressMark[] = [];
  private previous: RunStatus | undefined;
  private latest: ProgressView | undefined;
  private end: RunEnd | undefined;
  private exit: RunExit | undefined;
  private readonly timer: ReturnType<typeof setInterval>;
  private readonly attached: boolean;

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
    this.attached = exited === undefined;
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

  /** Reads the status now rather than at the next tick: a command must not act on a second-old view. */
  refresh(): void {
    this.poll();
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
    // Milliseconds since the epoch, one point per second (the renderer's ProgressSample.t).
    const at = Date.parse(status.updatedAt);
    const t = Math.floor((Number.isFinite(at) ? at : Date.now()) / 1000) * 1000;
    const point = {
      t,
      done: status.done,
      succeeded: status.succeeded,
      failed: status.failed,
      rate: status.rate.now,
    };
    if (this.history[this.history.length - 1]?.t === t) this.history[this.history.length - 1] = point;
    else this.history.push(point);
    if (this.history.length > HISTORY_SECONDS) this.history = this.history.slice(-HISTORY_SECONDS);
    if (!this.previous && this.attached && status.done > 0) this.marks.push(attachedMark(t));
    this.marks.push(...marksBetween(this.previous, status, t));
    this.previous = status;
    // Marks older than the kept history have nowhere to be drawn.
    const oldest = this.history[0]?.t ?? t;
    this.marks = this.marks.filter((mark) => Number(mark.t) >= oldest);
    this.latest = { status, history: [...this.history], marks: [...this.marks] };
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
  private readonly monitors = new Map<string, RunMonitor>();
  private readonly changed = this._register(new vscode.EventEmitter<void>());
  /** A run started, progressed or ended. */
  readonly onDidChange = this.changed.event;

  /** Follows the run of `file` by the process `pid`; the same monitor when it is already followed. */
  follow(file: string, cell: string, pid: number, exited?: Promise<RunExit>): RunMonitor {
    const existing = this.monitors.get(file);
    if (existing && existing.pid === pid && !existing.ended) return existing;
    existing?.dispose();
    const monitor = new RunMonitor(file, cell, pid, exited);
    this.monitors.set(file, monitor);
    monitor.onDidChange(() => this.changed.fire());
    monitor.onDidEnd(() => {
      this.changed.fire();
      // Kept a moment, so a notebook reopened right at the end still sees how it ended.
      setTimeout(() => {
        if (this.monitors.get(file) === monitor) this.monitors.delete(file);
        monitor.dispose();
      }, 5000);
    });
    return monitor;
  }

  /**
   * The monitor of the live run of `file`: the one followed already, or a new one when the state folder
   * shows a run whose process is alive (started by another window, the command line, or before a
   * reload).
   */
  live(file: string): RunMonitor | undefined {
    const followed = this.monitors.get(file);
    followed?.refresh();
    if (followed && !followed.ended) return followed;
    const status = readStatus(stateDirFor(file));
    if (!status || status.state === 'finished' || status.state === 'halted') return undefined;
    if (!isLive(status, os.hostname())) return undefined;
    return this.follow(file, status.cell, status.pid);
  }

  get(file: string): RunMonitor | undefined {
    return this.monitors.get(file);
  }

  all(): RunMonitor[] {
    return [...this.monitors.values()];
  }

  override dispose(): void {
    for (const monitor of this.monitors.values()) monitor.dispose();
    this.monitors.clear();
    super.dispose();
  }
}
