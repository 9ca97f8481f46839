/**
 * Checks a record's end state with a query over a SQLite file (through sql.js). Record values reach the
 * query only as bound parameters — never as SQL text — and the database is opened query-only on an
 * in-memory copy, so a check can neither inject nor write. This folder cannot depend on the vscode API.
 *
 * The file is read once, when the verification starts: the run checks that snapshot. A re-check (a new
 * run) reads it again.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { BindParams, SqlValue, Statement } from 'sql.js';
import { compileJsonTemplate } from '../actions/jsonTemplate';
import { mergeReferences, type Rendered } from '../actions/template';
import { errorMessage, failed, startStopwatch } from '../actions/attempt';
import type { AttemptResult } from '../model/attemptResult';
import { loadSqlJsForUser, openQueryOnly } from '../sources/sqliteSource';
import { UserError } from '../model/types';
import type { CompiledCheck, OpenCheck } from './compiledCheck';
import { checked, invalidCheck } from './compiledCheck';
import type { CompiledExpectations, ExpectedFields } from './expectations';
import { compareFields, compileExpectations } from './expectations';
import { z } from 'zod';
import type { CheckKind } from './checkKind';
import { expectedFieldsSchema, toleranceSchema } from './expectations';

/** Queries a SQLite file per record, with record values bound as parameters, and judges the first row. */
const SqliteCheckSchema = z.strictObject({
  type: z.literal('sqlite'),
  /** A SQLite file, relative to the runbook; read once when the verification starts, never written. */
  path: z.string().min(1),
  /** One statement with `?` (or `:name`) parameters: record values are bound, never put in the SQL. */
  query: z.string().min(1),
  /** Values for the parameters: a list for `?`, a map for `:name`; string leaves are templates. */
  params: z.union([z.array(z.unknown()), z.record(z.string(), z.unknown())]).default([]),
  expect: z
    .strictObject({
      /** Values of the first row's columns. No row means the record is missing. */
      columns: expectedFieldsSchema.default({}),
      tolerance: toleranceSchema,
    })
    .default({ columns: {}, tolerance: 0 }),
});

export type SqliteCheckSpec = z.infer<typeof SqliteCheckSchema>;

/** Compiles the parameters and the expected columns of a SQLite check. */
export function compileSqliteCheck(spec: SqliteCheckSpec): CompiledCheck {
  const params = compileJsonTemplate(spec.params, 'params');
  const expectations = compileExpectations(spec.expect.columns, 'expect.columns');
  if (!params.ok || !expectations.ok) {
    return invalidCheck([
      ...(params.ok ? [] : params.issues),
      ...(expectations.ok ? [] : expectations.issues),
    ]);
  }
  const expected = expectations.expectations;
  return {
    issues: [],
    references: mergeReferences([params.template.references(), expected.references]),
    open: async ({ baseDir, context }) => {
      const statement = await prepareQuery(path.resolve(baseDir, spec.path), spec.query);
      const open: OpenCheck = {
        prepare: (record) => {
          const values = { record: record.fields, env: context.env, secrets: context.secrets };
          const rendered = params.template.render(values);
          const bound = rendered.ok ? toBindParams(rendered.value) : rendered;
          if (!bound.ok) return { ok: false, reason: `params: ${bound.reason}` };
          const fields = expected.render(values);
          if (!fields.ok) return fields;
          return {
            ok: true,
            value: () =>
              Promise.resolve(
                queryOnce(statement.query, bound.value, expected, fields.value, spec.expect.tolerance),
              ),
          };
        },
        setConcurrency: () => undefined,
        close: () => {
          statement.close();
          return Promise.resolve();
        },
      };
      return open;
    },
  };
}

/** Reads the file, opens it query-only and compiles the query once; a problem stops the run before it starts. */
async function prepareQuery(file: string, query: string): Promise<{ query: Statement; close(): void }> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    throw new UserError(`cannot read the check's SQLite file ${file}: ${errorMessage(error)}`);
  }
  const db = openQueryOnly(await loadSqlJsForUser(), bytes, file);
  try {
    const statement = db.prepare(query);
    return {
      query: statement,
      close: () => {
        statement.free();
        db.close();
      },
    };
  } catch (error) {
    db.close();
    throw new UserError(`the check's query fails on ${file}: ${errorMessage(error)} (query: ${query})`);
  }
}

/**
 * Runs the query for one record. sql.js is synchronous, so binding, stepping and resetting the one
 * shared statement cannot interleave with another record's check.
 */
function queryOnce(
  statement: Statement,
  params: BindParams,
  expectations: CompiledExpectations,
  expected: ExpectedFields,
  tolerance: number,
): AttemptResult {
  const elapsed = startStopwatch();
  try {
    statement.bind(params);
    if (!statement.step())
      return checked(elapsed(), { status: 'missing', detail: 'the query returned no row' });
    if (expectations.empty) return checked(elapsed(), { status: 'verified' });
    return checked(elapsed(), compareFields(expected, statement.getAsObject(), tolerance));
  } catch (error) {
    return failed(elapsed(), {
      kind: 'other',
      retryable: false,
      message: `the query failed: ${errorMessage(error)}`,
    });
  } finally {
    statement.reset();
  }
}

/**
 * Parameters as sql.js binds them: a list for `?`, or names for `:name`, `@name` and `$name` (the
 * runbook writes them without the prefix; each is offered with every prefix, and SQLite uses the one
 * the query has).
 */
function toBindParams(value: unknown): Rendered<BindParams> {
  if (Array.isArray(value)) {
    const list: SqlValue[] = [];
    for (const [index, item] of value.entries()) {
      const bound = toSqlValue(item);
      if (!bound.ok) return { ok: false, reason: `[${index}] ${bound.reason}` };
      list.push(bound.value);
    }
    return { ok: true, value: list };
  }
  const named: Record<string, SqlValue> = {};
  for (const [name, item] of Object.entries(value as Record<string, unknown>)) {
    const bound = toSqlValue(item);
    if (!bound.ok) return { ok: false, reason: `${name} ${bound.reason}` };
    const prefixed = /^[:@$]/.test(name) ? [name] : [`:${name}`, `@${name}`, `$${name}`];
    for (const key of prefixed) named[key] = bound.value;
  }
  return { ok: true, value: named };
}

/** Booleans become 1 and 0 (SQLite has no boolean); objects and arrays are bound as their JSON text. */
function toSqlValue(value: unknown): Rendered<SqlValue> {
  if (value === null || typeof value === 'string') return { ok: true, value };
  if (typeof value === 'number') {
    return Number.isFinite(value) ? { ok: true, value } : { ok: false, reason: 'is not a finite number' };
  }
  if (typeof value === 'boolean') return { ok: true, value: value ? 1 : 0 };
  return { ok: true, value: JSON.stringify(value) };
}

export const sqliteCheck: CheckKind<typeof SqliteCheckSchema> = {
  type: 'sqlite',
  schema: SqliteCheckSchema,
  compile: (spec) => compileSqliteCheck(spec),
  describe: (spec) => `query ${JSON.stringify(spec.query)} on ${spec.path}`,
  fieldHelp: {
    path: 'SQLite file, relative to the runbook; read once, never written.',
    query: 'One statement with `?` or `:name` parameters: record values are bound, never put in the SQL.',
    params: 'Values for the parameters: a list for `?`, a map for `:name`; string leaves are templates.',
    expect: 'What the first row must hold: `columns`, `tolerance` for numbers. No row means missing.',
  },
};
