import { jobCell, type RunnableCell, type Runbook } from '../format/runbook';
import type { CheckSpec } from '../checks/checkKinds';
import type { ActionSpec, ErrorBudgetSpec, SourceSpec, Subset, Throttle } from '../format/schemas';
import { UserError } from '../model/types';

/** What a runnable cell actually does: its job's definition with the cell's overrides applied. */
export interface ResolvedJob {
  /** The job cell's id. */
  job: string;
  /** The runnable cell's id. */
  cell: string;
  /** File line of the job's `source`, for messages about the source. */
  sourceLine: number;
  /** File line of the job's `action`, for messages about the action (a statement the database refuses). */
  actionLine: number;
  source: SourceSpec;
  action: ActionSpec;
  throttle: Throttle;
  errorBudget: ErrorBudgetSpec;
  subset?: Subset;
  /** Share of records that must succeed (execute cells; 1 otherwise). */
  successThreshold: number;
  /** A verify cell's check: its runs read each record's end state instead of sending the action. */
  check?: CheckSpec;
  /** File line of a verify cell's `check`, for messages about the check (a query the database refuses). */
  checkLine?: number;
}

export function resolveJob(runbook: Runbook, cell: RunnableCell): ResolvedJob {
  const definition = jobCell(runbook, cell.spec.job);
  if (!definition) throw new UserError(`cell ${cell.id} refers to unknown job "${cell.spec.job}"`);
  return {
    job: definition.id,
    cell: cell.id,
    sourceLine: definition.locate(['source']),
    actionLine: definition.locate(['action']),
    source: definition.spec.source,
    action: definition.spec.action,
    throttle: { ...definition.spec.throttle, ...cell.spec.throttle },
    errorBudget: {
      ...definition.spec.errorBudget,
      ...(cell.kind === 'execute' ? cell.spec.errorBudget : {}),
    },
    successThreshold: cell.kind === 'verify' ? 1 : cell.spec.successThreshold,
    ...(cell.spec.subset ? { subset: cell.spec.subset } : {}),
    ...(cell.kind === 'verify' ? { check: cell.spec.check, checkLine: cell.locate(['check']) } : {}),
  };
}
