/**
 * The entry point of action previews: compile an action spec once, then render exactly what it would
 * send for each record. This file cannot depend on the vscode API.
 *
 * Rendering has no side effect: no request is sent, no process spawned, no handler called. A record that
 * cannot be rendered safely is refused with a reason, so a dry run counts it instead of crashing.
 */
import type { ActionSpec } from '../format/schemas';
import type { CompiledAction } from './compiledAction';
import { compileCommandAction } from './commandAction';
import { compileHttpAction } from './httpAction';
import { compileModuleAction } from './moduleAction';
import { compileSqlAction, type SqlLocation } from './sql/sqlAction';
import { compileAmqpAction } from './amqp/amqpAction';

export type {
  ActionIssue,
  ActionPreview,
  CommandPreview,
  CompiledAction,
  HttpPreview,
  ModulePreview,
  RenderContext,
  RenderResult,
} from './compiledAction';

export { loadActionModule, loadModuleDryRun } from './moduleLoader';
export type { ModuleContext, ModuleFunction } from './moduleLoader';
export { moduleContext } from './moduleAction';
export { listTemplateReferences } from './template';
export type { TemplateReferences } from './template';

/**
 * Compiles an action spec once. Problems in the spec come back in `issues`, each naming its field
 * (`url`, `headers.Authorization`, `body.items[0]`, `argv[2]`, `env.TOKEN`, `path`); such an action
 * refuses every record with them. `baseDir` is the runbook's folder: module paths are relative to it.
 */
export function compileAction(
  spec: ActionSpec,
  opts: { baseDir: string; location?: SqlLocation },
): CompiledAction {
  switch (spec.type) {
    case 'http':
      return compileHttpAction(spec);
    case 'command':
      return compileCommandAction(spec);
    case 'module':
      return compileModuleAction(spec, opts);
    case 'sql':
      return compileSqlAction(spec, opts.location);
    case 'amqp':
      return compileAmqpAction(spec);
  }
}
