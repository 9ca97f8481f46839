// Proves the harness end to end: builds the probe extension and its suite into .vscode-test/out/,
// runs the suite inside code-server, then drives the same notebook through the UI.
//
//   npx tsx test/extension/probe/runProbe.ts
import { cp, mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { bundleForExtensionHost } from '../harness/bundle';
import { REPO_ROOT } from '../harness/codeServer';
import { runExtensionTests } from '../harness/runInCodeServer';
import { runUiProbe } from './uiProbe';

const OUT = path.join(REPO_ROOT, '.vscode-test/out/probe');
const REPORTS = path.join(REPO_ROOT, 'test-output/extension-probe');

/** The extension folder VS Code loads must hold the manifest and its `main`, so both are staged together. */
async function stageExtension(): Promise<string> {
  const dir = path.join(OUT, 'extension');
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  await cp(path.join(__dirname, 'package.json'), path.join(dir, 'package.json'));
  await bundleForExtensionHost(path.join(__dirname, 'extension.ts'), path.join(dir, 'extension.js'));
  return dir;
}

/** A fresh copy per run, so executing cells never touches the fixture in the repository. */
async function stageWorkspace(): Promise<string> {
  const dir = path.join(OUT, 'workspace');
  await rm(dir, { recursive: true, force: true });
  await cp(path.join(__dirname, 'workspace'), dir, { recursive: true });
  return dir;
}

async function main(): Promise<void> {
  const extensionPath = await stageExtension();
  const testsPath = path.join(OUT, 'suite/index.js');
  await bundleForExtensionHost(path.join(__dirname, 'suite/index.ts'), testsPath);

  const result = await runExtensionTests({
    extensionPath,
    testsPath,
    workspace: await stageWorkspace(),
    resultFile: path.join(REPORTS, 'result.json'),
    timeoutMs: 120_000,
    screenshotDir: REPORTS,
  });
  if (result.failed > 0) {
    process.exitCode = 1;
    return;
  }
  const screenshot = path.join(REPORTS, 'notebook-output.png');
  await runUiProbe({ extensionPath, workspace: await stageWorkspace(), screenshot });
  console.log(
    `UI probe: ran the cell from its Run button; screenshot ${path.relative(REPO_ROOT, screenshot)}`,
  );
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
