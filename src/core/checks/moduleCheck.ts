/**
 * Checks a record's end state with a JS or TS module: its `verify(record, ctx)` export (or the one the
 * spec names) reads the state however it needs to and returns the verdict. This folder cannot depend on
 * the vscode API.
 *
 * The contract: return `{ ok: true }` when the record is right; `{ ok: false, expected, actual, detail }`
 * when it is wrong; `{ ok: false, missing: true, detail }` when it does not exist. Throwing means the
 * record could not be checked; `retryable: true` on the error asks for a retry.
 */
import path from 'node:path';
import { moduleContext } from '../actions/module/moduleAction';
import { MODULE_EXTENSIONS } from '../actions/module/moduleLoader';
import { failed } from '../actions/attempt';
import { createModuleExecutor } from '../actions/module/moduleExecutor';
import type { AttemptResult, CheckVerdict } from '../model/attemptResult';
import type { CompiledCheck } from './compiledCheck';
import { checked, invalidCheck } from './compiledCheck';
import { describeValue } from './expectations';
import { z } from 'zod';
import type { CheckKind } from './checkKind';

/** Calls a JS or TS module's verify function, which returns the verdict itself. */
const ModuleCheckSchema = z.strictObject({
  type: z.literal('module'),
  /**
   * A JS or TS file, relative to the runbook, whose export returns `{ ok: true }` or `{ ok: false,
   * expected, actual, detail }` (`missing: true` for a record that does not exist).
   */
  path: z.string().min(1),
  export: z.string().default('verify'),
});

export type ModuleCheckSpec = z.infer<typeof ModuleCheckSchema>;

/** Compiles a module check: the module is loaded when the check is opened, once per run. */
export function compileModuleCheck(spec: ModuleCheckSpec): CompiledCheck {
  if (!MODULE_EXTENSIONS.includes(path.extname(spec.path))) {
    return invalidCheck([{ field: 'path', message: `use a ${MODULE_EXTENSIONS.join(', ')} file` }]);
  }
  return {
    issues: [],
    references: { recordFields: [], envNames: [], secretNames: [] },
    open: async ({ baseDir, context }) => {
      const verify = await createModuleExecutor(spec, baseDir);
      return {
        prepare: (record) => ({
          ok: true,
          value: (opts) =>
            verify.execute(record.fields, moduleContext(record, context, false), opts, readVerdict),
        }),
        setConcurrency: () => undefined,
        close: () => Promise.resolve(),
      };
    },
  };
}

/** Reads what `verify` returned; anything but the contract means the check itself is broken. */
function readVerdict(returned: unknown, durationMs: number): AttemptResult {
  const verdict = toVerdict(returned);
  if (verdict) return checked(durationMs, verdict);
  return failed(durationMs, {
    kind: 'handler-error',
    retryable: false,
    message: `verify must return { ok: true } or { ok: false, expected, actual, detail }; it returned ${describeValue(returned)}`,
  });
}

function toVerdict(returned: unknown): CheckVerdict | undefined {
  if (returned === null || typeof returned !== 'object') return undefined;
  const result = returned as Record<string, unknown>;
  if (result.ok === true) return { status: 'verified' };
  if (result.ok !== false) return undefined;
  const status = result.missing === true ? 'missing' : 'mismatch';
  const detail =
    typeof result.detail === 'string' && result.detail.trim() !== ''
      ? result.detail
      : status === 'missing'
        ? 'no such record'
        : `expected ${describeValue(result.expected)}, got ${describeValue(result.actual)}`;
  return {
    status,
    detail,
    ...(result.expected !== undefined ? { expected: result.expected } : {}),
    ...(result.actual !== undefined ? { actual: result.actual } : {}),
  };
}

export const moduleCheck: CheckKind<typeof ModuleCheckSchema> = {
  type: 'module',
  schema: ModuleCheckSchema,
  compile: (spec) => compileModuleCheck(spec),
  describe: (spec) => `module ${spec.path} (export ${spec.export})`,
  fieldHelp: {
    path: 'JS or TS module relative to the runbook whose export returns `{ ok: true }` or `{ ok: false, … }`.',
    export: 'Name of the verify export (default `verify`).',
  },
};
