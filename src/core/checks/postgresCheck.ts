/**
 * Checks a record's end state with a query on PostgreSQL: `:name` parameters bound (never spliced), run
 * in a read-only transaction, the first row judged against the expected columns. A pool of the run's
 * concurrency serves the checks. This folder cannot depend on the vscode API.
 */
import type { Pool, PoolClient } from 'pg';
import { z } from 'zod';
import type { AttemptOptions } from '../actions/attempt';
import { errorMessage, failed, startStopwatch } from '../actions/attempt';
import { compileJsonTemplate } from '../actions/jsonTemplate';
import { sqlFailure } from '../actions/sql/sqlErrors';
import { mergeReferences } from '../actions/template';
import type { AttemptResult } from '../model/attemptResult';
import { UserError } from '../model/types';
import {
  connectionError,
  createPool,
  describeUrl,
  growPool,
  resolveConnectionUrl,
  scrub,
  secretNamesOf,
} from '../sources/postgres/connection';
import { extendedQuery } from '../support/postgres/sqlText';
import { bindNamed, compileNamedSql, type NamedSql } from '../support/postgres/namedSql';
import { toParameter } from '../support/postgres/values';
import type { CheckKind } from './checkKind';
import type { CheckOpenOptions, CompiledCheck, OpenCheck } from './compiledCheck';
import { checked, invalidCheck } from './compiledCheck';
import type { CompiledExpectations, ExpectedFields } from './expectations';
import { compareFields, compileExpectations, expectedFieldsSchema, toleranceSchema } from './expectations';

const PostgresCheckSchema = z.strictObject({
  type: z.literal('postgres'),
  /** The connection URL: `${secret:NAME}` (one value per environment), never written in the runbook. */
  url: z.string().min(1),
  /** One query with `:name` parameters: bound, never put in the SQL. Its first row is judged. */
  query: z.string().min(1),
  /**
   * Values for the parameters by name; string leaves are templates (`${record:FIELD}`, `${env:NAME}`). A
   * parameter not listed here is the record's field of the same name.
   */
  params: z.record(z.string(), z.unknown()).default({}),
  expect: z
    .strictObject({
      /** Values of the first row's columns. No row means the record is missing. */
      columns: expectedFieldsSchema.default({}),
      tolerance: toleranceSchema,
    })
    .default({ columns: {}, tolerance: 0 }),
});

export type PostgresCheckSpec = z.infer<typeof PostgresCheckSchema>;

export function compilePostgresCheck(spec: PostgresCheckSpec): CompiledCheck {
  const sql = compileNamedSql(spec.query.replace(/[\s;]+$/, ''));
  const params = compileJsonTemplate(spec.params, 'params');
  const expectations = compileExpectations(spec.expect.columns, 'expect.columns');
  if (!sql.ok || !params.ok || !expectations.ok) {
    return invalidCheck([
      ...(sql.ok ? [] : [{ field: 'query', message: `column ${sql.column}: ${sql.message}` }]),
      ...(params.ok ? [] : params.issues),
      ...(expectations.ok ? [] : expectations.issues),
    ]);
  }
  const expected = expectations.expectations;
  const recordFields = sql.sql.names.filter((name) => !Object.hasOwn(spec.params, name));
  return {
    issues: [],
    references: mergeReferences([
      params.template.references(),
      expected.references,
      { recordFields, envNames: [], secretNames: secretNamesOf(spec.url) },
    ]),
    open: async ({ context, concurrency, location }) => {
      const url = resolveConnectionUrl(spec.url, context, 'check.url');
      const pool = await openPool(url, concurrency, sql.sql, location);
      const open: OpenCheck = {
        prepare: (record) => {
          const values = { record: record.fields, env: context.env, secrets: context.secrets };
          const rendered = params.template.render(values);
          if (!rendered.ok) return { ok: false, reason: `params: ${rendered.reason}` };
          const given = rendered.value as Record<string, unknown>;
          const bound = bindNamed(sql.sql, (name) =>
            Object.hasOwn(given, name)
              ? { found: true, value: toParameter(given[name]) }
              : Object.hasOwn(record.fields, name)
                ? { found: true, value: toParameter(record.fields[name]) }
                : { found: false },
          );
          if (!bound.ok) {
            return {
              ok: false,
              reason: `the query uses ${bound.missing.map((n) => `:${n}`).join(', ')} but neither params nor the record has it`,
            };
          }
          const fields = expected.render(values);
          if (!fields.ok) return fields;
          return {
            ok: true,
            value: (opts) =>
              queryOnce(
                pool,
                url,
                sql.sql,
                bound.values,
                expected,
                fields.value,
                spec.expect.tolerance,
                opts,
              ),
          };
        },
        setConcurrency: (size) => growPool(pool, size),
        close: () => pool.end().catch(() => undefined),
      };
      return open;
    },
  };
}

/** Connects and PREPAREs the query once: an unreachable database or a bad query stops the run before it starts. */
async function openPool(
  url: string,
  size: number,
  sql: NamedSql,
  location: CheckOpenOptions['location'],
): Promise<Pool> {
  const pool = createPool(url, size);
  try {
    let client: PoolClient;
    try {
      // Not `.catch`: a malformed URL throws from connect() itself, before any promise exists.
      client = await pool.connect();
    } catch (error) {
      throw connectionError(error, url);
    }
    try {
      await client.query(extendedQuery(`PREPARE backfill_check AS ${sql.text}`));
      await client.query('DEALLOCATE backfill_check');
    } catch (error) {
      const message = `PostgreSQL at ${describeUrl(url)} refuses the query: ${scrub(errorMessage(error), url)}`;
      if (!location) throw new UserError(`check.query: ${message}`);
      throw new UserError(`the check of cell ${location.cell} is invalid`, [
        { ...location, field: 'check.query', message },
      ]);
    } finally {
      client.release();
    }
    return pool;
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw error;
  }
}

async function queryOnce(
  pool: Pool,
  url: string,
  sql: NamedSql,
  values: unknown[],
  expectations: CompiledExpectations,
  expected: ExpectedFields,
  tolerance: number,
  opts: AttemptOptions,
): Promise<AttemptResult> {
  const elapsed = startStopwatch();
  let client;
  try {
    client = await pool.connect();
  } catch (error) {
    return failed(elapsed(), sqlFailure(error, url));
  }
  try {
    // Read-only: a check can never change what it checks, whatever its query says.
    await client.query('BEGIN READ ONLY');
    await client.query(`SET LOCAL statement_timeout = ${Math.floor(opts.timeoutMs)}`);
    const result = await client.query(extendedQuery(sql.text, values));
    await client.query('COMMIT');
    const row = result.rows[0] as Record<string, unknown> | undefined;
    if (!row) return checked(elapsed(), { status: 'missing', detail: 'the query returned no row' });
    if (expectations.empty) return checked(elapsed(), { status: 'verified' });
    return checked(elapsed(), compareFields(expected, row, tolerance));
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    return failed(elapsed(), sqlFailure(error, url));
  } finally {
    client.release();
  }
}

export const postgresCheck: CheckKind<typeof PostgresCheckSchema> = {
  type: 'postgres',
  schema: PostgresCheckSchema,
  compile: (spec) => compilePostgresCheck(spec),
  describe: (spec) => `query ${JSON.stringify(spec.query)} on PostgreSQL`,
  fieldHelp: {
    url: 'Connection URL, `${secret:NAME}` (one value per environment); never written in the runbook.',
    query: 'One query with `:name` parameters, run read-only; its first row is judged. No row means missing.',
    params:
      'Values for `:name` parameters (templates); a name not listed binds the record’s field of that name.',
    expect: 'What the first row must hold: `columns`, `tolerance` for numbers.',
  },
};
