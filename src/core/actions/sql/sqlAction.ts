/**
 * `action: { type: sql }`: one parameterized statement per record, `:field` placeholders bound to the
 * record's values (never spliced into the text). Compiling checks the placeholders; rendering binds one
 * record; the dry run's preview asks the database to PREPARE and EXPLAIN the statement (never ANALYZE),
 * or, outside production with `dryRun: rollback`, runs it in a transaction that is rolled back. This file
 * cannot depend on the vscode API.
 */
import type { Client, ClientBase } from 'pg';
import type { ValidRecord } from '../../model/types';
import { UserError } from '../../model/types';
import { connectClient, resolveConnectionUrl, scrub, secretNamesOf } from '../../sources/postgres/connection';
import { bindNamed, compileNamedSql, firstKeyword, type NamedSql } from '../../support/postgres/namedSql';
import { extendedQuery } from '../../support/postgres/sqlText';
import { toParameter } from '../../support/postgres/values';
import type { ActionLocation } from '../actionKind';
import { errorMessage } from '../attempt';
import type { CompiledAction, RenderContext, RenderResult } from '../compiledAction';
import { invalidAction } from '../compiledAction';
import { appliedMarkers, type AppliedMarkers } from './appliedMarkers';
import { isStatementError } from './sqlErrors';
import type { SqlActionSpec } from './sqlSchema';
import type { SqlPreview } from './sqlPreview';

/** A statement the database refused as a whole, as a located UserError. */
export function statementError(error: unknown, url: string, location: ActionLocation | undefined): UserError {
  return actionError(
    location,
    'action.statement',
    `PostgreSQL refuses the statement: ${scrub(errorMessage(error), url)}`,
  );
}

/** The applied-markers table cannot be created or read: said at `action.appliedTable`, with what to do. */
export function appliedTableError(
  error: unknown,
  url: string,
  table: string,
  location: ActionLocation | undefined,
): UserError {
  return actionError(
    location,
    'action.appliedTable',
    `the table of applied records "${table}" cannot be created or read: ${scrub(errorMessage(error), url)}: grant CREATE on its schema once (or create it: see README, "Exactly once"), name another with appliedTable, or turn markers off with appliedTable: false`,
  );
}

/** A problem with a SQL action, as `FILE:LINE: cell ID: FIELD: message` when its location is known. */
export function actionError(location: ActionLocation | undefined, field: string, message: string): UserError {
  if (!location) return new UserError(`${field}: ${message}`);
  return new UserError(`the action of job ${location.cell} is invalid`, [{ ...location, field, message }]);
}

/** PREPARE, sent alone with the extended protocol: checks syntax, tables, columns and privileges, runs nothing. */
export async function prepareStatement(client: ClientBase, sql: NamedSql): Promise<void> {
  await client.query(extendedQuery(`PREPARE backfill_check AS ${sql.text}`));
  await client.query('DEALLOCATE backfill_check');
}

/** The statement with `$n` placeholders and the record's values in order, or why the record is refused. */
export function bindRecord(
  sql: NamedSql,
  record: ValidRecord,
): { ok: true; values: unknown[] } | { ok: false; reason: string } {
  const bound = bindNamed(sql, (name) =>
    Object.hasOwn(record.fields, name) && record.fields[name] !== undefined
      ? { found: true, value: toParameter(record.fields[name]) }
      : { found: false },
  );
  if (bound.ok) return bound;
  const names = bound.missing.map((name) => `:${name}`).join(', ');
  return { ok: false, reason: `the statement uses ${names} but the record has no such field` };
}

export function compileSqlAction(spec: SqlActionSpec, location?: ActionLocation): CompiledAction {
  const compiled = compileStatement(spec.statement);
  if (!compiled.ok) return invalidAction(spec, [{ field: 'statement', message: compiled.message }]);
  const sql = compiled.sql;
  const render = (record: ValidRecord): RenderResult => {
    const bound = bindRecord(sql, record);
    if (!bound.ok) return bound;
    const params = Object.fromEntries(sql.names.map((name, i) => [name, bound.values[i]]));
    return { ok: true, preview: { type: 'sql', statement: spec.statement, params } };
  };
  let prepared: Promise<void> | undefined;
  return {
    spec: spec,
    issues: [],
    references: { recordFields: [...sql.names].sort(), envNames: [], secretNames: secretNamesOf(spec.url) },
    requiredFields: { field: 'statement', names: sql.names },
    render,
    async preview(record, ctx) {
      const rendered = render(record);
      if (!rendered.ok || rendered.preview.type !== 'sql') return rendered;
      const url = resolveConnectionUrl(spec.url, ctx, 'action.url');
      const client = await connectClient(url);
      try {
        prepared ??= prepareOnce(client, sql, url, location, markersOf(spec));
        await prepared;
        return { ok: true, preview: await dryRunOne(client, spec, sql, rendered.preview, record, ctx, url) };
      } finally {
        await client.end().catch(() => undefined);
      }
    },
  };
}

/**
 * The statement with `$n` placeholders, or why it cannot be one: more than one statement, a positional
 * parameter, or CALL (which PREPARE and EXPLAIN refuse, so no dry run could check it).
 */
export function compileStatement(
  statement: string,
): { ok: true; sql: NamedSql } | { ok: false; message: string } {
  const compiled = compileNamedSql(statement.replace(/[\s;]+$/, ''));
  if (!compiled.ok) return { ok: false, message: `column ${compiled.column}: ${compiled.message}` };
  if (firstKeyword(compiled.sql.text) === 'CALL') {
    return {
      ok: false,
      message:
        'CALL cannot be prepared or explained, so no dry run could check it: write the procedure as a function and use SELECT my_function(:id), or put its statement here',
    };
  }
  return compiled;
}

/** The action's applied-markers, or undefined when `appliedTable: false` turns them off. */
export function markersOf(spec: SqlActionSpec): AppliedMarkers | undefined {
  return spec.appliedTable === false ? undefined : appliedMarkers(spec.appliedTable);
}

/**
 * PREPARE checks syntax, tables, columns and privileges without running anything; then DEALLOCATE.
 * The markers' table is looked at too: a run that could not keep them would stop at its start.
 */
async function prepareOnce(
  client: Client,
  sql: NamedSql,
  url: string,
  location: ActionLocation | undefined,
  markers: AppliedMarkers | undefined,
): Promise<void> {
  try {
    await prepareStatement(client, sql);
  } catch (error) {
    throw statementError(error, url, location);
  }
  const problem = await markers?.problem(client).catch((error: unknown) => errorMessage(error));
  if (problem) throw appliedTableError(new Error(problem), url, markers!.table, location);
}

async function dryRunOne(
  client: Client,
  spec: SqlActionSpec,
  sql: NamedSql,
  preview: SqlPreview,
  record: ValidRecord,
  ctx: RenderContext,
  url: string,
): Promise<SqlPreview> {
  const bound = bindRecord(sql, record);
  if (!bound.ok) return preview;
  // An unknown environment counts as production: rolling back a real write is still a real write's locks.
  const rollback = spec.dryRun === 'rollback' && ctx.production === false;
  try {
    if (rollback) {
      await client.query('BEGIN');
      try {
        const result = await client.query(extendedQuery(sql.text, bound.values));
        return { ...preview, rowsAffected: result.rowCount ?? 0 };
      } finally {
        await client.query('ROLLBACK');
      }
    }
    const plan = await client.query<{ 'QUERY PLAN': string }>(
      extendedQuery(`EXPLAIN ${sql.text}`, bound.values),
    );
    return { ...preview, plan: plan.rows.map((row) => row['QUERY PLAN']) };
  } catch (error) {
    if (isStatementError(error)) throw statementError(error, url, undefined);
    // A value the database refuses for this record (a type it cannot convert): shown, not fatal.
    return { ...preview, plan: [`PostgreSQL refuses this record: ${scrub(errorMessage(error), url)}`] };
  }
}
