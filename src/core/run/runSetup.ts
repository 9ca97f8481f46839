/**
 * What a run is made of that its options alone decide: the attempt strategy it sends (or checks) with,
 * how its database source connects, and the count of the source's valid records for the plan line. Run
 * (run.ts) wires these; they hold no state of the run.
 *
 * This file cannot depend on the vscode API.
 */
import { createExecutionStrategy, type AttemptStrategy } from '../attempts/attemptStrategy';
import type { SecretResolver } from '../secrets/secrets';
import type { OpenSourceOptions } from '../sources/openSource';
import type { SourcePin } from '../sources/sourcePin';
import { createVerificationStrategy } from '../verify/verificationStrategy';
import type { KeyMemory } from './keyMemory';
import { countValidRecords } from './recordFeed';
import type { ResumePlan } from './resumePlan';
import type { RunOptions } from './runOptions';
import { sumOf } from './statusCounts';
import type { RunKind } from './verdict';

/** How the run opens its source: what a database source needs to connect and where its errors point. */
export type RunSourceOptions = Pick<OpenSourceOptions, 'connection' | 'location' | 'pin'>;

/** The attempt strategy: the cell's check for a verification, the job's action otherwise. */
export function createRunStrategy(
  { job, runbook, environment }: RunOptions,
  kind: RunKind,
  secrets: SecretResolver,
): Promise<AttemptStrategy> {
  const options = {
    baseDir: runbook.baseDir,
    environment,
    context: { env: environment.vars, secrets },
    runbookFile: runbook.file,
    checkCommand: `backfill check ${runbook.file}`,
  };
  if (kind === 'execute') return createExecutionStrategy(job, options);
  if (!job.check) throw new Error(`internal error: cell ${job.cell} has no check to verify with`);
  return createVerificationStrategy(job.cell, job.check, {
    ...options,
    concurrency: job.throttle.concurrency,
    ...(job.checkLine !== undefined ? { checkLine: job.checkLine } : {}),
  });
}

/** What a database source needs: the environment's vars, the run's secrets, where its errors point. */
export function runSourceOptions(
  { job, runbook, environment }: RunOptions,
  secrets: SecretResolver,
  pin: SourcePin,
): RunSourceOptions {
  return {
    connection: { env: environment.vars, secrets },
    location: { file: runbook.file, cell: job.job, line: job.sourceLine },
    pin,
  };
}

/**
 * Valid records of the source for the plan line: a dry run's count of the same data, else counted now
 * when that is cheap (recordFeed.ts countValidRecords), else unknown. Not for a re-run of chosen records
 * or a re-judgement, which say their own counts.
 */
export async function sourceCount(
  { job, runbook }: RunOptions,
  plan: ResumePlan,
  sourceOptions: RunSourceOptions,
  keys: KeyMemory,
): Promise<number | undefined> {
  if (plan.ofSource !== undefined || plan.rerun || plan.chain.rejudge) return plan.ofSource;
  const valid = sumOf(plan.earlier) - plan.earlier.rejected;
  return countValidRecords(job, runbook.baseDir, sourceOptions, keys, undefined, valid);
}
