// `npm run package`: builds the extension and packs it into backfill-runbooks-<version>.vsix with vsce,
// offline. The package must work with no node_modules: everything is bundled into dist/, beside the
// WebAssembly the bundles load (sql.js's, and esbuild's, which compiles JS/TS module actions at run
// time). It holds no native binary, so one universal .vsix serves every platform VS Code runs on.
//
//   npm run package [-- --out <file.vsix>]
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { extensionReadme } from './extensionReadme.mjs';

const require = createRequire(import.meta.url);
const ROOT = path.resolve(import.meta.dirname, '..');
const STAGE = path.join(ROOT, 'out/vsix');
/** What the extension cannot start without; the build skips entries whose source is missing. */
const REQUIRED = [
  'dist/extension.js',
  'dist/cli.js',
  'dist/cli-main.js',
  'dist/control.js',
  'dist/foldWorker.js',
  'dist/renderer.js',
  'dist/sql-wasm.wasm',
  'dist/esbuild.wasm',
  'dist/esbuild-browser.js',
];
/**
 * Manifest fields for npm and development only: vsce would run `vscode:prepublish` from `scripts`, and
 * refuses `files` (the npm tarball's list) beside .vscodeignore.
 */
const DEVELOPMENT_FIELDS = ['scripts', 'devDependencies', 'dependencies', 'bin', 'files'];

const { values } = parseArgs({ options: { out: { type: 'string' } } });
const manifest = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const out = path.resolve(values.out ?? path.join(ROOT, `${manifest.name}-${manifest.version}.vsix`));

run(process.execPath, [path.join(ROOT, 'scripts/build.mjs')], ROOT);
const missing = REQUIRED.filter((file) => !existsSync(path.join(ROOT, file)));
if (missing.length > 0) fail(`the build did not produce ${missing.join(', ')}`);

rmSync(STAGE, { recursive: true, force: true });
mkdirSync(STAGE, { recursive: true });
for (const entry of ['LICENSE', 'CHANGELOG.md', 'dist', 'media']) {
  if (existsSync(path.join(ROOT, entry)))
    cpSync(path.join(ROOT, entry), path.join(STAGE, entry), { recursive: true });
}
// The extension's page shows the README without links to repository files it does not ship.
writeFileSync(
  path.join(STAGE, 'README.md'),
  extensionReadme(readFileSync(path.join(ROOT, 'README.md'), 'utf8')),
);
writeFileSync(path.join(STAGE, 'package.json'), JSON.stringify(shippedManifest(manifest), null, 2) + '\n');

mkdirSync(path.dirname(out), { recursive: true });
const vsce = path.join(path.dirname(require.resolve('@vscode/vsce/package.json')), 'vsce');
run(
  process.execPath,
  [
    vsce,
    'package',
    ...['--no-dependencies', '--out', out],
    ...['--ignoreFile', path.join(ROOT, '.vscodeignore')],
    // Until the project has a public repository there is nothing to rewrite relative links against:
    // the staged README has none left (scripts/extensionReadme.mjs).
    ...(manifest.repository ? [] : ['--allow-missing-repository', '--no-rewrite-relative-links']),
  ],
  STAGE,
);
console.log(
  `packaged ${path.relative(process.cwd(), out)} (every platform, ${megabytes(statSync(out).size)})`,
);

/** The manifest as installed: what VS Code reads, without what only npm and contributors use. */
function shippedManifest(source) {
  const shipped = { ...source };
  for (const field of DEVELOPMENT_FIELDS) delete shipped[field];
  return shipped;
}

function run(command, args, cwd) {
  try {
    execFileSync(command, args, { cwd, stdio: 'inherit' });
  } catch {
    fail(`${path.basename(args[0] ?? command)} failed`);
  }
}

function megabytes(bytes) {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function fail(message) {
  console.error(`package: ${message}`);
  process.exit(1);
}
