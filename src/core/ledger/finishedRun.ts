/**
 * Whether a cell is finished: the one answer the runner (which refuses to redo finished work without
 * `--restart` or `--only`) and the editor (which asks before it starts such a run) both use.
 * This folder cannot depend on the vscode API.
 */
import type { Ledger } from './ledger';
import type { RunRecord } from '../model/runs';

/** True when a run got to its end (succeeded or below its threshold); a halted or crashed one resumes. */
export function hasFinished(run: RunRecord): boolean {
  return run.outcome === 'succeeded' || run.outcome === 'below-threshold';
}

/**
 * The cell's latest run when it finished for exactly this job and source data (`fingerprint`); undefined
 * when the cell never ran, its latest run did not finish, or the job or data changed since.
 */
export async function finishedRunOf(
  ledger: Ledger,
  cell: string,
  fingerprint: string | undefined,
): Promise<RunRecord | undefined> {
  const latest = await ledger.latestRun(cell);
  return latest && hasFinished(latest) && latest.fingerprint === fingerprint ? latest : undefined;
}
