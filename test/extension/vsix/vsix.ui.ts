// The packaged extension as a user gets it: `npm run package` builds the .vsix (offline), code-server
// installs it with --install-extension, and the installed copy — with no node_modules anywhere near it —
// runs dry runs on its own (sql.js's wasm, esbuild's wasm for a TypeScript module action) and in the
// notebook. It carries no native binary: one package for every platform.
//
//   npm run test:vsix   (needs scripts/install-code-server.sh once)
import { strict as assert } from 'node:assert';
import { execFileSync, spawn } from 'node:child_process';
import { cp, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../harness/codeServer';
import { openVsCode, type VsCodeSession } from '../harness/runInCodeServer';
import { findCodeCell, openRunbook, outputFrame, runCell, screenshotOutput } from '../ui/notebookPage';

const VSIX = path.join(REPO_ROOT, '.vscode-test/out/vsix/backfill-runbooks.vsix');
const CODE_SERVER = path.join(REPO_ROOT, '.vscode-test/code-server/node_modules/.bin/code-server');
const SCREENSHOTS = path.join(REPO_ROOT, 'test-output/vsix');

describe('the packaged extension (.vsix)', function () {
  this.timeout(120_000);
  /** Outside the repository, so nothing can resolve from its node_modules. */
  let scratch: string;
  let installed: string;

  before(async function () {
    this.timeout(300_000);
    execFileSync(process.execPath, [path.join(REPO_ROOT, 'scripts/package.mjs'), '--out', VSIX], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    scratch = await mkdtemp(path.join(os.tmpdir(), 'backfill-vsix-'));
  });

  after(async () => {
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('installs with code-server --install-extension: the bundle, the runner, the wasm, nothing else', async () => {
    const extensions = path.join(scratch, 'extensions');
    await installVsix(scratch, extensions);
    const folders = (await readdir(extensions)).filter((name) => name.startsWith('backfill-runbooks.'));
    assert.equal(folders.length, 1, `one installed extension, found ${folders.join(', ')}`);
    installed = path.join(extensions, folders[0] as string);
    const files = await listFiles(installed);
    for (const required of [
      'package.json',
      'LICENSE.txt',
      'dist/extension.js',
      'dist/cli.js',
      'dist/renderer.js',
      'dist/sql-wasm.wasm',
      'dist/esbuild.wasm',
      'dist/esbuild-browser.js',
    ]) {
      assert.ok(files.includes(required), `${required} is installed`);
    }
    assert.deepEqual(
      files.filter((file) => /(^|\/)node_modules\/|@esbuild\/|\.node$/.test(file)),
      [],
      'no node_modules, no platform esbuild package, no native addon',
    );
    const natives: string[] = [];
    for (const file of files) {
      if (isNativeExecutable(await readFile(path.join(installed, file)))) natives.push(file);
    }
    assert.deepEqual(natives, [], 'no native executable of any platform (ELF, Mach-O, PE)');
    // The extension's page shows this README: no link may point at a repository file it does not ship.
    const readmeFile = files.find((file) => file.toLowerCase() === 'readme.md');
    assert.ok(readmeFile, 'the README is installed');
    const readme = await readFile(path.join(installed, readmeFile), 'utf8');
    const links = [...readme.matchAll(/(?<!!)\[[^\]\n]+\]\(([^)\s]+)\)/g)].map((m) => m[1]!);
    assert.deepEqual(
      links.filter((target) => !/^(https?:|mailto:|#)/.test(target)),
      [],
      "the extension page's README links only the web and its own headings",
    );
    assert.deepEqual(
      files.filter(
        (file) => /^(src|test|media\/renderer)\/|\.map$|\.ts$/.test(file) && !file.endsWith('.d.ts'),
      ),
      [],
      'no sources, tests or source maps',
    );
  });

  it('runs a dry run with the installed runner alone: sql.js wasm and a TypeScript module action', async () => {
    const workspace = await copyOfRunbooks(scratch, 'cli');
    const stdout = execFileSync(
      process.execPath,
      [
        path.join(installed, 'dist/cli.js'),
        'dry-run',
        'sqlite-source.backfill',
        '--json',
        '--no-write-result',
      ],
      // No PATH: the runner must not need a `node` of its own (VS Code users may have none).
      { cwd: workspace, encoding: 'utf8', env: { PATH: path.join(scratch, 'empty'), HOME: scratch } },
    );
    const reports = JSON.parse(stdout) as {
      counts: { total: number };
      preview: { send: { type: string; dryRun?: unknown } }[];
      ledger?: string;
    }[];
    const report = reports[0];
    assert.equal(report?.counts.total, 120, 'records read from the SQLite source through sql.js');
    assert.deepEqual(report?.preview[0]?.send, {
      type: 'module',
      path: 'handlers/reprice-subscription.ts',
      export: 'handler',
      dryRun: { monthly: 18 },
    });
    assert.ok(report?.ledger?.startsWith(workspace), 'the ledger (sql.js) was written beside the runbook');
  });

  describe('in code-server', () => {
    let session: VsCodeSession;

    before(async function () {
      this.timeout(180_000);
      session = await openVsCode({
        workspace: await copyOfRunbooks(scratch, 'ui'),
        vsixFiles: [VSIX],
        env: { ORDERS_API_TOKEN: 'vsix-test-token' },
      });
    });

    after(async () => {
      await session?.stop();
    });

    afterEach(async function () {
      if (this.currentTest?.state !== 'failed') return;
      await session?.page
        .screenshot({ path: path.join(SCREENSHOTS, `failure-${this.currentTest.title.slice(0, 40)}.png`) })
        .catch(() => undefined);
    });

    it('opens a runbook as a notebook', async () => {
      const editor = await openRunbook(session.page, 'demo.backfill');
      await editor
        .locator('.code-cell-row')
        .filter({ hasText: 'name: resend-order-confirmations' })
        .first()
        .waitFor();
    });

    it('dry-runs the demo from the Run button and renders the preview', async () => {
      const { page } = session;
      await runCell(await findCodeCell(page, 'seed: 7'));
      const output = outputFrame(page).locator('.bf-dry-run');
      await output.waitFor({ timeout: 60_000 });
      assert.equal(await output.locator('[data-stat="valid"] .bf-stat-value').textContent(), '497');
      assert.deepEqual(await output.locator('.bf-list tbody tr').first().locator('td').allTextContents(), [
        '43',
        'ORD-100042',
        'field amount: expected a number, got "12,5"',
      ]);
      await screenshotOutput(page, output, path.join(SCREENSHOTS, 'installed-demo-dry-run.png'));
    });
  });
});

/** code-server's own installer, into a folder of this test's (the harness's is removed with its server). */
async function installVsix(scratch: string, extensions: string): Promise<void> {
  const args = [
    ...['--config', path.join(scratch, 'config.yaml'), '--user-data-dir', path.join(scratch, 'user-data')],
    ...['--extensions-dir', extensions, '--install-extension', VSIX],
  ];
  const child = spawn(CODE_SERVER, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, EXTENSIONS_GALLERY: '{}' },
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  assert.equal(code, 0, `code-server --install-extension failed:\n${output}`);
  assert.match(output, /was successfully installed/);
}

async function copyOfRunbooks(scratch: string, name: string): Promise<string> {
  const dir = path.join(scratch, `runbooks-${name}`);
  await cp(path.join(REPO_ROOT, 'runbooks'), dir, { recursive: true });
  return dir;
}

async function listFiles(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(root, path.join(entry.parentPath, entry.name)).split(path.sep).join('/'))
    .sort();
}

/** Whether the bytes start like a native executable or library: ELF, Mach-O (thin or universal), PE. */
function isNativeExecutable(bytes: Buffer): boolean {
  const magic = bytes.subarray(0, 4).toString('hex');
  return (
    magic === '7f454c46' ||
    ['feedface', 'feedfacf', 'cefaedfe', 'cffaedfe', 'cafebabe'].includes(magic) ||
    bytes.subarray(0, 2).toString('latin1') === 'MZ'
  );
}
