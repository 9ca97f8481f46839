// One esbuild call per file the extension host loads, as in the extension's own build: `vscode` is
// provided by the editor, and mocha is resolved from the repository's node_modules (bundles live in
// .vscode-test/out/ inside the repository) rather than bundled with its dynamic requires.
import { build } from 'esbuild';
import path from 'node:path';
import { REPO_ROOT } from './codeServer';

export async function bundleForExtensionHost(entry: string, outfile: string): Promise<void> {
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    sourcemap: true,
    external: ['vscode', 'mocha'],
    logLevel: 'warning',
  });
}

/** Where the bundle of a source file goes: the same relative path under .vscode-test/out/, as .js. */
export function bundlePathFor(source: string): string {
  const relative = path.relative(REPO_ROOT, path.resolve(source)).replace(/\.ts$/, '.js');
  return path.join(REPO_ROOT, '.vscode-test/out', relative);
}
