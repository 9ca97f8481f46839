/**
 * Runs a SQL action: each call gets up to `batchSize` records and runs their statements in one
 * transaction (all or nothing); when a statement fails, the transaction is rolled back and the records
 * are run again one per transaction, so only the failing record fails. Serialization failures, deadlocks,
 * timeouts and lost connections are retryable; the runner retries them with backoff. Never throws for a
 * record. This file cannot depend on the vscode API.
 */
import type { Pool, PoolClient } from 'pg';
import type { AttemptResult } from '../../model/attemptResult';
import {
  connectionError,
  createPool,
  growPool,
  resolveConnectionUrl,
  type ConnectionContext,
} from '../../sources/postgres/connection';
import type { NamedSql } from '../../support/postgres/namedSql';
import type { ActionLocation } from '../actionKind';
import type { AttemptOptions } from '../attempt';
import { failed, startStopwatch } from '../attempt';
import type { ExecutionUnit, Executor } from '../executor';
import type { AppliedMarkers } from './appliedMarkers';
import {
  appliedTableError,
  markersOf,
  bindRecord,
  compileStatement,
  prepareStatement,
  statementError,
} from './sqlAction';
import type { SqlActionSpec } from './sqlSchema';
import { isStatementError, sqlFailure } from './sqlErrors';

export interface SqlExecutorOptions {
  context: ConnectionContext;
  concurrency: number;
  location?: ActionLocation;
}

/**
 * Connects, checks the statement with PREPARE (nothing runs) and returns the executor. Throws a
 * UserError when the database cannot be reached or refuses the statement: the run then sends nothing.
 */
export async function createSqlExecutor(spec: SqlActionSpec, opts: SqlExecutorOptions): Promise<Executor> {
  const compiled = compileStatement(spec.statement);
  if (!compiled.ok) throw statementError(new Error(compiled.message), '', opts.location);
  const sql = compiled.sql;
  const url = resolveConnectionUrl(spec.url, opts.context, 'action.url');
  const pool = createPool(url, opts.concurrency);
  let client: PoolClient | undefined;
  try {
    client = await pool.connect();
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw connectionError(error, url);
  }
  const markers = markersOf(spec);
  try {
    await prepareStatement(client, sql);
  } catch (error) {
    client.release();
    await pool.end().catch(() => undefined);
    throw statementError(error, url, opts.location);
  }
  try {
    const problem = await markers?.problem(client);
    if (problem) throw new Error(problem);
    await markers?.ensure(client);
  } catch (error) {
    client.release();
    await pool.end().catch(() => undefined);
    throw appliedTableError(error, url, markers!.table, opts.location);
  }
  client.release();
  const run = (units: ExecutionUnit[], attempt: AttemptOptions) =>
    runBatch(pool, spec, sql, url, markers, units, attempt);
  return {
    mode: 'batch',
    execute: async (preview, record, _ctx, attempt) => {
      const results = await run(
        [{ key: record.key, line: record.line, fields: record.fields, preview }],
        attempt,
      );
      return results.get(record.key)!;
    },
    executeUnits: run,
    setConcurrency: (concurrency) => growPool(pool, concurrency),
    close: () => pool.end().catch(() => undefined),
  };
}

async function runBatch(
  pool: Pool,
  spec: SqlActionSpec,
  sql: NamedSql,
  url: string,
  markers: AppliedMarkers | undefined,
  units: ExecutionUnit[],
  attempt: AttemptOptions,
): Promise<Map<string, AttemptResult>> {
  const results = new Map<string, AttemptResult>();
  const elapsed = startStopwatch();
  const bound = new Map<string, unknown[]>();
  for (const unit of units) {
    const values = bindRecord(sql, unit);
    if (values.ok) bound.set(unit.key, values.values);
    else results.set(unit.key, failed(0, { kind: 'render', retryable: false, message: values.reason }));
  }
  const todo = units.filter((unit) => bound.has(unit.key));
  if (todo.length === 0) return results;
  const timeoutMs = spec.statementTimeoutMs ?? attempt.timeoutMs;
  let client: PoolClient;
  try {
    client = await pool.connect();
  } catch (error) {
    for (const unit of todo) results.set(unit.key, failed(elapsed(), sqlFailure(error, url)));
    return results;
  }
  const apply = (group: ExecutionUnit[]) =>
    applyOnce(client, { spec, sql, markers, timeoutMs, values: (unit) => bound.get(unit.key)! }, group);
  let broken = false;
  try {
    const batch = await apply(todo);
    if (batch.ok) {
      for (const [key, rows] of batch.rows) results.set(key, outcome(spec, rows, elapsed()));
      return results;
    }
    const failure = sqlFailure(batch.error, url);
    // The whole batch may succeed on a retry (a conflict, a lost connection): no need to isolate anyone.
    if (failure.retryable || isStatementError(batch.error) || todo.length === 1) {
      broken = failure.kind === 'connection';
      for (const unit of todo) results.set(unit.key, failed(elapsed(), failure));
      return results;
    }
    for (const unit of todo) {
      const started = startStopwatch();
      const one = await apply([unit]);
      if (one.ok) results.set(unit.key, outcome(spec, one.rows.get(unit.key)!, started()));
      else {
        const error = sqlFailure(one.error, url);
        broken ||= error.kind === 'connection';
        results.set(unit.key, failed(started(), error));
      }
    }
    return results;
  } finally {
    client.release(broken);
  }
}

interface ApplyContext {
  spec: SqlActionSpec;
  sql: NamedSql;
  markers: AppliedMarkers | undefined;
  timeoutMs: number;
  values: (unit: ExecutionUnit) => unknown[];
}

/** Another transaction marked one of the batch's records while it ran: look again, then apply the rest. */
class MarkedMeanwhile extends Error {}

/**
 * Applies a group of records in one transaction, with their applied-markers. A record marked before is
 * not run again: its rows are those its marker kept. Resolves with the rows of every record of `group`.
 */
async function applyOnce(
  client: PoolClient,
  ctx: ApplyContext,
  group: ExecutionUnit[],
): Promise<{ ok: true; rows: Map<string, number> } | { ok: false; error: unknown }> {
  for (let round = 0; ; round++) {
    const rows = new Map<string, number>();
    let pending = group;
    if (ctx.markers) {
      const keys = group.flatMap((unit) => (unit.idempotencyKey ? [unit.idempotencyKey] : []));
      let applied: Map<string, number>;
      try {
        applied = keys.length > 0 ? await ctx.markers.applied(client, keys) : new Map<string, number>();
      } catch (error) {
        return { ok: false, error };
      }
      pending = group.filter((unit) => {
        const before = unit.idempotencyKey ? applied.get(unit.idempotencyKey) : undefined;
        if (before !== undefined) rows.set(unit.key, before);
        return before === undefined;
      });
      if (pending.length === 0) return { ok: true, rows };
    }
    const batch = await inTransaction(client, ctx.timeoutMs, async () => {
      const changed: number[] = [];
      for (const unit of pending) changed.push(await runStatement(client, ctx.sql, ctx.values(unit)));
      // A statement that changed nothing applied nothing: running it again cannot apply it twice, and a
      // re-run after the data is fixed must not be skipped.
      const marked = pending.flatMap((unit, i) =>
        unit.idempotencyKey && changed[i]! > 0 ? [{ key: unit.idempotencyKey, rows: changed[i]! }] : [],
      );
      if (
        ctx.markers &&
        marked.length > 0 &&
        !(await ctx.markers.mark(
          client,
          marked.map((m) => m.key),
          marked.map((m) => m.rows),
        ))
      ) {
        throw new MarkedMeanwhile();
      }
      return changed;
    });
    if (batch.ok) {
      pending.forEach((unit, i) => rows.set(unit.key, batch.value[i]!));
      return { ok: true, rows };
    }
    if (!(batch.error instanceof MarkedMeanwhile) || round >= 2) {
      return {
        ok: false,
        error:
          batch.error instanceof MarkedMeanwhile
            ? Object.assign(new Error('another transaction applied these records meanwhile'), {
                code: '40001',
              })
            : batch.error,
      };
    }
  }
}

/**
 * Runs the statement for one record; resolves with the rows it changed. A named statement, so each
 * connection parses and plans it once and then only binds values: an unnamed one is parsed and planned
 * again for every record, which made the database the bottleneck of a fast backfill.
 */
async function runStatement(client: PoolClient, sql: NamedSql, values: unknown[]): Promise<number> {
  return (await client.query({ name: STATEMENT_NAME, text: sql.text, values })).rowCount ?? 0;
}

/** One executor's statement per connection (each run has its own pool, so one name is enough). */
const STATEMENT_NAME = 'backfill_record';

/** Runs `work` between BEGIN and COMMIT with the statement timeout; rolls back on any error. */
async function inTransaction<T>(
  client: PoolClient,
  timeoutMs: number,
  work: () => Promise<T>,
): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  try {
    await client.query('BEGIN');
    await client.query(`SET LOCAL statement_timeout = ${Math.floor(timeoutMs)}`);
    const value = await work();
    await client.query('COMMIT');
    return { ok: true, value };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    return { ok: false, error };
  }
}

/** A statement that ran: success with its row count, unless it changed nothing and `zeroRows` says fail. */
function outcome(spec: SqlActionSpec, rows: number, durationMs: number): AttemptResult {
  if (rows === 0 && spec.zeroRows === 'fail') {
    // The ledger keeps the 0 as well as the reason: "matched no row" is the outcome, not an error text.
    const zero = failed(durationMs, {
      kind: 'other',
      retryable: false,
      message: 'the statement changed 0 rows (zeroRows: fail): the record does not match the WHERE clause',
    });
    return { ...zero, rowsAffected: 0 };
  }
  return { ok: true, durationMs, rowsAffected: rows };
}
