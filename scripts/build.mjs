// One esbuild call per kind of output. Node bundles (the CLI, the demo, the extension) keep `vscode`
// external (the editor provides it). The `backfill` launcher loads the CLI's bundles (below). The notebook
// renderer runs in the editor's webview: a browser ES module. Beside the bundles go the WebAssembly they
// load at run time: sql.js's (the ledger) and esbuild's with its browser API (TypeScript handler modules,
// see src/core/actions/wasmEsbuild.ts), so dist/ needs no node_modules and no native binary.
// An entry whose source does not exist yet is skipped, so the build works while it is being written.
import * as esbuild from 'esbuild';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const watch = process.argv.includes('--watch');

const present = (entries) =>
  Object.fromEntries(Object.entries(entries).filter(([, file]) => existsSync(file)));

const node = {
  entryPoints: present({
    'cli-main': 'src/cli/main.ts',
    control: 'src/cli/commands/controlCommand.ts',
    demo: 'src/demo/demo.ts',
    extension: 'src/extension/extension.ts',
    // The thread that folds a run's journal into its ledger (src/core/ledger/foldThread.ts starts it).
    foldWorker: 'src/core/ledger/foldWorker.ts',
  }),
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  sourcemap: true,
  // pg tries `require('pg-native')` only when asked for it (never here); leaving it external keeps the
  // bundle free of an optional native module that is not installed.
  external: ['vscode', 'pg-native'],
  logLevel: 'warning',
};

/**
 * `backfill` (dist/cli.js) is a launcher: `backfill control` loads only dist/control.js, so a stop typed
 * during a run acts at once; every other command loads the whole command line, dist/cli-main.js. Its two
 * lazy imports become plain requires of those sibling bundles instead of being bundled into it.
 */
const LAUNCHER = path.join('src', 'cli', 'bin.ts');
const LAUNCHED = { './main': './cli-main.js', './commands/controlCommand': './control.js' };
const launcher = {
  ...node,
  entryPoints: present({ cli: LAUNCHER }),
  // require, not import(): Node's ES module loader would add its own start-up and scan the bundle.
  supported: { 'dynamic-import': false },
  plugins: [
    {
      name: 'launcher-loads-siblings',
      setup(build) {
        build.onResolve({ filter: /^\.\// }, ({ path: imported, importer }) =>
          importer.endsWith(LAUNCHER) && LAUNCHED[imported]
            ? { path: LAUNCHED[imported], external: true }
            : undefined,
        );
      },
    },
  ],
};

const renderer = {
  entryPoints: present({ renderer: 'media/renderer/index.ts' }),
  outdir: 'dist',
  bundle: true,
  platform: 'browser',
  format: 'esm',
  target: 'es2022',
  sourcemap: true,
  logLevel: 'warning',
};

mkdirSync('dist', { recursive: true });
copyFileSync(require.resolve('sql.js/dist/sql-wasm.wasm'), 'dist/sql-wasm.wasm');
copyFileSync(require.resolve('esbuild-wasm/esbuild.wasm'), 'dist/esbuild.wasm');
copyFileSync(require.resolve('esbuild-wasm/lib/browser.js'), 'dist/esbuild-browser.js');

const builds = [node, launcher, renderer].filter((options) => Object.keys(options.entryPoints).length > 0);
if (watch) {
  for (const options of builds) await (await esbuild.context(options)).watch();
} else {
  await Promise.all(builds.map((options) => esbuild.build(options)));
}
