/**
 * The thresholds a finished run is judged by — `successThreshold` and `maxRejected` — as the runbook says
 * them now and as a run recorded them. A finished cell whose thresholds changed since its last run is
 * judged again from the ledger without sending anything (resumePlan.ts decides, the runner does it), so
 * lowering a threshold is never a reason to send every record again. This file cannot depend on the
 * vscode API.
 */
import type { Runbook } from '../format/runbook';
import { findCell } from '../format/runbook';

/** What a finished run is judged by. */
export interface Thresholds {
  successThreshold: number;
  /** Most rejected records; absent: not limited by the run. */
  maxRejected?: number;
}

/** The thresholds of a runnable cell as the runbook says them now; `successThreshold` is the resolved job's. */
export function cellThresholds(runbook: Runbook, cellId: string, successThreshold: number): Thresholds {
  const cell = findCell(runbook, cellId);
  const maxRejected = cell?.kind === 'execute' ? cell.spec.maxRejected : undefined;
  return { successThreshold, ...(maxRejected !== undefined ? { maxRejected } : {}) };
}

/** The thresholds a run recorded in its parameters; undefined for a run recorded before they were. */
export function recordedThresholds(params: string | undefined): Thresholds | undefined {
  try {
    const parsed = JSON.parse(params ?? '') as { successThreshold?: unknown; maxRejected?: unknown };
    if (typeof parsed.successThreshold !== 'number') return undefined;
    return {
      successThreshold: parsed.successThreshold,
      ...(typeof parsed.maxRejected === 'number' ? { maxRejected: parsed.maxRejected } : {}),
    };
  } catch {
    return undefined;
  }
}

/** True when both say the same; a run that recorded none is judged again. */
export function sameThresholds(recorded: Thresholds | undefined, now: Thresholds): boolean {
  return (
    recorded !== undefined &&
    recorded.successThreshold === now.successThreshold &&
    recorded.maxRejected === now.maxRejected
  );
}

/**
 * The rule both the runner and the editor follow: a plain run of a cell whose latest run finished (for
 * the same job and data) is judged again, sending nothing, when the thresholds changed since — this says
 * what changed ("successThreshold 0.9 (was 0.9999)"); undefined when they did not, and such a run is
 * refused as finished.
 */
export function rejudgeChange(finished: { params?: string }, now: Thresholds): string | undefined {
  const recorded = recordedThresholds(finished.params);
  return sameThresholds(recorded, now) ? undefined : describeChange(recorded, now);
}

/** "successThreshold 0.9 (was 0.9999)", naming only what changed. */
export function describeChange(recorded: Thresholds | undefined, now: Thresholds): string {
  const show = (value: number | undefined) => (value === undefined ? 'none' : String(value));
  const parts: string[] = [];
  if (recorded?.successThreshold !== now.successThreshold) {
    parts.push(`successThreshold ${now.successThreshold} (was ${show(recorded?.successThreshold)})`);
  }
  if (recorded?.maxRejected !== now.maxRejected) {
    parts.push(`maxRejected ${show(now.maxRejected)} (was ${show(recorded?.maxRejected)})`);
  }
  return parts.join(', ');
}
