/**
 * `action: { type: sql }`: one parameterized statement per record, `:field` placeholders bound to the
 * record's values (never spliced into the text). Compiling checks the placeholders; rendering binds one
 * record; the dry run's preview asks the database to PREPARE and EXPLAIN the statement (never ANALYZE),
 * or, outside production with `dryRun: rollback`, runs it in a transaction that is rolled back. This file
 * cannot depend on the vscode API.
 */
import type { Client } from 'pg';
import type { ValidRecord } from '../../model/types';
import { UserError } from '../../model/types';
import { connectClient, resolveConnectionUrl, scrub, secretNamesOf } from '../../sources/postgres/connection';
import { bindNamed, compileNamedSql, type NamedSql } from '../../support/postgres/namedSql';
import { toParameter } from '../../support/postgres/values';
import type { ActionLocation } from '../actionKind';
import { errorMessage } from '../attempt';
import type { CompiledAction, RenderContext, RenderResult } from '../compiledAction';
import { invalidAction } from '../compiledAction';
import { isStatementError } from './sqlErrors';
import type { SqlActionSpec } from './sqlSchema';
import type { SqlPreview } from './sqlPreview';

/** A statement the database refused as a whole, as a located UserError. */
export function statementError(error: unknown, url: string, location: ActionLocation | undefined): UserError {
  const message = `PostgreSQL refuses the statement: ${scrub(errorMessage(error), url)}`;
  if (!location) return new UserError(`action.statement: ${message}`);
  return new UserError(`the action of job ${location.cell} is invalid`, [
    { ...location, field: 'action.statement', message },
  ]);
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
  const compiled = compileNamedSql(spec.statement.replace(/[\s;]+$/, ''));
  if (!compiled.ok) {
    return invalidAction(spec, [
      { field: 'statement', message: `column ${compiled.column}: ${compiled.message}` },
    ]);
  }
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
    render,
    async preview(record, ctx) {
      const rendered = render(record);
      if (!rendered.ok || rendered.preview.type !== 'sql') return rendered;
      const url = resolveConnectionUrl(spec.url, ctx, 'action.url');
      const client = await connectClient(url);
      try {
        prepared ??= prepareOnce(client, sql, url, location);
        await prepared;
        return { ok: true, preview: await dryRunOne(client, spec, sql, rendered.preview, record, ctx, url) };
      } finally {
        await client.end().catch(() => undefined);
      }
    },
  };
}

/** PREPARE checks syntax, tables, columns and privileges without running anything; then DEALLOCATE. */
async function prepareOnce(
  client: Client,
  sql: NamedSql,
  url: string,
  location?: ActionLocation,
): Promise<void> {
  try {
    await client.query(`PREPARE backfill_check AS ${sql.text}`);
    await client.query('DEALLOCATE backfill_check');
  } catch (error) {
    throw statementError(error, url, location);
  }
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
        const result = await client.query(sql.text, bound.values);
        return { ...preview, rowsAffected: result.rowCount ?? 0 };
      } finally {
        await client.query('ROLLBACK');
      }
    }
    const plan = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${sql.text}`, bound.values);
    return { ...preview, plan: plan.rows.map((row) => row['QUERY PLAN']) };
  } catch (error) {
    if (isStatementError(error)) throw statementError(error, url, undefined);
    // A value the database refuses for this record (a type it cannot convert): shown, not fatal.
    return { ...preview, plan: [`PostgreSQL refuses this record: ${scrub(errorMessage(error), url)}`] };
  }
}
