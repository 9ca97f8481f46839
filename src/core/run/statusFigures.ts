/**
 * What people read from a run's status, the same in the editor's progress view and status bar (this file
 * is bundled into the renderer too: no Node modules). The one progress figure people read, in the editor's progress view, its status bar and the terminal:
 * records of the selection with an outcome, out of the records the cell selects to send — the number the
 * dry run and the run's confirmation show. Malformed rows (rejected, never sent) are outside it, and
 * records another cell already delivered count as done (the run skips them). This file cannot depend on
 * the vscode API.
 */
import type { RunStatus } from './runStatus';

export interface SelectionProgress {
  /** Selected records with an outcome (sent, failed, or delivered before by another cell). */
  done: number;
  /** Records the cell selects to send; undefined when the run does not know it exactly. */
  of: number | undefined;
}

/** Progress over the selection, from a run's status. */
export function selectionProgress(
  status: Pick<RunStatus, 'done' | 'rejected' | 'selected' | 'doneElsewhere'>,
): SelectionProgress {
  let elsewhere = 0;
  for (const count of Object.values(status.doneElsewhere ?? {})) elsewhere += count;
  const done = Math.max(0, status.done - (status.rejected ?? 0)) + elsewhere;
  return { done, of: status.selected !== undefined && status.selected > 0 ? status.selected : undefined };
}

/** A run against a production environment: a production run, or a verification reading production. */
export function inProduction(status: Pick<RunStatus, 'mode' | 'production'>): boolean {
  return status.mode === 'production' || status.production === true;
}

/** "20 skipped: done by small-batch" for each cell that delivered records a run skips, in words. */
export function describeDoneElsewhere(skipped: Readonly<Record<string, number>>): string[] {
  return Object.entries(skipped)
    .filter(([, count]) => count > 0)
    .map(([cell, count]) => `${count.toLocaleString('en-US')} skipped: done by ${cell}`);
}
