/**
 * The sizes that bound what a run holds per record key — a chain's keys read as a Set, the keys a
 * validator remembers, the pairs an external sort holds — and where a big source's repeated keys are
 * kept between runs. The defaults suit any run; `BACKFILL_TEST_KEYS_IN_MEMORY` (with the variables of
 * sources/keyLimits.ts) lowers them for tests and benchmarks only. This file cannot depend on the vscode API.
 */
import { join } from 'node:path';
import { keyLimitsFrom, positive, type KeyLimits } from '../sources/keyLimits';

export interface KeyMemory extends KeyLimits {
  /** The state folder's file for the latest source's repeated keys (sources/repeatedKeysCache.ts). */
  cacheFile?: string;
  /** Chains with more records than this are merged with the source by line (ledger/chainRecords.ts). */
  keysInMemory?: number;
}

/** The key memory of a run recording into `stateDir`. */
export function keyMemoryFor(stateDir: string, environment: NodeJS.ProcessEnv = process.env): KeyMemory {
  const keysInMemory = positive(environment.BACKFILL_TEST_KEYS_IN_MEMORY);
  return {
    cacheFile: join(stateDir, 'repeated-keys.json'),
    ...keyLimitsFrom(environment),
    ...(keysInMemory !== undefined ? { keysInMemory } : {}),
  };
}
