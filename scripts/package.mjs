// `npm run package`: builds the extension and packs it into backfill-runbooks-<version>.vsix with vsce,
// offline. The package must work with no node_modules: everything is bundled into dist/ except esbuild,
// which the runner uses at run time to load JS/TS module actions and which cannot be bundled (its JS API
// starts a native binary found by a path relative to itself). So this machine's esbuild package and its
// platform binary are staged into dist/node_modules/, where Node resolves `esbuild` from the bundles,
// and the .vsix is marked for this platform (`--target`): it installs only where that binary runs.
//
//   npm run package [-- --out <file.vsix>]
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { parseArgs } from 'node:util';

const require = createRequire(import.meta.url);
const ROOT = path.resolve(import.meta.dirname, '..');
const STAGE = path.join(ROOT, 'out/vsix');
/** What the extension cannot start without; the build skips entries whose source is missing. */
const REQUIRED = [
  'dist/extension.js',
  'dist/cli.js',
  'dist/cli-main.js',
  'dist/control.js',
  'dist/renderer.js',
  'dist/sql-wasm.wasm',
];
/** Manifest fields for npm and development only: vsce would run `vscode:prepublish` from `scripts`. */
const DEVELOPMENT_FIELDS = ['scripts', 'devDependencies', 'dependencies', 'bin'];

const { values } = parseArgs({ options: { out: { type: 'string' } } });
const manifest = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const out = path.resolve(values.out ?? path.join(ROOT, `${manifest.name}-${manifest.version}.vsix`));
const target = vsceTarget();

run(process.execPath, [path.join(ROOT, 'scripts/build.mjs')], ROOT);
const missing = REQUIRED.filter((file) => !existsSync(path.join(ROOT, file)));
if (missing.length > 0) fail(`the build did not produce ${missing.join(', ')}`);

rmSync(STAGE, { recursive: true, force: true });
mkdirSync(STAGE, { recursive: true });
for (const entry of ['README.md', 'LICENSE', 'CHANGELOG.md', 'dist', 'media']) {
  if (existsSync(path.join(ROOT, entry)))
    cpSync(path.join(ROOT, entry), path.join(STAGE, entry), { recursive: true });
}
writeFileSync(path.join(STAGE, 'package.json'), JSON.stringify(shippedManifest(manifest), null, 2) + '\n');
stageEsbuild(path.join(STAGE, 'dist/node_modules'));

mkdirSync(path.dirname(out), { recursive: true });
const vsce = path.join(path.dirname(require.resolve('@vscode/vsce/package.json')), 'vsce');
run(
  process.execPath,
  [
    vsce,
    'package',
    ...['--no-dependencies', '--target', target, '--out', out],
    ...['--ignoreFile', path.join(ROOT, '.vscodeignore')],
    // Until the project has a public repository: relative README links stay relative.
    ...(manifest.repository ? [] : ['--allow-missing-repository', '--no-rewrite-relative-links']),
  ],
  STAGE,
);
console.log(`packaged ${path.relative(process.cwd(), out)} (${target}, ${megabytes(statSync(out).size)})`);

/** The manifest as installed: what VS Code reads, without what only npm and contributors use. */
function shippedManifest(source) {
  const shipped = { ...source };
  for (const field of DEVELOPMENT_FIELDS) delete shipped[field];
  return shipped;
}

/** esbuild's JS API and the binary package it looks up for this platform, as npm installed them. */
function stageEsbuild(into) {
  const esbuildDir = path.dirname(require.resolve('esbuild/package.json'));
  const { version } = JSON.parse(readFileSync(path.join(esbuildDir, 'package.json'), 'utf8'));
  const binaryPackage = `@esbuild/${process.platform}-${process.arch}`;
  let binaryDir;
  try {
    binaryDir = path.dirname(require.resolve(`${binaryPackage}/package.json`, { paths: [esbuildDir] }));
  } catch {
    fail(`${binaryPackage} is not installed: run npm ci on the platform you package for`);
  }
  cpSync(esbuildDir, path.join(into, 'esbuild'), { recursive: true });
  cpSync(binaryDir, path.join(into, binaryPackage), { recursive: true });
  // npm's install script replaces bin/esbuild with the binary; without it the JS shim stays, which the
  // API does not use, but a stale one would be confusing in the package.
  rmSync(path.join(into, 'esbuild/bin'), { recursive: true, force: true });
  rmSync(path.join(into, 'esbuild/install.js'), { force: true });
  console.log(`staged esbuild ${version} with ${binaryPackage}`);
}

/** vsce's name for this platform: alpine (musl) differs from linux (glibc), arm is armhf. */
function vsceTarget() {
  const arch = process.arch === 'arm' ? 'armhf' : process.arch;
  if (process.platform !== 'linux') return `${process.platform}-${arch}`;
  const glibc = process.report?.getReport().header.glibcVersionRuntime;
  return `${glibc ? 'linux' : 'alpine'}-${arch}`;
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
