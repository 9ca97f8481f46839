/**
 * The records a run sends, in the words of its plan line — "20 of 1,995 (subset first: 20)", "1,975 of
 * 1,995 (20 skipped: done by small-batch)", "up to 3 of 100 (subset keys: 3 listed)" — for the command
 * line's plan and the editor's confirmation alike, so the two never say different things. This file
 * cannot depend on the vscode API.
 */
import { describeDoneElsewhere } from './statusFigures';
import type { RunPlan } from './runEvents';

/** What the run really sends, as far as known before it starts. */
export function describePlannedRecords(plan: Pick<RunPlan, 'records' | 'doneElsewhere' | 'rerun'>): string {
  const n = (value: number) => value.toLocaleString('en-US');
  const { records } = plan;
  const notes = [
    ...(records?.subset ? [`subset ${records.subset}`] : []),
    ...describeDoneElsewhere(plan.doneElsewhere ?? {}),
  ];
  const why = notes.length > 0 ? ` (${notes.join('; ')})` : '';
  // Neither a dry run of the same data nor a cheap count up front (a database, a command, a huge file).
  if (records?.sending === undefined) return `count unknown until read${why}`;
  const whole = records.sending === records.ofSource && !records.atMost;
  const of = records.ofSource !== undefined && !plan.rerun && !whole ? ` of ${n(records.ofSource)}` : '';
  return `${records.atMost ? 'up to ' : ''}${n(records.sending)}${of}${why}`;
}
