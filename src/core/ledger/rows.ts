/**
 * Conversions between the ledger's SQL rows and the contracts of src/core/model/runs.ts. Optional fields
 * are stored as NULL and read back as absent, so an outcome round-trips to a deep-equal object.
 */
import type { SqlValue } from 'sql.js';
import type {
  ErrorKind,
  RecordOutcome,
  RecordStatus,
  RunMode,
  RunOutcome,
  RunRecord,
  SignOff,
} from '../model/runs';
import type { DryRunRow } from './ledger';

/** A row as sql.js returns it from `getAsObject`. */
export type Row = Record<string, SqlValue>;

/** Column order of `records`, shared by the insert statement and `outcomeParameters`. */
export const OUTCOME_COLUMNS = [
  'chain',
  'key',
  'run',
  'cell',
  'status',
  'attempts',
  'line',
  'last_error',
  'error_kind',
  'http_status',
  'duration_ms',
  'idempotency_key',
  'at',
  'expected',
  'actual',
  'rows_affected',
] as const;

/** Column order of `runs`, shared by the insert statement and `runParameters`. */
export const RUN_COLUMNS = [
  'id',
  'chain',
  'cell',
  'job',
  'mode',
  'environment',
  'operator',
  'host',
  'pid',
  'started_at',
  'ended_at',
  'fingerprint',
  'params',
  'outcome',
  'reason',
  'counts',
] as const;

export function dryRunParameters(row: DryRunRow): SqlValue[] {
  return [
    row.id,
    row.cell,
    row.job,
    row.environment,
    row.operator,
    row.host,
    row.startedAt,
    row.finishedAt,
    row.definitionHash,
    row.contentHash,
    row.fingerprint,
    row.passed ? 1 : 0,
    row.total,
    row.valid,
    row.rejected,
    row.duplicates,
    row.report,
  ];
}

export function toDryRunRow(row: Row): DryRunRow {
  return {
    id: String(row.id),
    cell: String(row.cell),
    job: String(row.job),
    environment: String(row.environment),
    operator: String(row.operator),
    host: String(row.host),
    startedAt: String(row.started_at),
    finishedAt: String(row.finished_at),
    definitionHash: String(row.definition_hash),
    contentHash: String(row.content_hash),
    fingerprint: String(row.fingerprint),
    passed: row.passed === 1,
    total: Number(row.total),
    valid: Number(row.valid),
    rejected: Number(row.rejected),
    duplicates: Number(row.duplicates),
    report: String(row.report),
  };
}

/** The ids under which `names` keeps an outcome's chain, run and cell (schema version 4). */
export interface OutcomeNameIds {
  chain: number;
  run: number;
  cell: number;
}

export function outcomeParameters(outcome: RecordOutcome, ids: OutcomeNameIds): SqlValue[] {
  return [
    ids.chain,
    outcome.key,
    ids.run,
    ids.cell,
    outcome.status,
    outcome.attempts,
    outcome.line,
    outcome.lastError ?? null,
    outcome.errorKind ?? null,
    outcome.httpStatus ?? null,
    outcome.durationMs ?? null,
    outcome.idempotencyKey,
    outcome.at,
    outcome.expected ?? null,
    outcome.actual ?? null,
    outcome.rowsAffected ?? null,
  ];
}

/**
 * The columns of an outcome with nothing wrong to say (no error, no expected and actual values, no rows
 * affected): nearly every outcome of a run. The rest are NULL, so they need not be bound one by one.
 */
export const PLAIN_OUTCOME_COLUMNS = [
  'chain',
  'key',
  'run',
  'cell',
  'status',
  'attempts',
  'line',
  'http_status',
  'duration_ms',
  'idempotency_key',
  'at',
] as const;

/** True when the outcome's columns outside {@link PLAIN_OUTCOME_COLUMNS} are all NULL. */
export function isPlainOutcome(outcome: RecordOutcome): boolean {
  return (
    outcome.lastError === undefined &&
    outcome.errorKind === undefined &&
    outcome.expected === undefined &&
    outcome.actual === undefined &&
    outcome.rowsAffected === undefined
  );
}

/**
 * Appends to `into` the values of {@link PLAIN_OUTCOME_COLUMNS} (a plain outcome) or of
 * {@link OUTCOME_COLUMNS}, in their order: no array per outcome.
 */
export function pushOutcomeParameters(
  into: SqlValue[],
  outcome: RecordOutcome,
  ids: OutcomeNameIds,
  plain: boolean,
): void {
  into.push(ids.chain, outcome.key, ids.run, ids.cell, outcome.status, outcome.attempts, outcome.line);
  if (!plain) into.push(outcome.lastError ?? null, outcome.errorKind ?? null);
  into.push(outcome.httpStatus ?? null, outcome.durationMs ?? null, outcome.idempotencyKey, outcome.at);
  if (!plain) into.push(outcome.expected ?? null, outcome.actual ?? null, outcome.rowsAffected ?? null);
}

/** An outcome from its row; `nameOf` turns the row's chain, run and cell ids back into their names. */
export function toOutcome(row: Row, nameOf: (id: SqlValue | undefined) => string): RecordOutcome {
  return {
    run: nameOf(row.run),
    chain: nameOf(row.chain),
    cell: nameOf(row.cell),
    key: String(row.key),
    status: String(row.status) as RecordStatus,
    attempts: Number(row.attempts),
    line: Number(row.line),
    ...optional('lastError', row.last_error, String),
    ...optional('errorKind', row.error_kind, (value) => String(value) as ErrorKind),
    ...optional('httpStatus', row.http_status, Number),
    ...optional('durationMs', row.duration_ms, Number),
    ...optional('expected', row.expected, String),
    ...optional('actual', row.actual, String),
    ...optional('rowsAffected', row.rows_affected, Number),
    idempotencyKey: String(row.idempotency_key),
    at: String(row.at),
  };
}

export function runParameters(run: RunRecord): SqlValue[] {
  return [
    run.id,
    run.chain,
    run.cell,
    run.job,
    run.mode,
    run.environment,
    run.operator,
    run.host,
    run.pid,
    run.startedAt,
    run.endedAt ?? null,
    run.fingerprint,
    run.params,
    run.outcome,
    run.reason ?? null,
    run.counts ?? null,
  ];
}

export function toRun(row: Row): RunRecord {
  return {
    id: String(row.id),
    chain: String(row.chain),
    cell: String(row.cell),
    job: String(row.job),
    mode: String(row.mode) as RunMode,
    environment: String(row.environment),
    operator: String(row.operator),
    host: String(row.host),
    pid: Number(row.pid),
    startedAt: String(row.started_at),
    ...optional('endedAt', row.ended_at, String),
    fingerprint: String(row.fingerprint),
    params: String(row.params),
    outcome: String(row.outcome) as RunOutcome,
    ...optional('reason', row.reason, String),
    ...optional('counts', row.counts, String),
  };
}

export function toSignOff(row: Row): SignOff {
  return {
    checklist: String(row.checklist),
    item: String(row.item),
    by: String(row.signed_by),
    at: String(row.at),
    checked: row.checked === 1,
  };
}

/** `{ [name]: convert(value) }` when the column is not NULL, `{}` otherwise. */
function optional<K extends string, T>(
  name: K,
  value: SqlValue | undefined,
  convert: (value: SqlValue) => T,
): { [P in K]?: T } {
  return value === null || value === undefined ? {} : ({ [name]: convert(value) } as { [P in K]?: T });
}
