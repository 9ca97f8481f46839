/**
 * The exit codes users and scripts rely on, and how a run's outcome maps to them: the core returns an
 * outcome, the command line decides what a shell sees.
 */
import type { RunResultOutcome } from '../core/run/runEvents';

export const ExitCode = {
  ok: 0,
  /** Finished, but below the success threshold or with mismatches. */
  belowThreshold: 1,
  /** Invalid input or usage. */
  invalid: 2,
  /** Halted; running the same command again resumes. */
  haltedResumable: 3,
  /** Refused by a safety gate. */
  refused: 4,
  /** A bug in backfill itself. */
  internal: 70,
} as const;

/**
 * The exit code of a run (or verification) that ended with `outcome`: 0 succeeded, 1 below the success
 * threshold (for a verification: mismatches, missing or unchecked records), 3 halted (resumable), 4
 * refused by a gate.
 */
export function exitCodeOfRun(outcome: RunResultOutcome): number {
  switch (outcome) {
    case 'succeeded':
      return ExitCode.ok;
    case 'below-threshold':
      return ExitCode.belowThreshold;
    case 'halted':
      return ExitCode.haltedResumable;
    case 'refused':
      return ExitCode.refused;
  }
}
