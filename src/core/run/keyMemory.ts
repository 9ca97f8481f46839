/**
 * The sizes that bound what a run holds per record key — a chain's keys read as a Set, the keys a
 * validator remembers, the pairs an external sort holds — and where a big source's repeated keys are
 * kept between runs. The defaults suit any run; the sizes are only lowered by tests and benchmarks, so
 * a few thousand records take the paths a hundred million take. This file cannot depend on the vscode API.
 */
import { join } from 'node:path';

export interface KeyMemory {
  /** The state folder's file for the latest source's repeated keys (sources/repeatedKeysCache.ts). */
  cacheFile?: string;
  /** Chains with more records than this are merged with the source by line (chainRecords.ts). */
  keysInMemory?: number;
  /** Keys the validator remembers before it asks for the repeated keys (sources/recordValidator.ts). */
  keysRemembered?: number;
  /** Pairs sorted in memory per run of the external sort (sources/repeatedKeys.ts). */
  runSize?: number;
}

/**
 * The key memory of a run recording into `stateDir`. `BACKFILL_TEST_KEYS_IN_MEMORY`,
 * `BACKFILL_TEST_KEYS_REMEMBERED` and `BACKFILL_TEST_KEY_RUN_SIZE` lower the sizes for tests and
 * benchmarks of the command line; nothing else sets them.
 */
export function keyMemoryFor(stateDir: string, environment: NodeJS.ProcessEnv = process.env): KeyMemory {
  const size = (name: string) => {
    const value = Number(environment[name]);
    return Number.isSafeInteger(value) && value > 0 ? value : undefined;
  };
  const keysInMemory = size('BACKFILL_TEST_KEYS_IN_MEMORY');
  const keysRemembered = size('BACKFILL_TEST_KEYS_REMEMBERED');
  const runSize = size('BACKFILL_TEST_KEY_RUN_SIZE');
  return {
    cacheFile: join(stateDir, 'repeated-keys.json'),
    ...(keysInMemory !== undefined ? { keysInMemory } : {}),
    ...(keysRemembered !== undefined ? { keysRemembered } : {}),
    ...(runSize !== undefined ? { runSize } : {}),
  };
}
