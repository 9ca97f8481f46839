/**
 * Verification through the runner: the attempt for a record is its check instead of the job's action,
 * so a verify cell is throttled, retried, controllable, checkpointed and resumable exactly like an
 * execute cell. This folder cannot depend on the vscode API.
 */
import type { AttemptResult } from '../model/attemptResult';
import { checkKindOf, type CheckSpec } from '../checks/checkKinds';
import type { RecordCheck } from '../checks/compiledCheck';
import {
  describeEnvironment,
  type AttemptStrategy,
  type PreparedUnit,
  type StrategyOptions,
} from '../attempts/attemptStrategy';
import { UserError } from '../model/types';

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
  options: StrategyOptions & { concurrency: number; checkLine?: number },
): Promise<AttemptStrategy<CheckUnit>> {
  const kind = checkKindOf(spec);
  const compiled = kind.compile(spec);
  if (compiled.issues.length > 0) {
    throw new UserError(`the check of cell ${cell} is invalid: run ${options.checkCommand}`);
  }
  const check = await compiled.open({
    baseDir: options.baseDir,
    concurrency: options.concurrency,
    context: options.context,
    ...(options.checkLine !== undefined
      ? { location: { file: options.runbookFile, cell, line: options.checkLine } }
      : {}),
  });
  return {
    target: `${kind.describe(spec, options.environment.vars)}${describeEnvironment(options.environment)}`,
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
