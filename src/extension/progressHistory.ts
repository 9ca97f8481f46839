/**
 * The chart's history of a live run, kept by whoever follows it (a status file, or a fleet's database):
 * one point per second for the last five minutes, and the marks (pauses, resumes, rate changes, an attach
 * to a run already going) that fall within it.
 */
import type { RunStatus } from '../core/run/runStatus';
import type { ProgressMark } from '../../media/renderer/payloads';
import { attachedMark, marksBetween } from '../../media/renderer/progressMarks';

/** One point per second of the chart the renderer draws. */
export interface ProgressPoint {
  /** When: milliseconds since the epoch, on a whole second. */
  t: number;
  done: number;
  succeeded: number;
  failed: number;
  rate: number;
}

const HISTORY_SECONDS = 300;

export class ProgressHistory {
  private history: ProgressPoint[] = [];
  private marks: ProgressMark[] = [];
  private previous: RunStatus | undefined;

  /** @param attached this window did not start the run: the history starts here, and says so. */
  constructor(private readonly attached: boolean) {}

  /** Adds a status; returns the history and marks to show with it. */
  record(status: RunStatus): { history: ProgressPoint[]; marks: ProgressMark[] } {
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
    return { history: [...this.history], marks: [...this.marks] };
  }
}
