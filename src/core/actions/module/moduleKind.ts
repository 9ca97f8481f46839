/**
 * The module action: a JS or TS file beside the runbook whose handler is called once per record (and
 * whose optional `dryRun` export shows what it would do). This folder cannot depend on the vscode API.
 */
import type { ActionKind } from '../actionKind';
import type { ModulePreview } from '../compiledAction';
import { recordModeExecutor } from '../executor';
import { compileModuleAction, moduleContext } from './moduleAction';
import { createModuleExecutor } from './moduleExecutor';
import { moduleActionSchema } from './moduleSchema';

export const moduleAction: ActionKind<typeof moduleActionSchema, ModulePreview> = {
  type: 'module',
  schema: moduleActionSchema,
  compile: (spec, opts) => compileModuleAction(spec, opts),
  createExecutor: async (spec, opts) => {
    const handler = await createModuleExecutor(spec, opts.baseDir);
    return recordModeExecutor(opts, {
      execute: (_preview, record, ctx, attempt) =>
        handler.execute(record.fields, moduleContext(record, ctx, false), attempt),
    });
  },
  recordsPerAttempt: () => 1,
  describe: (spec) => `module ${spec.path} (export ${spec.export})`,
  previewLines: (send) => [
    `module ${send.path} export ${send.export}`,
    `dryRun: ${JSON.stringify(send.dryRun)}`,
  ],
  fieldHelp: {
    path: 'JS or TS module relative to the runbook, exporting the handler (and optionally `dryRun`).',
    export: 'Name of the handler export (default `handler`).',
  },
};
