/**
 * esbuild as WebAssembly, running inside this process: the compiler of JS/TS module actions. This file
 * cannot depend on the vscode API.
 *
 * Why not the `esbuild` package: it starts a native binary, so a package carrying it (the .vsix, the npm
 * tarball) runs only on the platform it was built on. Why not esbuild-wasm's Node API: it starts
 * `node` from the PATH as a child process, which a VS Code user need not have (the extension runs the
 * runner with the editor's own runtime). Its browser API runs the same WebAssembly in this thread; it
 * has no file system, so the plugin below resolves and reads the module's files itself.
 *
 * The browser API (esbuild-wasm/lib/browser.js) and esbuild.wasm are copied beside the bundles by the
 * build (dist/esbuild-browser.js, dist/esbuild.wasm) and found in node_modules when run from source.
 */
import * as fs from 'node:fs';
import Module from 'node:module';
import * as path from 'node:path';
import type * as EsbuildApi from 'esbuild-wasm';
import { findBundledFile } from '../support/bundledFile';

type Esbuild = typeof EsbuildApi;

/** Node's WebAssembly global, which this project's TypeScript libraries (no DOM) do not declare. */
const WebAssemblyApi = (
  globalThis as unknown as { WebAssembly: { Module: new (bytes: Uint8Array) => unknown } }
).WebAssembly;

let loading: Promise<Esbuild> | undefined;

/** esbuild-wasm's API, started once per process. */
export function loadWasmEsbuild(): Promise<Esbuild> {
  loading ??= start().catch((error: unknown) => {
    loading = undefined;
    throw error;
  });
  return loading;
}

/**
 * Drops this process's esbuild once its modules are compiled: its WebAssembly memory (well over 100 MB)
 * is then garbage, instead of staying beside a run of millions of records. The next compile starts it again.
 */
export function releaseWasmEsbuild(): void {
  loading = undefined;
}

async function start(): Promise<Esbuild> {
  const api = findFile('esbuild-browser.js', 'esbuild-wasm/lib/browser.js');
  const wasm = findFile('esbuild.wasm', 'esbuild-wasm/esbuild.wasm');
  const module = new Module(api) as unknown as {
    filename: string;
    exports: Esbuild;
    _compile(code: string, filename: string): void;
  };
  module.filename = api;
  // The browser API reads the global `self`, which Node lacks: give it one in the module's own scope
  // rather than a global one that handler modules would see.
  module._compile(`var self = globalThis;\n${fs.readFileSync(api, 'utf8')}`, api);
  const esbuild = module.exports;
  const wasmModule = new WebAssemblyApi.Module(
    fs.readFileSync(wasm),
  ) as EsbuildApi.InitializeOptions['wasmModule'];
  await esbuild.initialize({ ...(wasmModule ? { wasmModule } : {}), worker: false });
  return esbuild;
}

function findFile(besideBundle: string, inPackage: string): string {
  const found = findBundledFile(besideBundle, inPackage);
  if (!found) throw new Error(`${besideBundle} not found beside ${__dirname}: reinstall backfill`);
  return found;
}

/** Extensions tried, in order, for an import written without one (`./orders` → `./orders.ts`). */
const RESOLVE_EXTENSIONS = ['.ts', '.tsx', '.mts', '.cts', '.js', '.mjs', '.cjs', '.json'];
/** TypeScript's convention: `./orders.js` in a TS file means `./orders.ts`. */
const TS_FOR_JS: Record<string, string[]> = { '.js': ['.ts', '.tsx'], '.mjs': ['.mts'], '.cjs': ['.cts'] };
const LOADERS: Record<string, EsbuildApi.Loader> = {
  '.ts': 'ts',
  '.mts': 'ts',
  '.cts': 'ts',
  '.tsx': 'tsx',
  '.js': 'js',
  '.mjs': 'js',
  '.cjs': 'js',
  '.jsx': 'jsx',
  '.json': 'json',
};

/**
 * The file system for a bundle: relative and absolute imports are files read from disk (inlined into
 * the bundle), everything else — packages, Node's built-ins — stays a `require` resolved at run time
 * from the module's own folder, as esbuild's `packages: 'external'` does.
 */
export const localFiles: EsbuildApi.Plugin = {
  name: 'backfill-local-files',
  setup(build) {
    build.onResolve({ filter: /.*/ }, ({ path: request, resolveDir }) => {
      if (!request.startsWith('.') && !path.isAbsolute(request)) return { path: request, external: true };
      const wanted = path.resolve(resolveDir, request);
      const file = resolveFile(wanted);
      return file ? { path: file } : { errors: [{ text: `cannot find ${request} (looked for ${wanted})` }] };
    });
    build.onLoad({ filter: /.*/ }, ({ path: file }) => ({
      contents: fs.readFileSync(file),
      loader: LOADERS[path.extname(file)] ?? 'js',
      resolveDir: path.dirname(file),
    }));
  },
};

function resolveFile(wanted: string): string | undefined {
  const extension = path.extname(wanted);
  const candidates = [
    wanted,
    ...(TS_FOR_JS[extension] ?? []).map((ts) => wanted.slice(0, -extension.length) + ts),
    ...RESOLVE_EXTENSIONS.map((ext) => wanted + ext),
    ...RESOLVE_EXTENSIONS.map((ext) => path.join(wanted, `index${ext}`)),
  ];
  return candidates.find(isFile);
}

function isFile(file: string): boolean {
  try {
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}
