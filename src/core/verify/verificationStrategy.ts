/**
 * Verification through the runner: the attempt for a record is its check instead of the job's action,
 * so a verify cell is throttled, retried, controllable, checkpointed and resumable exactly like an
 * execute cell. This folder cannot depend on the vscode API.
 */
import type { CheckSpec } from '../format/checkSchemas';
import {
  describeEnvironment,
  type AttemptStrategy,
  type PreparedUnit,
  type StrategyOptions,
} from '../run/attemptStrategy';
import type { AttemptResult } from '../run/types';
import { UserError } from '../types';
import type { CompiledCheck, RecordCheck } from './compiledCheck';
import { compileCommandCheck } from './commandCheck';
import { compileHttpCheck } from './httpCheck';
import { compileModuleCheck } from './moduleCheck';
import { compileSqliteCheck } from './sqliteCheck';
import { compilePostgresCheck } from './postgres/postgresCheck';

/**
 * Compiles a check spec once. Problems in the spec come back in `issues`, each naming its field
 * (`url`, `expect.body.amount`, `argv[1]`, `params[0]`), relative to `check`.
 */
export function compileCheck(spec: CheckSpec): CompiledCheck {
  switch (spec.type) {
    case 'http':
      return compileHttpCheck(spec);
    case 'command':
      return compileCommandCheck(spec);
    case 'module':
      return compileModuleCheck(spec);
    case 'sqlite':
      return compileSqliteCheck(spec);
    case 'postgres':
      return compilePostgresCheck(spec);
  }
}

interface CheckUnit extends PreparedUnit {
  check: RecordCheck;
}

/**
 * The strategy of a verify cell. Opens the check (connections, the module, the database file) and
 * throws a UserError when the check is invalid or cannot be opened: the run does not start.
 */
export async function createVerificationStrategy(
  cell: string,
  spec: CheckSpec,
  options: StrategyOptions & { concurrency: number },
): Promise<AttemptStrategy<CheckUnit>> {
  const compiled = compileCheck(spec);
  if (compiled.issues.length > 0) {
    throw new UserError(`the check of cell ${cell} is invalid: run ${options.checkCommand}`);
  }
  const check = await compiled.open({
    baseDir: options.baseDir,
    concurrency: options.concurrency,
    context: options.context,
  });
  return {
    target: `${compiled.describe(options.environment.vars)}${describeEnvironment(options.environment)}`,
    secretNames: compiled.references.secretNames,
    successStatus: 'verified',
    failureStatus: 'error',
    batchSize: 1,
    prepare: (record) => {
      const prepared = check.prepare(record);
      return prepared.ok
        ? { ok: true, value: { record, idempotencyKey: '', check: prepared.value } }
        : prepared;
    },
    attempt: async (units, opts) => {
      // One after another: the runner's concurrency counts units, and a check is one record.
      const results = new Map<string, AttemptResult>();
      for (const unit of units) results.set(unit.record.key, await unit.check(opts));
      return results;
    },
    setConcurrency: (concurrency) => check.setConcurrency(concurrency),
    close: () => check.close(),
  };
}
