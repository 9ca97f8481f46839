/**
 * Live control of a running backfill: applies `backfill control` commands (control.json) and the halt
 * file to the dispatcher the moment they land — watched, and polled several times a second where
 * watching does not work — and stops it when the caller's signal aborts. This file cannot depend on the
 * vscode API.
 */
import { rangeProblem } from '../model/numericRanges';
import * as fs from 'node:fs';
import { readControl, resetControl, watchControl, type ControlState } from './control';

const CONTROL_POLL_MS = 50;

/** What live control steers: the dispatcher. */
export interface Controllable {
  readonly stopping: boolean;
  stop(reason: string): void;
  pause(): void;
  resume(): void;
  setRate(rate: number): void;
  setConcurrency(concurrency: number): void;
}

/** Applies one new state of the control file. Nonsensical values (a rate of 0) are ignored. */
export function applyControl(control: ControlState, target: Controllable): void {
  if (control.stop) target.stop('stopped by backfill control');
  // Out of range (a hand-written control.json): ignored, as `backfill control` would have refused it.
  if (control.rate !== undefined && !rangeProblem('rate', control.rate)) target.setRate(control.rate);
  if (control.concurrency !== undefined && !rangeProblem('concurrency', control.concurrency))
    target.setConcurrency(control.concurrency);
  if (target.stopping) return;
  if (control.paused) target.pause();
  else target.resume();
}

export class LiveControl {
  private seq = 0;

  /**
   * @param onApplied called after a new command was applied to a run that is not stopping (the run
   *   writes its status, so `backfill status` shows the change at once).
   * @param forward for a member of a fleet: a new state of the control file is handed to it (to send to
   *   the whole fleet) instead of applied here. The halt file still stops this process alone.
   */
  constructor(
    private readonly stateDir: string,
    private readonly haltFile: string,
    private readonly target: Controllable,
    private readonly onApplied: () => void,
    private readonly forward?: (control: ControlState) => void,
  ) {}

  /**
   * Starts from a clean control file (an old `stop` must not halt this run), then follows it until the
   * returned function is called. Aborting `signal` is a stop.
   */
  start(signal?: AbortSignal): () => void {
    resetControl(this.stateDir);
    const stopOnSignal = () => this.target.stop('stopped by signal');
    signal?.addEventListener('abort', stopOnSignal);
    // The watch acts on a command the moment it lands; the poll is for where watching does not work.
    const watch = watchControl(this.stateDir, this.haltFile, () => this.poll());
    const timer = setInterval(() => this.poll(), CONTROL_POLL_MS);
    return () => {
      watch.close();
      clearInterval(timer);
      signal?.removeEventListener('abort', stopOnSignal);
    };
  }

  /** Reads the halt file and the control file, and applies a command not applied yet. */
  poll(): void {
    if (fs.existsSync(this.haltFile)) this.target.stop(`halt file ${this.haltFile} found`);
    const control = readControl(this.stateDir);
    if (control.seq === this.seq) return;
    this.seq = control.seq;
    if (this.forward) return this.forward(control);
    applyControl(control, this.target);
    if (!this.target.stopping) this.onApplied();
  }
}
