// One esbuild call per kind of output. Node bundles (the CLI, the demo, the extension) keep `vscode`
// external (the editor provides it), and esbuild itself (a native binary, used at run time to load
// TypeScript handler modules). The notebook renderer runs in the editor's webview: a browser ES module.
// An entry whose source does not exist yet is skipped, so the build works while it is being written.
import * as esbuild from 'esbuild';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const watch = process.argv.includes('--watch');

const present = (entries) =>
  Object.fromEntries(Object.entries(entries).filter(([, file]) => existsSync(file)));

const node = {
  entryPoints: present({
    cli: 'src/cli/bin.ts',
    demo: 'src/demo/demo.ts',
    extension: 'src/extension/extension.ts',
  }),
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  sourcemap: true,
  external: ['vscode', 'esbuild'],
  logLevel: 'warning',
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

const builds = [node, renderer].filter((options) => Object.keys(options.entryPoints).length > 0);
if (watch) {
  for (const options of builds) await (await esbuild.context(options)).watch();
} else {
  await Promise.all(builds.map((options) => esbuild.build(options)));
}
