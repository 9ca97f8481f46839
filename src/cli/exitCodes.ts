/** The exit codes users and scripts rely on. */
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
