/**
 * What compiling an action spec produces, shared by the HTTP, command and module compilers.
 * This file cannot depend on the vscode API.
 */
import type { SecretResolver } from '../secrets/secrets';
import type { ValidRecord } from '../model/types';
import type { AmqpPreview } from './amqp/amqpPreview';
import type { SqlPreview } from './sql/sqlPreview';
import type { TemplateReferences } from './template';

/** Exactly what an HTTP action would send for one record. */
export interface HttpPreview {
  type: 'http';
  method: string;
  url: string;
  headers: Record<string, string>;
  /** The serialized JSON body; absent when the action has none. */
  body?: string;
}

/** Exactly what a command action would run for one record. */
export interface CommandPreview {
  type: 'command';
  mode: 'record' | 'batch';
  argv: string[];
  /** The record's fields as one JSON line, as written to the process's stdin. */
  stdin: string;
  /** Variables added to the process environment. */
  env: Record<string, string>;
}

/** The module an action would call, and what its optional `dryRun` export said about the record. */
export interface ModulePreview {
  type: 'module';
  path: string;
  export: string;
  dryRun?: unknown;
}

/** A plain, JSON-serializable description of what an action would do for one record. */
export type ActionPreview = HttpPreview | CommandPreview | ModulePreview | SqlPreview | AmqpPreview;

/** What rendering needs besides the record. */
export interface RenderContext {
  /** The selected environment's `vars`, for `${env:NAME}`. */
  env: Record<string, string>;
  secrets: SecretResolver;
  /** Sent as the `Idempotency-Key` header (HTTP) or `BACKFILL_IDEMPOTENCY_KEY` (commands). */
  idempotencyKey?: string;
  /** The environment is production: a SQL dry run never runs a statement there, even rolled back. */
  production?: boolean;
}

/** A record's preview, or why the record is refused. */
export type RenderResult = { ok: true; preview: ActionPreview } | { ok: false; reason: string };

/** A problem in the action spec, at a field path such as `headers.Authorization` or `body.items[0]`. */
export interface ActionIssue {
  field: string;
  message: string;
}

/** Any kind's action spec, as far as what is shared by every kind goes. */
export interface AnyActionSpec {
  readonly type: string;
}

/** An action spec compiled once, rendered for every record. */
export interface CompiledAction {
  readonly spec: AnyActionSpec;
  /**
   * Problems in the spec itself (template syntax, header names, ...). When there are any, every record
   * is refused with them as the reason, so a dry run reports them instead of crashing.
   */
  readonly issues: readonly ActionIssue[];
  /** Record fields, env names and secrets the spec references, for `check` and up-front resolution. */
  readonly references: TemplateReferences;
  /**
   * Record fields every record must have, and the spec's field that names them (a SQL statement's
   * parameters): a source known to lack one is refused before anything is read or sent
   * (job/requiredFields.ts), instead of rejecting every record the same way.
   */
  readonly requiredFields?: { field: string; names: readonly string[] };
  /** Pure: renders what would be sent, with no network, process or module code involved. */
  render(record: ValidRecord, ctx: RenderContext): RenderResult;
  /**
   * {@link render} plus, for module actions, what the module's `dryRun` export returns. Never calls a
   * handler, never sends or spawns anything.
   */
  preview(record: ValidRecord, ctx: RenderContext): Promise<RenderResult>;
}

/** A compiled action whose preview is its rendering (every type but module). */
export function renderOnlyAction(
  spec: AnyActionSpec,
  references: TemplateReferences,
  render: CompiledAction['render'],
): CompiledAction {
  return {
    spec,
    issues: [],
    references,
    render,
    preview: (record, ctx) => Promise.resolve(render(record, ctx)),
  };
}

/** A compiled action for a spec with issues: it refuses every record with them. */
export function invalidAction(spec: AnyActionSpec, issues: ActionIssue[]): CompiledAction {
  const reason = `the action is invalid: ${issues.map((issue) => `${issue.field}: ${issue.message}`).join('; ')}`;
  const refuse = (): RenderResult => ({ ok: false, reason });
  return {
    spec,
    issues,
    references: { recordFields: [], envNames: [], secretNames: [] },
    render: refuse,
    preview: () => Promise.resolve(refuse()),
  };
}
