/** What to do next after a run halted or finished below its threshold, in a cell's output. */
import { resumeAction } from './realRunAction';

/** What the note needs to know of a run: its live status, or the result block it recorded. */
export interface EndedRun {
  mode: string;
  outcome?: string | undefined;
  state?: string | undefined;
  reason?: string | undefined;
}

/** What to do next after a halt or a finish below the threshold; undefined after a success. */
export function endNote(run: EndedRun): string | undefined {
  if (run.outcome === 'halted' || run.state === 'halted') {
    return (
      `Halted${run.reason ? `: ${run.reason}` : ''}. Nothing is lost: run the cell again ` +
      `(${resumeAction(run.mode)}) to resume where it stopped.`
    );
  }
  if (run.outcome === 'below-threshold') {
    // A verification's gaps are re-sent through the job's execute cell; a run's failures are retried.
    const next =
      run.mode === 'verify'
        ? 'Re-send the mismatched and missing records with the button below (Backfill: Re-send Unverified Records), then verify again'
        : 'Re-run the failures with Backfill: Retry Failed Records';
    return (
      `Finished below the success threshold${run.reason ? `: ${run.reason}` : ''}. ${next}; ` +
      'see them with Backfill: Show Ledger.'
    );
  }
  return undefined;
}
