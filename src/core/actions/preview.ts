/**
 * The entry point of action previews: compile an action spec once, then render exactly what it would
 * send for each record. This file cannot depend on the vscode API.
 *
 * Rendering has no side effect: no request is sent, no process spawned, no handler called. A record that
 * cannot be rendered safely is refused with a reason, so a dry run counts it instead of crashing.
 */
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

export { loadActionModule, loadModuleDryRun } from './module/moduleLoader';
export type { ModuleContext, ModuleFunction } from './module/moduleLoader';
export { moduleContext } from './module/moduleAction';
export { listTemplateReferences } from './template';
export type { TemplateReferences } from './template';

export { compileAction } from './actionKinds';
