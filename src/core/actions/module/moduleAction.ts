/**
 * Compiles a module action spec. This file cannot depend on the vscode API.
 *
 * Rendering only names the module and export. Previewing loads the module (once) and calls its optional
 * `dryRun(record, ctx)` export; the handler itself is never called here.
 */
import path from 'node:path';
import type { ModuleActionSpec } from './moduleSchema';
import type { ValidRecord } from '../../model/types';
import type { CompiledAction, ModulePreview, RenderContext, RenderResult } from '../compiledAction';
import { invalidAction } from '../compiledAction';
import type { ModuleContext, ModuleFunction, ModuleLoadResult } from './moduleLoader';
import { MODULE_EXTENSIONS, loadActionModule } from './moduleLoader';

/** Compiles a module action; `baseDir` is the runbook's folder, which `spec.path` is relative to. */
export function compileModuleAction(spec: ModuleActionSpec, opts: { baseDir: string }): CompiledAction {
  if (!MODULE_EXTENSIONS.includes(path.extname(spec.path))) {
    return invalidAction(spec, [{ field: 'path', message: `use a ${MODULE_EXTENSIONS.join(', ')} file` }]);
  }
  // Loaded on the first preview, then reused: evaluating a module's top level once is enough.
  let loading: Promise<ModuleLoadResult> | undefined;
  // Rendering names the module and export only, the same for every record: one result, shared.
  const rendered: RenderResult = Object.freeze({ ok: true, preview: Object.freeze(describeModule(spec)) });
  const render = (): RenderResult => rendered;
  const preview = async (record: ValidRecord, ctx: RenderContext): Promise<RenderResult> => {
    loading ??= loadActionModule(spec, opts.baseDir);
    const loaded = await loading;
    if (!loaded.ok) return { ok: false, reason: loaded.message };
    const dryRun = loaded.module.dryRun;
    return dryRun ? previewWithDryRun(spec, dryRun, record, ctx) : render();
  };
  const references = { recordFields: [], envNames: [], secretNames: [] };
  return { spec, issues: [], references, render, preview };
}

function describeModule(spec: ModuleActionSpec): ModulePreview {
  return { type: 'module', path: spec.path, export: spec.export };
}

async function previewWithDryRun(
  spec: ModuleActionSpec,
  dryRun: ModuleFunction,
  record: ValidRecord,
  ctx: RenderContext,
): Promise<RenderResult> {
  let returned: unknown;
  try {
    // A copy, so a dryRun that mutates its argument cannot change the record the engine goes on to use.
    returned = await dryRun(structuredClone(record.fields), moduleContext(record, ctx, true));
  } catch (error) {
    return { ok: false, reason: `dryRun of ${spec.path} threw: ${errorMessage(error)}` };
  }
  const preview = describeModule(spec);
  if (returned === undefined) return { ok: true, preview };
  try {
    // Previews are stored and shown, so what dryRun returned must survive a JSON round trip.
    preview.dryRun = JSON.parse(JSON.stringify(returned)) as unknown;
  } catch (error) {
    return {
      ok: false,
      reason: `dryRun of ${spec.path} returned a value that is not JSON-serializable: ${errorMessage(error)}`,
    };
  }
  return { ok: true, preview };
}

/** The context a module function receives; execution builds it the same way with `dryRun: false`. */
export function moduleContext(record: ValidRecord, ctx: RenderContext, dryRun: boolean): ModuleContext {
  const context: ModuleContext = {
    key: record.key,
    line: record.line,
    dryRun,
    env: { ...ctx.env },
    secret: (name) => {
      const lookup = ctx.secrets.resolve(name);
      if (!lookup.ok) throw new Error(lookup.reason);
      return lookup.value;
    },
  };
  if (ctx.idempotencyKey !== undefined) context.idempotencyKey = ctx.idempotencyKey;
  return context;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
