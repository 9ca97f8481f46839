/**
 * What the runner does to each record. The runner owns everything around an attempt — reading the
 * source, the rate limit, concurrency, retries, the error budget, live control, checkpoints and resume —
 * and a strategy owns the attempt itself: sending the job's action to the target (execution), or
 * reading the record's real end state and judging it (verification, in src/core/verify/). This folder
 * cannot depend on the vscode API.
 */
import { compileAction, createExecutor, describeAction, recordsPerAttempt } from '../actions/actionKinds';
import type { AttemptOptions } from '../actions/attempt';
import type { ExecutionUnit as ExecutorUnit } from '../actions/executor';
import type { ActionPreview, RenderContext } from '../actions/compiledAction';
import type { Rendered } from '../actions/template';
import type { ResolvedEnvironment } from '../job/environment';
import type { ResolvedJob } from '../job/job';
import { requireRecordFields } from '../job/requiredFields';
import { UserError, type ValidRecord } from '../model/types';
import type { AttemptResult } from '../model/runs';

/** One record rendered for its attempts: rendered once, attempted until it has an outcome. */
export interface PreparedUnit {
  record: ValidRecord;
  /** The key the attempt carries to the target; empty when it sends nothing that needs one (a check). */
  idempotencyKey: string;
}

/** The attempts of one run: execution of a job's action, or verification of records' end states. */
export interface AttemptStrategy<U extends PreparedUnit = PreparedUnit> {
  /** Where attempts go, for the plan, e.g. `POST http://…/orders/${record:id}/resend in staging`. */
  readonly target: string;
  /** Secrets the templates name: resolved before the first record, so redaction covers them all. */
  readonly secretNames: readonly string[];
  /** The status of a record whose attempt worked: `succeeded`, or `verified` (a check's verdict decides). */
  readonly successStatus: 'succeeded' | 'verified';
  /** The status of a record whose every attempt failed: `failed`, or `error` (it could not be checked). */
  readonly failureStatus: 'failed' | 'error';
  /** Records per attempt: more than one only for a command action in batch mode. */
  readonly batchSize: number;
  /** Renders the attempt for one record, or says why the record is refused (it is then `rejected`). */
  prepare(record: ValidRecord, idempotencyKey: string): Rendered<U>;
  /** One attempt for each unit, results by record key; never more at once than the runner's concurrency. Never throws. */
  attempt(units: U[], opts: AttemptOptions): Promise<Map<string, AttemptResult>>;
  /** Follows a live concurrency change (pooled HTTP connections). */
  setConcurrency(concurrency: number): void;
  close(): Promise<void>;
}

/** What creating a strategy needs besides the job. */
export interface StrategyOptions {
  /** The runbook's folder: module paths are relative to it, and commands run in it. */
  baseDir: string;
  environment: ResolvedEnvironment;
  /** The run's environment vars and secrets. */
  context: Pick<RenderContext, 'env' | 'secrets'>;
  /** The runbook file, for errors located at the action's line. */
  runbookFile: string;
  /** Where to send the user when the definition is invalid, e.g. `backfill check orders.backfill`. */
  checkCommand: string;
}

/** A prepared unit that is also what the executor takes: built once, handed to every attempt as it is. */
interface ExecutionUnit extends PreparedUnit, Omit<ExecutorUnit, 'idempotencyKey'> {
  preview: ActionPreview;
}

/**
 * The strategy of an execute cell: renders the job's action for each record (with its idempotency key)
 * and sends it with the action's executor. Throws a UserError when the action is invalid or its module
 * cannot be loaded, so a run refuses to start instead of failing every record the same way.
 */
export async function createExecutionStrategy(
  job: ResolvedJob,
  options: StrategyOptions,
): Promise<AttemptStrategy<ExecutionUnit>> {
  const location = { file: options.runbookFile, cell: job.job, line: job.actionLine };
  const action = compileAction(job.action, { baseDir: options.baseDir, location });
  if (action.issues.length > 0) {
    throw new UserError(`the action of job ${job.job} is invalid: run ${options.checkCommand}`);
  }
  await requireRecordFields(job.source, action, location, {
    baseDir: options.baseDir,
    connection: options.context,
    location: { file: options.runbookFile, cell: job.job, line: job.sourceLine },
  });
  const executor = await createExecutor(job.action, {
    baseDir: options.baseDir,
    concurrency: job.throttle.concurrency,
    context: options.context,
    location,
  });
  return {
    target: `${describeAction(job.action, options.environment.vars)}${describeEnvironment(options.environment)}`,
    secretNames: action.references.secretNames,
    successStatus: 'succeeded',
    failureStatus: 'failed',
    batchSize: recordsPerAttempt(job.action, job.throttle.batchSize),
    prepare: (record, idempotencyKey) => {
      const { env, secrets } = options.context;
      const rendered = action.render(record, { env, secrets, idempotencyKey });
      if (!rendered.ok) return rendered;
      const { key, line, fields } = record;
      const unit = { record, idempotencyKey, preview: rendered.preview, key, line, fields };
      return { ok: true, value: unit };
    },
    // No copy per attempt: each unit already has the executor's fields.
    attempt: (units, opts) => executor.executeUnits(units, opts),
    setConcurrency: (concurrency) => executor.setConcurrency(concurrency),
    close: () => executor.close(),
  };
}

/** ` in staging`, ` in production (PRODUCTION)`, or nothing without a named environment. */
export function describeEnvironment(environment: ResolvedEnvironment): string {
  if (!environment.name) return '';
  return ` in ${environment.name}${environment.production ? ' (PRODUCTION)' : ''}`;
}
