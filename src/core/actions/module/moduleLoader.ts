/**
 * Loads the JS or TS module of a module action (or verify check). This file cannot depend on the vscode
 * API. Dry runs and execution share it; loading only evaluates the module's top level and reads its
 * exports, it never calls the handler.
 *
 * Every file, JS or TS, CommonJS or ESM, goes through one esbuild bundle to CommonJS in memory: relative
 * imports (TS included) are inlined, packages stay `require`d from the module's own folder, and nothing
 * is written to disk. esbuild runs as WebAssembly (wasmEsbuild.ts), so no package carries a native binary.
 */
import Module from 'node:module';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { UserError } from '../../model/types';
import { loadWasmEsbuild, localFiles, releaseWasmEsbuild } from '../wasmEsbuild';

/** What a module's handler and `dryRun` receive besides the record's fields. */
export interface ModuleContext {
  /** The record's key (the source's `key` field). */
  key: string;
  /** The record's line in the source. */
  line: number;
  /** True while previewing: the function must not change anything. */
  dryRun: boolean;
  /** The selected environment's `vars`. */
  env: Readonly<Record<string, string>>;
  idempotencyKey?: string;
  /** Returns a secret's value; throws with a message saying how to set it when it is missing. */
  secret(name: string): string;
}

/**
 * A handler, `dryRun` or `verify` export. It receives the record's fields, the same object a command
 * action reads from stdin, and the context.
 */
export type ModuleFunction = (fields: Record<string, unknown>, ctx: ModuleContext) => unknown;

/** A loaded module: its main export (the handler) and its optional `dryRun` export. */
export interface LoadedActionModule {
  absolutePath: string;
  main: ModuleFunction;
  dryRun: ModuleFunction | undefined;
}

export type ModuleLoadResult = { ok: true; module: LoadedActionModule } | { ok: false; message: string };

/**
 * How a module is loaded. `bundled`: compiled with esbuild together with its local imports, afresh each
 * time, so an editor that stays open sees every edit. `native`: an `.mjs` or `.cjs` file is imported by
 * Node itself, which saves a run the start of esbuild (seconds, and its WebAssembly memory); a run is a
 * process of its own, so nothing stale is reused. Other files are bundled either way: TypeScript needs
 * compiling, and a `.js` file may be ESM or CommonJS depending on a package.json.
 */
export type ModuleLoading = 'bundled' | 'native';

const NATIVE_EXTENSIONS = ['.mjs', '.cjs'];

/** File extensions esbuild can load as a module action. */
export const MODULE_EXTENSIONS = ['.js', '.mjs', '.cjs', '.ts', '.mts', '.cts'];

/**
 * Loads `spec.path` (relative to `baseDir`, the runbook's folder) and checks that `spec.export` is a
 * function, without calling it. Failures are values with a message for the user.
 */
export async function loadActionModule(
  spec: { path: string; export: string },
  baseDir: string,
  how: ModuleLoading = 'bundled',
): Promise<ModuleLoadResult> {
  const absolutePath = path.resolve(baseDir, spec.path);
  const exports =
    how === 'native' && NATIVE_EXTENSIONS.includes(path.extname(absolutePath))
      ? await importNatively(absolutePath, spec.path)
      : await loadModuleExports(absolutePath, spec.path);
  if (!exports.ok) return exports;
  const main = exports.value[spec.export];
  if (typeof main !== 'function') {
    return { ok: false, message: `module ${spec.path} has no function export "${spec.export}"` };
  }
  const dryRun = exports.value.dryRun;
  if (dryRun !== undefined && typeof dryRun !== 'function') {
    return { ok: false, message: `module ${spec.path}: the "dryRun" export must be a function` };
  }
  return {
    ok: true,
    module: { absolutePath, main: main as ModuleFunction, dryRun: dryRun as ModuleFunction | undefined },
  };
}

/**
 * Loads the module and returns its optional `dryRun` export: the only function a dry run may call.
 * Throws a {@link UserError} (a message written for the user) when the module cannot be loaded or lacks
 * its main export; use {@link loadActionModule} to get that as a value instead.
 */
export async function loadModuleDryRun(
  spec: { path: string; export: string },
  baseDir: string,
): Promise<ModuleFunction | undefined> {
  const loaded = await loadActionModule(spec, baseDir);
  if (!loaded.ok) throw new UserError(loaded.message);
  return loaded.module.dryRun;
}

type Loaded<T> = { ok: true; value: T } | { ok: false; message: string };

async function loadModuleExports(
  absolutePath: string,
  shownPath: string,
): Promise<Loaded<Record<string, unknown>>> {
  if (!MODULE_EXTENSIONS.includes(path.extname(absolutePath))) {
    return { ok: false, message: `module ${shownPath}: use a ${MODULE_EXTENSIONS.join(', ')} file` };
  }
  if (!(await isFile(absolutePath))) {
    return { ok: false, message: `module ${shownPath} not found (looked for ${absolutePath})` };
  }
  const bundled = await bundleToCommonJs(absolutePath, shownPath);
  if (!bundled.ok) return bundled;
  try {
    return { ok: true, value: evaluateCommonJs(bundled.value, absolutePath) };
  } catch (error) {
    return { ok: false, message: `module ${shownPath} failed to load: ${errorMessage(error)}` };
  }
}

/** `import()` as Node does it, kept out of reach of the bundler and of TypeScript's CommonJS output. */
const importModule = new Function('specifier', 'return import(specifier)') as (
  specifier: string,
) => Promise<Record<string, unknown>>;

async function importNatively(
  absolutePath: string,
  shownPath: string,
): Promise<Loaded<Record<string, unknown>>> {
  if (!(await isFile(absolutePath))) {
    return { ok: false, message: `module ${shownPath} not found (looked for ${absolutePath})` };
  }
  try {
    // The modification time in the URL: a module edited since an earlier import in this process is new.
    const { mtimeMs } = await stat(absolutePath);
    const namespace = await importModule(`${pathToFileURL(absolutePath).href}?mtime=${mtimeMs}`);
    // A CommonJS module's exports are its default export; named ones only where Node can detect them.
    const commonJs = path.extname(absolutePath) === '.cjs' ? namespace.default : undefined;
    const exports = typeof commonJs === 'object' && commonJs !== null ? commonJs : {};
    return { ok: true, value: { ...exports, ...namespace } as Record<string, unknown> };
  } catch (error) {
    return { ok: false, message: `module ${shownPath} failed to load: ${errorMessage(error)}` };
  }
}

async function isFile(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}

async function bundleToCommonJs(absolutePath: string, shownPath: string): Promise<Loaded<string>> {
  let esbuild: Awaited<ReturnType<typeof loadWasmEsbuild>>;
  try {
    // Started lazily: only runbooks with module actions pay for starting esbuild.
    esbuild = await loadWasmEsbuild();
  } catch (error) {
    return {
      ok: false,
      message: `module ${shownPath}: esbuild, which loads modules, is unavailable: ${errorMessage(error)}`,
    };
  }
  try {
    const result = await esbuild.build({
      entryPoints: [absolutePath],
      bundle: true,
      plugins: [localFiles],
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      write: false,
      logLevel: 'silent',
    });
    const output = result.outputFiles[0];
    return output
      ? { ok: true, value: output.text }
      : { ok: false, message: `module ${shownPath}: esbuild produced no output` };
  } catch (error) {
    return { ok: false, message: `module ${shownPath} does not compile: ${buildErrorMessage(error)}` };
  } finally {
    releaseWasmEsbuild();
  }
}

interface EsbuildMessage {
  text: string;
  location: { file: string; line: number; column: number } | null;
}

function buildErrorMessage(error: unknown): string {
  const errors = (error as { errors?: EsbuildMessage[] }).errors;
  if (!Array.isArray(errors) || errors.length === 0) return errorMessage(error);
  return errors
    .map(({ text, location }) =>
      location ? `${location.file}:${location.line}:${location.column + 1}: ${text}` : text,
    )
    .join('; ');
}

/** Node's CommonJS module internals used to evaluate bundled code; stable for years, though untyped. */
interface CompilableModule {
  filename: string;
  paths: string[];
  exports: Record<string, unknown>;
  _compile(code: string, filename: string): void;
}

/**
 * Runs CommonJS code as if it were `filename`: its `require` and any `import()` left in it resolve
 * packages next to the module, exactly as a module Node loaded itself would.
 */
function evaluateCommonJs(code: string, filename: string): Record<string, unknown> {
  const module = new Module(filename) as unknown as CompilableModule;
  module.filename = filename;
  module.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(
    path.dirname(filename),
  );
  module._compile(code, filename);
  return module.exports;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
