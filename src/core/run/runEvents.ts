/** What the plan line says about the records of a run. */
export interface PlannedRecords {
  /** Records this run sends (or checks): exactly, or at most this many when `atMost`. */
  sending?: number;
  atMost?: true;
  /** Valid records of the job's source, from a dry run of the same job and data. */
  ofSource?: number;
  /** The cell's subset in words: "first: 20", "sample: 5 %". */
  subset?: string;
}

/**
 * What a run tells its caller (the command line, the extension through it): the plan before the first
 * record, events while it runs, and its result. The result is an outcome, never an exit code: mapping
 * it to one is the command line's business (src/cli/exitCodes.ts). This file cannot depend on the
 * vscode API.
 */
import type { FailedRecord } from './failureReasons';
import type { RunStatus } from './runStatus';
import type { ErrorKind, RunOutcome } from '../model/runs';

export interface RunPlan {
  run: string;
  chain: string;
  resumed: boolean;
  /** What the run does to each record. */
  kind: 'execute' | 'verify';
  target: string;
  /** Set when the run re-runs chosen records only (`--only failed` or `--only unverified`). */
  rerun?: Rerun;
  /** Set when the run judges a finished chain again and sends nothing. */
  rejudge?: Rejudge;
  total?: number;
  alreadyDone: number;
  /** What this run sends (or checks): how many, of how many in the source, which subset. */
  records?: PlannedRecords;
  /**
   * Records other execute cells delivered, by cell, that this run skips (deliveredElsewhere.ts); with a
   * subset, at most this many (those of the subset).
   */
  doneElsewhere?: Record<string, number>;
  rate: number;
  concurrency: number;
  estimatedSeconds?: number;
  fingerprint: string;
}

/** A finished run judged again because the cell's thresholds changed: nothing is sent. */
export interface Rejudge {
  /** The run whose chain is judged again. */
  run: string;
  /** How it ended. */
  outcome: string;
  /** What changed: "successThreshold 0.9 (was 0.9999)". */
  changed: string;
}

/** The records a run re-runs instead of the whole selection, and why. */
export interface Rerun {
  only: 'failed' | 'unverified';
  records: number;
  /** For a gap re-backfill: the verification run that found the gaps. */
  verification?: string;
}

export type RunEvent =
  | { type: 'start'; at: string; plan: RunPlan }
  | { type: 'progress'; at: string; status: RunStatus }
  | {
      type: 'error';
      at: string;
      key: string;
      line: number;
      kind: ErrorKind;
      message: string;
      httpStatus?: number;
    }
  | { type: 'halt'; at: string; reason: string }
  | { type: 'finish'; at: string; outcome: RunOutcome; status: RunStatus; firstFailed?: FailedRecord[] };

/** How a run ended: its verdict, or refused by a gate before it started. */
export type RunResultOutcome = Extract<RunOutcome, 'succeeded' | 'below-threshold' | 'halted'> | 'refused';

export interface RunResult {
  /** `succeeded`, `below-threshold`, `halted` (resumable), or `refused` by a gate. */
  outcome: RunResultOutcome;
  reason?: string;
  status?: RunStatus;
  /** The run had no record at all: outcome `below-threshold`, and `reason` says the selection is empty. */
  empty?: true;
  /** The first records this run saw fail, with their reasons (the status has the top reasons). */
  firstFailed?: FailedRecord[];
  /** The run judged a finished chain again with the cell's changed thresholds; it sent nothing. */
  rejudged?: Rejudge;
}
