/**
 * An action that needs record fields the source cannot give (a SQL statement's `:order_no` when the query
 * returns no such column) would reject every record the same way: it is refused up front instead, at the
 * action's field, before anything is read or sent. This folder cannot depend on the vscode API.
 */
import type { CompiledAction } from '../actions/compiledAction';
import { UserError, type Issue } from '../model/types';
import type { OpenSourceOptions } from '../sources/sourceKind';
import { sourceColumns, type SourceSpec } from '../sources/sourceKinds';

/** Where the job's action is written. */
export interface ActionAt {
  file: string;
  cell: string;
  line: number;
}

/**
 * With `fields` declared, the action's required fields must be among them (or be the key): `check`
 * finds a misspelt parameter without a database. Undeclared fields otherwise pass through, so a source
 * that declares none is not judged here.
 */
export function undeclaredFieldIssues(source: SourceSpec, action: CompiledAction, at: ActionAt): Issue[] {
  const declared = Object.keys(source.fields);
  const required = action.requiredFields;
  if (!required || declared.length === 0) return [];
  const known = new Set([...declared, source.key]);
  const missing = required.names.filter((name) => !known.has(name));
  if (missing.length === 0) return [];
  return [
    issue(
      at,
      required.field,
      `uses ${names(missing)}, not among the source's declared fields (${[...known].join(', ')}): declare ${missing.length > 1 ? 'them' : 'it'} under fields, or fix the name`,
    ),
  ];
}

/**
 * Throws a located UserError when the source's records cannot have a field the action requires: the
 * source's columns (a database query, probed without reading rows), else its declared fields.
 */
export async function requireRecordFields(
  source: SourceSpec,
  action: CompiledAction,
  at: ActionAt,
  options: OpenSourceOptions,
): Promise<void> {
  const issues = undeclaredFieldIssues(source, action, at);
  const required = action.requiredFields;
  if (issues.length === 0 && required && required.names.length > 0) {
    const columns = await sourceColumns(source, options);
    const missing = columns ? required.names.filter((name) => !columns.includes(name)) : [];
    if (missing.length > 0) {
      issues.push(
        issue(
          at,
          required.field,
          `uses ${names(missing)}, but the source's query returns no such column (it returns ${columns!.join(', ')}): fix the name, or return the column from the query`,
        ),
      );
    }
  }
  if (issues.length > 0) throw new UserError(`the action of job ${at.cell} is invalid`, issues);
}

function issue(at: ActionAt, field: string, message: string): Issue {
  return { file: at.file, line: at.line, cell: at.cell, field: `action.${field}`, message };
}

function names(list: readonly string[]): string {
  return list.map((name) => `:${name}`).join(', ');
}
