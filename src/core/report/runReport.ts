/** What the report says of one run or dry run, and of one checklist: the parts the report's sections share. */
import type { RunRecord, SignOff } from '../model/runs';
import type { TimeSeries } from './timeSeries';

export interface ChecklistReport {
  id: string;
  items: ChecklistItemReport[];
}

export interface ChecklistItemReport {
  id: string;
  item: string;
  owner: string;
  required: boolean;
  /** Who checked it and when: the runbook's own record, else the latest sign-off in the ledger. */
  checked?: { by: string; at: string };
  /** Every sign-off the ledger holds for the item, oldest first (unchecking included). */
  history: SignOff[];
}

export type RunKind = 'dry-run' | RunRecord['mode'];

export interface RunReport {
  id: string;
  cell: string;
  kind: RunKind;
  environment: string;
  operator: string;
  host?: string;
  startedAt: string;
  endedAt?: string;
  durationMs?: number;
  outcome: string;
  reason?: string;
  /** What this run itself did: records it finished by status, plus skipped (done earlier in its chain). */
  counts: Record<string, number>;
  chain?: string;
  /** Records this run finished that needed more than one attempt. */
  retried: number;
  /**
   * Rows the statements of a SQL action changed, over the records whose latest outcome this run holds
   * (the ledger keeps each record's own); undefined when the action reports none (HTTP, queue, …).
   */
  rowsAffected?: number;
  /** Records this run left failed (or not right), by kind of error. */
  errorsByKind: Record<string, number>;
  /** Average records per second over the run. */
  rate?: number;
  series?: TimeSeries;
  /** Parameters the run was started with (throttle, subset, flags, vars), secrets already redacted. */
  params: RunParams;
  fingerprint: string;
}

export interface RunParams {
  restart?: boolean;
  onlyFailed?: boolean;
  vars?: Record<string, string>;
  throttle?: { rate?: number; concurrency?: number };
  [flag: string]: unknown;
}
