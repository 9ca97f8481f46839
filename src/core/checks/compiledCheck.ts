/**
 * What compiling a verify cell's check produces, shared by the HTTP, command, module and SQLite checks.
 * This folder cannot depend on the vscode API.
 *
 * A check is compiled once (template syntax, expectations), opened once per run (connections, the
 * module, the database file), then rendered and performed for each record. Performing it never throws:
 * a verdict (verified, mismatch, missing) or a failure saying why the record could not be checked.
 */
import type { ActionIssue, RenderContext } from '../actions/compiledAction';
import type { Rendered, TemplateReferences } from '../actions/template';
import type { AttemptOptions } from '../actions/attempt';
import type { AttemptResult, CheckVerdict } from '../model/attemptResult';
import type { ValidRecord } from '../model/types';

/** Checks one record once: its verdict, or a failure the runner may retry. Never throws. */
export type RecordCheck = (opts: AttemptOptions) => Promise<AttemptResult>;

/** A check opened for a run. */
export interface OpenCheck {
  /** Renders the check of one record, or says why the record cannot be checked (it is then rejected). */
  prepare(record: ValidRecord): Rendered<RecordCheck>;
  /** Follows a live concurrency change (HTTP connections per host). */
  setConcurrency(concurrency: number): void;
  close(): Promise<void>;
}

/** What opening a check needs. */
export interface CheckOpenOptions {
  /** The runbook's folder: module and database paths are relative to it, and commands run in it. */
  baseDir: string;
  concurrency: number;
  /** The run's environment vars and secrets; checks send no idempotency key. */
  context: Pick<RenderContext, 'env' | 'secrets'>;
  /** Where the check is written, so errors the target finds in it (a SQL query) point at its line. */
  location?: { file: string; cell: string; line: number };
}

/** A check spec compiled once. */
export interface CompiledCheck {
  /** Problems in the spec itself, each at its field (`url`, `expect.body.amount`, `params[0]`). */
  readonly issues: readonly ActionIssue[];
  /** Record fields, env names and secrets the check references. */
  readonly references: TemplateReferences;
  /** Opens what checking needs; throws a UserError (the run does not start) when it cannot. */
  open(options: CheckOpenOptions): Promise<OpenCheck>;
}

/** A check that could be made, with its verdict. */
export function checked(durationMs: number, verdict: CheckVerdict, httpStatus?: number): AttemptResult {
  return httpStatus === undefined
    ? { ok: true, durationMs, verdict }
    : { ok: true, durationMs, httpStatus, verdict };
}

/** A compiled check whose spec has problems: it cannot be opened. */
export function invalidCheck(issues: ActionIssue[]): CompiledCheck {
  return {
    issues,
    references: { recordFields: [], envNames: [], secretNames: [] },
    open: () => Promise.reject(new Error('internal error: an invalid check was opened')),
  };
}
