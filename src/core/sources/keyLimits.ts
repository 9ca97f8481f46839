/**
 * How many keys a pass over a source holds before it finds duplicates on disk instead: the sizes of
 * recordValidator.ts and repeatedKeys.ts. The defaults suit any source; `BACKFILL_TEST_KEYS_REMEMBERED`
 * and `BACKFILL_TEST_KEY_RUN_SIZE` lower them for tests and benchmarks of the command line, so a few
 * thousand records take the path a hundred million take. Nothing else sets them. This file cannot
 * depend on the vscode API.
 */

export interface KeyLimits {
  /** Keys the validator remembers before it asks for the repeated keys (recordValidator.ts). */
  keysRemembered?: number;
  /** Key hashes sorted in memory per run of the external sort, 8 bytes each (repeatedHashes.ts). */
  runSize?: number;
}

/** The limits the environment lowers, if any. */
export function keyLimitsFrom(environment: NodeJS.ProcessEnv = process.env): KeyLimits {
  const keysRemembered = positive(environment.BACKFILL_TEST_KEYS_REMEMBERED);
  const runSize = positive(environment.BACKFILL_TEST_KEY_RUN_SIZE);
  return {
    ...(keysRemembered !== undefined ? { keysRemembered } : {}),
    ...(runSize !== undefined ? { runSize } : {}),
  };
}

/** A positive whole number from the environment, or undefined. */
export function positive(value: string | undefined): number | undefined {
  const number = Number(value);
  return Number.isSafeInteger(number) && number > 0 ? number : undefined;
}
